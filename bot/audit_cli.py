"""``deploybot audit export``: the audit trail as JSON lines (one entry per line, oldest first), for archiving or a
log pipeline. Reads ``REDIS_URL`` through the settings like the bot does."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.audit import AuditLog
from bot.config import load_settings
from bot.errors import ConfigError, DeploybotError
from bot.store import redis_client


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="audit_action", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write the audit trail as JSON lines, oldest first")
    export.add_argument(
        "--since",
        type=since_time,
        default=None,
        metavar="ISO",
        help="only entries recorded at or after this time (ISO 8601, e.g. 2024-05-01 or 2024-05-01T09:30+02:00; "
        "UTC when no offset is given)",
    )
    export.add_argument("--output", type=Path, default=None, metavar="FILE", help="write to FILE instead of stdout")
    export.set_defaults(run=run_export)


def since_time(text: str) -> datetime:
    """``--since``: an ISO 8601 date or time; without an offset it is UTC (an audit export must not depend on the
    time zone of the machine it runs on)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date or time (e.g. 2024-05-01 or 2024-05-01T09:30:00Z)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def run_export(args: argparse.Namespace) -> int:
    settings = load_settings()
    output: Path | None = args.output
    if output is None:
        try:
            asyncio.run(_export(settings.redis_url, args.since, sys.stdout))
        except BrokenPipeError:
            # The reader stopped early (`| head`): not a failure. Point stdout at /dev/null so Python's final flush
            # does not report the broken pipe again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    # Written beside FILE, then renamed over it: a failed export never leaves a file that looks complete.
    try:
        handle, partial = tempfile.mkstemp(dir=output.resolve().parent, prefix=f".{output.name}.", suffix=".partial")
    except OSError as exc:
        raise DeploybotError(f"cannot write {output}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            asyncio.run(_export(settings.redis_url, args.since, file))
        os.replace(partial, output)
    except OSError as exc:
        Path(partial).unlink(missing_ok=True)
        raise DeploybotError(f"cannot write {output}: {exc.strerror}") from None
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return 0


async def _export(redis_url: str, since: datetime | None, out: TextIO) -> None:
    try:
        client = redis_client(redis_url)
    except ValueError as exc:  # redis-py's message names the accepted schemes, never the URL (it may hold a password)
        raise ConfigError(f"REDIS_URL: {exc}") from None
    try:
        async for entry in AuditLog(client).export(since):
            out.write(entry.model_dump_json() + "\n")
        out.flush()
    finally:
        await client.aclose()
