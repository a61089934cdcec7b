"""Structured logging: one JSON object per line, secrets scrubbed, and the chatty Slack libraries kept quiet.

Bolt and slack_sdk log raw request and response bodies at DEBUG — which would include ``--secret-env`` values — so
their loggers stay at INFO or above whatever ``LOG_LEVEL`` says, and the root handlers drop their DEBUG lines too.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bot.redact import redact_line

# Loggers that print request/response bodies at DEBUG.
BODY_LOGGERS = ("slack_bolt", "slack_sdk", "aiohttp.client", "urllib3")

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def scrub(text: str) -> str:
    """Whatever code path tried to log a credential, the line keeps only its shape."""
    return redact_line(text)


# The Slack delivery (trigger_id, event_id) a log line was written for; set around each request's work.
_REQUEST = contextvars.ContextVar[str | None]("deploybot_request", default=None)


@contextlib.contextmanager
def request_context(request_id: str | None) -> Iterator[None]:
    """Every log line written inside carries ``request_id`` (tasks started inside inherit it too)."""
    token = _REQUEST.set(request_id)
    try:
        yield
    finally:
        _REQUEST.reset(token)


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", …extra}``; anything passed in ``extra=`` becomes a field."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = _REQUEST.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return scrub(json.dumps(entry, default=str, ensure_ascii=False))


def configure_logging(level: str) -> None:
    """Send every log line as JSON to stderr at ``level``; called once by the CLI, never at import time."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_body_loggers()


class _DropMisleading(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and, since we hand it a configured client, warns
    at every start that the token "will be unused" — true, and harmless, but it reads like a misconfiguration."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("As you gave `client` as well")


class _QuietBodies(logging.Filter):
    """Drops the body loggers' DEBUG lines at the handler. Their own levels are not enough: Bolt copies the root
    logger's level onto each logger it makes (``slack_bolt.AsyncApp``, with its ``Responding with status: 200 body:
    …`` lines) when the app is built, which is after logging was configured."""

    _PREFIXES = tuple(f"{name}." for name in BODY_LOGGERS)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO:
            return True
        return record.name not in BODY_LOGGERS and not record.name.startswith(self._PREFIXES)


def quiet_body_loggers() -> None:
    for name in BODY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _QuietBodies) for f in handler.filters):
            handler.addFilter(_QuietBodies())
    bolt = logging.getLogger("slack_bolt.AsyncApp")
    if not any(isinstance(f, _DropMisleading) for f in bolt.filters):
        bolt.addFilter(_DropMisleading())
