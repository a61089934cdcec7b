"""Reading request bodies and query parameters into values, with a 400 that says what is wrong."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from aiohttp import web

from bot.sandbox.pulumi.errors import bad_request


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


async def json_body(request: web.Request) -> object:
    raw = await request.read()
    if not raw.strip():
        raise bad_request("a JSON request body is required")
    return decode_json(raw)


def decode_json(raw: bytes) -> object:
    """Strict JSON from bytes (UTF-8, no NaN or Infinity); a 400 ApiError saying what is wrong otherwise."""
    try:
        text = raw.decode("utf-8")  # JSON on the wire is UTF-8 (RFC 8259); no guessing at UTF-16
    except UnicodeDecodeError:
        raise bad_request("the request body is not UTF-8 text") from None
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite)
    except RecursionError:
        raise bad_request("the request body is nested too deeply") from None
    except ValueError as exc:
        raise bad_request(f"malformed JSON in the request body: {exc}") from None


def optional_int(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer, not {raw!r}") from None


def query_int(query: Mapping[str, str], name: str, default: int, low: int, high: int | None = None) -> int:
    value = optional_int(query, name)
    if value is None:
        return default
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise bad_request(f"{name} must be {bounds}, not {value}")
    return value


def query_bool(query: Mapping[str, str], name: str) -> bool:
    raw = query.get(name, "false").lower()
    if raw not in ("true", "false", "1", "0", ""):
        raise bad_request(f"{name} must be true or false, not {query.get(name)!r}")
    return raw in ("true", "1")
