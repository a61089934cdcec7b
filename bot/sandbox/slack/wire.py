"""Slack Web API wire format: merging query, form and JSON arguments, finding the token, typed argument access.

Errors travel as ``SlackError`` and leave as HTTP 200 ``{"ok": false, "error": …}``, like Slack; only 429 differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.sandbox.slack.model import JSON
from bot.sandbox.slack.state import Workspace

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class SlackError(Exception):
    """An API error: ``error`` is Slack's code; ``messages`` become ``response_metadata.messages``."""

    def __init__(self, error: str, *messages: str) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


class RateLimited(Exception):
    """Answered with HTTP 429, ``Retry-After: <seconds>`` and ``{"ok": false, "error": "ratelimited"}``."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"ratelimited, retry after {retry_after}s")
        self.retry_after = retry_after


@dataclass
class ApiRequest:
    method: str
    http_method: str
    args: dict[str, Any]
    token: str | None
    token_in_header: bool


@dataclass
class Call:
    """One Web API call as a method handler sees it."""

    ws: Workspace
    args: dict[str, Any]
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers (auth.test's scopes)


async def parse_request(request: web.Request, method: str) -> ApiRequest:
    args: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        args.update(await _json_body(request))
        # Slack ignores a token inside a JSON body: JSON callers must use the Authorization header.
        args.pop("token", None)
    elif request.content_type in _FORM_TYPES:
        form = await request.post()
        args.update({key: value for key, value in form.items() if isinstance(value, str)})
    header = request.headers.get("Authorization", "")
    header_token = header[len("Bearer ") :].strip() if header.startswith("Bearer ") else ""
    param_token = args.pop("token", None)
    token = header_token or (param_token if isinstance(param_token, str) and param_token else None)
    return ApiRequest(method, request.method, args, token, bool(header_token))


async def _json_body(request: web.Request) -> JSON:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SlackError("invalid_json", f"[ERROR] the body is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise SlackError("json_not_object", "[ERROR] the JSON body must be an object")
    return parsed


def text_arg(args: dict[str, Any], name: str) -> str | None:
    value = args.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise SlackError("invalid_arguments", f"[ERROR] `{name}` must be a string [json-pointer:/{name}]")


def required_arg(args: dict[str, Any], name: str, error: str = "invalid_arguments") -> str:
    value = text_arg(args, name)
    if not value:
        raise SlackError(error, f"[ERROR] missing required field: {name}")
    return value


def bool_arg(args: dict[str, Any], name: str) -> bool:
    value = args.get(name)
    if isinstance(value, bool):
        return value
    return isinstance(value, str | int) and str(value).lower() in {"1", "true"}


def json_arg(args: dict[str, Any], name: str, error: str) -> Any:
    """A structured argument: native in JSON bodies, a JSON string in forms and query strings."""
    value = args.get(name)
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise SlackError(error, f"[ERROR] `{name}` is not valid JSON") from None
    return value


def list_arg(args: dict[str, Any], name: str, error: str) -> list[Any] | None:
    value = json_arg(args, name, error)
    if value is not None and not isinstance(value, list):
        raise SlackError(error, f"[ERROR] `{name}` must be a JSON array [json-pointer:/{name}]")
    return value


def object_arg(args: dict[str, Any], name: str, error: str) -> JSON | None:
    value = json_arg(args, name, error)
    if value is not None and not isinstance(value, dict):
        raise SlackError(error, f"[ERROR] `{name}` must be a JSON object [json-pointer:/{name}]")
    return value
