"""The Web API endpoint ``/api/{method}``: the method table (handler, rate tier, token type), authentication,
rate limiting and the call log that records every call, 429s included.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from bot.sandbox.slack import chat, directory, files, socket_mode, views
from bot.sandbox.slack.model import JSON
from bot.sandbox.slack.ratelimit import TIER_2, TIER_3, TIER_4, Rate
from bot.sandbox.slack.state import WORKSPACE, Workspace
from bot.sandbox.slack.wire import ApiRequest, Call, RateLimited, SlackError, parse_request

log = logging.getLogger(__name__)
Handler = Callable[[Call], JSON]


@dataclass(frozen=True)
class Method:
    handler: Handler
    rate: Rate | None  # None: "Special" limits, applied inside the handler (chat.postMessage) or not modelled
    token: Literal["bot", "app"] = "bot"


METHODS: dict[str, Method] = {
    "auth.test": Method(directory.auth_test, None),
    "chat.postMessage": Method(chat.post_message, None),
    "chat.update": Method(chat.update, TIER_3),
    "chat.postEphemeral": Method(chat.post_ephemeral, TIER_4),
    "chat.getPermalink": Method(chat.get_permalink, None),
    "chat.delete": Method(chat.delete, TIER_3),
    "views.open": Method(views.open_view, TIER_4),
    "views.update": Method(views.update_view, TIER_4),
    "views.push": Method(views.push_view, TIER_4),
    "users.info": Method(directory.users_info, TIER_4),
    "usergroups.list": Method(directory.usergroups_list, TIER_2),
    "usergroups.users.list": Method(directory.usergroups_users_list, TIER_2),
    "conversations.info": Method(directory.conversations_info, TIER_3),
    "conversations.open": Method(directory.conversations_open, TIER_3),
    "conversations.members": Method(directory.conversations_members, TIER_4),
    "files.getUploadURLExternal": Method(files.get_upload_url, TIER_4),
    "files.completeUploadExternal": Method(files.complete_upload, TIER_4),
    # Tier 1 on api.slack.com's old page, Tier 3 in the current docs scrape: we follow the newer source.
    "apps.connections.open": Method(socket_mode.open_connection, TIER_3, token="app"),
}


def base_url(request: web.Request, ws: Workspace) -> str:
    """Where links handed out by the fake point: the configured public URL, else the origin the caller used."""
    return (ws.config.public_url or str(request.url.origin())).rstrip("/")


async def handle_api(request: web.Request) -> web.Response:
    ws = request.app[WORKSPACE]
    name = request.match_info["method"]
    entry: JSON = {"method": name, "http_method": request.method, "at": time.time()}
    headers: dict[str, str] = {}
    status = 200
    try:
        api = await parse_request(request, name)
        entry["args"] = api.args
        body = _dispatch(request, ws, api, headers)
    except SlackError as error:
        body = error.body()
    except RateLimited as limited:
        status, body = 429, {"ok": False, "error": "ratelimited"}
        headers["Retry-After"] = str(limited.retry_after)
        entry["retry_after"] = limited.retry_after
    except Exception:  # a fake that crashes would hide the bot's behaviour behind a 500
        log.exception("sandbox Web API method %s failed", name)
        body = {"ok": False, "error": "internal_error"}
    ws.record_call(entry | {"status": status, "ok": body["ok"], "error": body.get("error")})
    return web.json_response(body, status=status, headers=headers)


def _dispatch(request: web.Request, ws: Workspace, api: ApiRequest, headers: dict[str, str]) -> JSON:
    method = METHODS.get(api.method)
    if method is None:
        raise SlackError("unknown_method")
    _authenticate(ws, api, method)
    if method.rate is not None:
        retry_after = ws.limiter.check(api.method, "workspace", method.rate)
        if retry_after is not None:
            raise RateLimited(retry_after)
    return {"ok": True} | method.handler(Call(ws, api.args, base_url(request, ws), headers))


def _authenticate(ws: Workspace, api: ApiRequest, method: Method) -> None:
    config = ws.config
    if api.token is None:
        raise SlackError("not_authed")
    if method.token == "app":
        if not api.token_in_header:
            # apps.connections.open only reads the app token from the Authorization header.
            raise SlackError("not_authed")
        if api.token == config.bot_token:
            raise SlackError("not_allowed_token_type")
        if api.token != config.app_token:
            raise SlackError("invalid_auth")
        return
    if api.token == config.app_token:
        raise SlackError("not_allowed_token_type")
    if api.token != config.bot_token:
        raise SlackError("invalid_auth")
