"""Turning an error answer into our exception: a one-line message from any body (JSON, text, HTML, empty), and
the exception class for its status. Nothing here does I/O.
"""

from __future__ import annotations

import html
import json
import re
from http import HTTPStatus

from bot.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PulumiHTTPError,
    RateLimited,
    ServerError,
    Unauthorized,
)

_MAX_DETAIL = 300
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
# Words a 404 message may lead with, mapped to what was missing.
_RESOURCE_WORDS = {
    "settings": "settings",
    "stack": "stack",
    "program": "stack",
    "project": "stack",
    "deployment": "deployment",
    "version": "deployment",
    "organization": "organization",
    "org": "organization",
}
_WORD = re.compile(r"[a-z]+")


def one_line(text: str, limit: int = _MAX_DETAIL) -> str:
    """Whitespace collapsed to single spaces, cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def detail_of(body: bytes, content_type: str = "") -> str:
    """What the server said, as one line: ``message`` of a ``{code, message}`` body, else the text or HTML title.

    HTML from a proxy only needs its title or heading, so a regex is enough here; a full HTML parser would add
    nothing a user could read.
    """
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return ""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return _json_detail(parsed) or one_line(text)
    if isinstance(parsed, str):
        return one_line(parsed)
    if "html" in content_type.lower() or text.lstrip().lower().startswith(("<!doctype", "<html")):
        match = _TITLE.search(text) or _H1.search(text)
        return one_line(html.unescape(_TAG.sub(" ", match.group(1) if match else text)))
    return one_line(text)


def _json_detail(body: dict[str, object]) -> str:
    message = body.get("message") or body.get("error") or ""
    parts = [str(message)] if message else []
    errors = body.get("errors")
    if isinstance(errors, list):
        for item in errors[:3]:
            if isinstance(item, dict):
                described = " ".join(
                    str(item[key]) for key in ("resource", "attribute", "errorType", "customMessage") if item.get(key)
                )
                if described:
                    parts.append(described)
    return one_line("; ".join(parts))


def missing_resource(detail: str, template: str) -> str:
    """What a 404 says was missing: the first resource word of the server's message, else the path's innermost."""
    if "settings" in detail.lower():
        return "settings"
    for word in _WORD.findall(detail.lower()):
        if word in _RESOURCE_WORDS:
            return _RESOURCE_WORDS[word]
    if "{id}" in template or "{version}" in template:
        return "deployment"
    if template.startswith("/api/stacks/"):
        return "settings" if template.endswith("/settings") else "stack"
    return "organization"


def error_for(
    status: int,
    body: bytes,
    *,
    method: str,
    path: str,
    template: str,
    content_type: str = "",
    retry_after: float | None = None,
) -> PulumiHTTPError:
    """The exception for an error answer; its message is one line a person can act on."""
    detail = detail_of(body, content_type) or _reason(status)
    where = f"(HTTP {status} from {method} {path})"
    if status == HTTPStatus.UNAUTHORIZED:
        message = f"Pulumi rejected the access token: {detail} {where}"
        return Unauthorized(status, message, method=method, path=path)
    if status == HTTPStatus.FORBIDDEN:
        return Forbidden(status, f"Not allowed: {detail} {where}", method=method, path=path)
    if status == HTTPStatus.NOT_FOUND:
        resource = missing_resource(detail, template)
        said = detail if resource in detail.lower() else f"{resource} not found: {detail}"
        return NotFound(status, f"{said} {where}", resource=resource, method=method, path=path)
    if status == HTTPStatus.CONFLICT:
        return Conflict(status, f"Conflict: {detail} {where}", method=method, path=path)
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        wait = f"; retry in {retry_after:.0f}s" if retry_after is not None else ""
        message = f"Pulumi is rate-limiting us: {detail}{wait} {where}"
        return RateLimited(status, message, retry_after=retry_after, method=method, path=path)
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return ServerError(status, f"Pulumi had a server error: {detail} {where}", method=method, path=path)
    return BadRequest(status, f"Pulumi refused the request: {detail} {where}", method=method, path=path)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"status {status}"
