"""The ``/_sandbox/`` control API: play the user (command, click, submit, event, raw), read what was recorded
(messages, threads, ephemerals, response_url posts, uploads, views, calls), and steer the workspace.
The package docstring lists every route.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, cast

from aiohttp import web

from bot.sandbox.slack.config import SeedUserGroup
from bot.sandbox.slack.delivery import DELIVERER, DeliveryError, Transport
from bot.sandbox.slack.interactions import INTERACTIONS
from bot.sandbox.slack.methods import base_url
from bot.sandbox.slack.model import JSON, MessageRef
from bot.sandbox.slack.payloads import InteractionError
from bot.sandbox.slack.signing import signed_headers
from bot.sandbox.slack.state import WORKSPACE, Workspace

log = logging.getLogger(__name__)
_TRANSPORTS = ("auto", "http", "socket")


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@web.middleware
async def control_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every mistake in a control request comes back as JSON with a sentence, never a traceback."""
    if not request.path.startswith("/_sandbox/"):
        return await handler(request)
    try:
        return await handler(request)
    except ControlError as error:
        return web.json_response({"ok": False, "error": str(error)}, status=error.status)
    except InteractionError as error:
        return web.json_response({"ok": False, "error": str(error)}, status=400)
    except DeliveryError as error:
        return web.json_response({"ok": False, "error": str(error)}, status=409)
    except web.HTTPException:
        raise
    except Exception as error:  # a bug in the fake: still answer in JSON, and leave the traceback in the log
        log.exception("sandbox control request %s failed", request.path)
        return web.json_response({"ok": False, "error": f"the Slack sandbox failed: {error!r}"}, status=500)


