"""The read side of the control API: what the fake recorded, as JSON, optionally long-polled with ``?min=N``."""

from __future__ import annotations

from aiohttp import web

from bot.sandbox.slack.control import ControlError, listing, usergroup_record, wait_params
from bot.sandbox.slack.directory import user_object
from bot.sandbox.slack.model import JSON
from bot.sandbox.slack.socket_mode import HUB
from bot.sandbox.slack.state import WORKSPACE, Workspace


def _ws(request: web.Request) -> Workspace:
    return request.app[WORKSPACE]


def _channel(request: web.Request) -> str:
    channel = request.query.get("channel", "")
    if channel not in _ws(request).channels:
        raise ControlError(f"unknown channel {channel!r}; pass ?channel=<id>", status=404)
    return channel


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in {"1", "true", "yes"}


async def messages(request: web.Request) -> web.Response:
    """Top-level messages (and thread broadcasts) of a channel, oldest first; deleted ones with ?deleted=1."""
    ws, channel, deleted = _ws(request), _channel(request), _flag(request, "deleted")
    return await listing(
        request,
        lambda: [ws.message_record(m) for m in ws.channel_messages(channel) if deleted or not m.deleted],
    )


async def thread(request: web.Request) -> web.Response:
    ws, channel, ts = _ws(request), _channel(request), request.query.get("ts", "")
    return await listing(request, lambda: [ws.message_record(m) for m in ws.thread(channel, ts) if not m.deleted])


async def ephemerals(request: web.Request) -> web.Response:
    ws, user, channel = _ws(request), request.query.get("user"), request.query.get("channel")

    def collect() -> list[JSON]:
        found = [m for m in ws.ephemerals.values() if user in (None, m.visible_to) and channel in (None, m.channel)]
        return [ws.message_record(m) for m in found if not m.deleted or _flag(request, "deleted")]

    return await listing(request, collect)


async def responses(request: web.Request) -> web.Response:
    ws, interaction = _ws(request), request.query.get("interaction")
    return await listing(request, lambda: [r for r in ws.responses if interaction in (None, r["interaction"])])


async def uploads(request: web.Request) -> web.Response:
    ws = _ws(request)
    return await listing(request, lambda: [u.record() for u in ws.uploads.values() if u.completed])


async def calls(request: web.Request) -> web.Response:
    ws, method = _ws(request), request.query.get("method")
    return await listing(request, lambda: [c for c in ws.calls if method in (None, c["method"])])


async def views(request: web.Request) -> web.Response:
    ws, user = _ws(request), request.query.get("user")
    status = request.query.get("status")
    config = ws.config

    def collect() -> list[JSON]:
        found = [v for v in ws.views.values() if user in (None, v.user) and status in (None, v.status)]
        return [v.record(config.team_id, config.api_app_id, config.bot_id) for v in found]

    return await listing(request, collect)


async def interaction(request: web.Request) -> web.Response:
    record = _ws(request).interactions.get(request.match_info["id"])
    if record is None:
        raise ControlError(f"no interaction {request.match_info['id']!r}", status=404)
    return web.json_response(record)


async def workspace(request: web.Request) -> web.Response:
    ws = _ws(request)
    config = ws.config
    return web.json_response(
        {
            "team": {"id": config.team_id, "domain": config.team_domain, "name": config.team_name},
            "bot": {"user_id": config.bot_user_id, "bot_id": config.bot_id, "app_id": config.api_app_id},
            "request_url": config.request_url,
            "users": [user_object(ws, u) for u in ws.users.values()],
            "usergroups": [usergroup_record(g) for g in ws.usergroups.values()],
            "channels": [c.to_slack(config.bot_user_id) | {"members": sorted(c.members)} for c in ws.channels.values()],
        }
    )


async def socket(request: web.Request) -> web.Response:
    """Socket Mode status; ``?connected=1`` first waits (up to ``wait`` s) for an app to connect."""
    hub = request.app[HUB]
    if _flag(request, "connected"):
        _, wait = wait_params(request)
        await _ws(request).wait_until(lambda: hub.connected, wait or 5.0)
    return web.json_response({"connected": hub.connected, "acks": hub.acks})