async def _body(request: web.Request) -> JSON:
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise ControlError("the request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ControlError("the request body must be a JSON object")
    return cast(JSON, body)


def _str(body: JSON, key: str, default: str | None = None) -> str:
    value = body.get(key, default)
    if not isinstance(value, str) or not value:
        raise ControlError(f"{key!r} is required and must be a non-empty string")
    return value


def _transport(body: JSON) -> Transport:
    value = body.get("transport", "auto")
    if value not in _TRANSPORTS:
        raise ControlError(f"'transport' must be one of {', '.join(_TRANSPORTS)}")
    return cast(Transport, value)


def _ws(request: web.Request) -> Workspace:
    return request.app[WORKSPACE]


async def command(request: web.Request) -> web.Response:
    body = await _body(request)
    text = body.get("text", "")
    if not isinstance(text, str):
        raise ControlError("'text' must be a string")
    record = await request.app[INTERACTIONS].command(
        _str(body, "user"),
        _str(body, "channel"),
        text,
        _str(body, "command", "/deploy"),
        _transport(body),
        base_url(request, _ws(request)),
    )
    return web.json_response(record)


async def click(request: web.Request) -> web.Response:
    body = await _body(request)
    where = _click_target(_ws(request), body)
    block_id = body.get("block_id")
    if block_id is not None and not isinstance(block_id, str):
        raise ControlError("'block_id' must be a string")
    record = await request.app[INTERACTIONS].click(
        _str(body, "user"),
        where,
        _str(body, "action_id"),
        block_id,
        body.get("value"),
        _transport(body),
        base_url(request, _ws(request)),
    )
    return web.json_response(record)


def _click_target(ws: Workspace, body: JSON) -> MessageRef | str:
    """A view id, or the message clicked: by channel + ts, or by ts alone (ephemeral or channel message)."""
    if "view_id" in body:
        return _str(body, "view_id")
    ts = _str(body, "ephemeral_ts") if "ephemeral_ts" in body else _str(body, "message_ts")
    if "channel" in body:
        return MessageRef(_str(body, "channel"), ts)
    ephemeral = ws.ephemerals.get(ts)
    if ephemeral is not None:
        return MessageRef(ephemeral.channel, ts, ephemeral=True)
    channel = next((c for c, stored in ws.messages.items() if ts in stored), "")
    return MessageRef(channel, ts, ephemeral="ephemeral_ts" in body)


async def submit(request: web.Request) -> web.Response:
    body = await _body(request)
    values = body.get("values", {})
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise ControlError("'values' must be keyed like view.state.values: {block_id: {action_id: value}}")
    record = await request.app[INTERACTIONS].submit(_str(body, "user"), _str(body, "view_id"), values, _transport(body))
    return web.json_response(record)


async def event(request: web.Request) -> web.Response:
    body = await _body(request)
    inner = body.get("event")
    if not isinstance(inner, dict) or not isinstance(inner.get("type"), str):
        raise ControlError("'event' must be an object with a 'type'")
    return web.json_response(await request.app[INTERACTIONS].event(inner, _transport(body)))


async def raw(request: web.Request) -> web.Response:
    """POST any body to the Request URL, signed validly, not at all, with a stale timestamp, or forged."""
    body = await _body(request)
    url = _ws(request).config.request_url
    if not url:
        raise ControlError("no request URL is configured", status=409)
    payload = _str(body, "body")
    mode = body.get("signature", "valid")
    now = int(time.time())
    secret = _ws(request).config.signing_secret
    headers = {"Content-Type": _str(body, "content_type", "application/x-www-form-urlencoded")}
    if mode == "valid":
        headers |= signed_headers(secret, payload, now)
    elif mode == "stale":
        headers |= signed_headers(secret, payload, now - 6 * 60)
    elif mode == "forged":
        headers |= signed_headers("not-the-signing-secret", payload, now)
    elif mode != "none":
        raise ControlError("'signature' must be one of valid, none, stale, forged")
    delivery = await request.app[DELIVERER].post_raw(url, payload, headers)
    return web.json_response(delivery.record())


async def configure(request: web.Request) -> web.Response:
    body = await _body(request)
    ws = _ws(request)
    if "request_url" in body:
        ws.config.request_url = _str(body, "request_url")
    if "rate_limits" in body:
        ws.limiter.enabled = bool(body["rate_limits"])
    return web.json_response({"ok": True, "request_url": ws.config.request_url, "rate_limits": ws.limiter.enabled})


async def membership(request: web.Request) -> web.Response:
    body = await _body(request)
    ws = _ws(request)
    channel, user = _str(body, "channel"), _str(body, "user")
    if channel not in ws.channels:
        raise ControlError(f"unknown channel {channel!r}", status=404)
    if user not in ws.users:
        raise ControlError(f"unknown user {user!r}", status=404)
    ws.set_membership(channel, user, bool(body.get("member", True)))
    return web.json_response({"ok": True, "members": sorted(ws.channels[channel].members)})


async def usergroups(request: web.Request) -> web.Response:
    """Change a user group (by ``id``, else by ``handle``): members, handle, disabled; with a new id and handle,
    create one. Stands in for an admin using usergroups.create/update/disable/enable and usergroups.users.update."""
    body = await _body(request)
    ws = _ws(request)
    found = ws.usergroups.get(_str(body, "id")) if "id" in body else ws.usergroup_by_handle(_str(body, "handle"))
    if found is None:
        if "id" not in body or "handle" not in body:
            raise ControlError("unknown user group; pass both 'id' and 'handle' to create one", status=404)
        found = SeedUserGroup(_str(body, "id"), _str(body, "handle"), ())
    handle = _str(body, "handle").removeprefix("@").lower() if "handle" in body else found.handle
    owner = ws.usergroup_by_handle(handle)
    if not handle or (owner is not None and owner.id != found.id):
        raise ControlError(f"the handle {handle!r} is empty or belongs to another group", status=409)
    group = replace(
        found, handle=handle, members=_group_members(ws, body, found.members), disabled_at=_disabled_at(body, found)
    )
    ws.put_usergroup(group)
    return web.json_response({"ok": True, "usergroup": usergroup_record(group)})


def usergroup_record(group: SeedUserGroup) -> JSON:
    return {"id": group.id, "handle": group.handle, "users": list(group.members), "disabled": group.disabled}


def _group_members(ws: Workspace, body: JSON, current: tuple[str, ...]) -> tuple[str, ...]:
    if "members" not in body:
        return current
    members = body["members"]
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise ControlError("'members' must be a list of user ids")
    unknown = [m for m in members if m not in ws.users]
    if unknown:
        raise ControlError(f"unknown user {unknown[0]!r}", status=404)
    return tuple(dict.fromkeys(members))


def _disabled_at(body: JSON, group: SeedUserGroup) -> int:
    if "disabled" not in body:
        return group.disabled_at
    if not isinstance(body["disabled"], bool):
        raise ControlError("'disabled' must be true or false")
    if not body["disabled"]:
        return 0
    return group.disabled_at or int(time.time())


async def clock(request: web.Request) -> web.Response:
    body = await _body(request)
    seconds = body.get("advance")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise ControlError("'advance' must be a non-negative number of seconds")
    _ws(request).clock.advance(float(seconds))
    return web.json_response({"ok": True, "offset": _ws(request).clock.offset})


def wait_params(request: web.Request) -> tuple[int, float]:
    try:
        least = int(request.query.get("min", "0"))
        wait = float(request.query.get("wait", "5" if least else "0"))
    except ValueError:
        raise ControlError("'min' must be an integer and 'wait' a number of seconds") from None
    return least, min(max(wait, 0.0), 30.0)


async def listing(request: web.Request, collect: Callable[[], list[Any]]) -> web.Response:
    """Answer with ``collect()``; with ``?min=N`` first wait (up to ``wait`` s) until it has N entries."""
    least, wait = wait_params(request)
    if least:
        await _ws(request).wait_until(lambda: len(collect()) >= least, wait)
    return web.json_response(collect())
