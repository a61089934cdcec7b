"""The fake Slack's composition root: one aiohttp application serving the Web API, upload URLs, response_urls,
the Socket Mode WebSocket and the ``/_sandbox/`` control API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot.sandbox.slack import control, files, methods, records, response_url, socket_mode
from bot.sandbox.slack.config import SlackSandboxConfig
from bot.sandbox.slack.delivery import DELIVERER, Deliverer
from bot.sandbox.slack.interactions import INTERACTIONS, Interactions
from bot.sandbox.slack.socket_mode import HUB, SocketHub
from bot.sandbox.slack.state import WORKSPACE, Workspace


def create_app(config: SlackSandboxConfig | None = None) -> web.Application:
    app = web.Application(middlewares=[control.control_errors])
    workspace = Workspace(config or SlackSandboxConfig())
    app[WORKSPACE] = workspace
    app[HUB] = SocketHub(workspace)
    app.cleanup_ctx.append(_outbound)
    app.on_shutdown.append(_close_sockets)

    router = app.router
    router.add_route("GET", "/api/{method}", methods.handle_api)
    router.add_route("POST", "/api/{method}", methods.handle_api)
    router.add_post("/upload/v1/{file_id}", files.receive_upload)
    router.add_post("/hooks/{kind}/{team}/{token}", response_url.receive)
    router.add_get("/link/", socket_mode.handle_link)

    router.add_post("/_sandbox/command", control.command)
    router.add_post("/_sandbox/click", control.click)
    router.add_post("/_sandbox/submit", control.submit)
    router.add_post("/_sandbox/event", control.event)
    router.add_post("/_sandbox/raw", control.raw)
    router.add_post("/_sandbox/config", control.configure)
    router.add_post("/_sandbox/membership", control.membership)
    router.add_post("/_sandbox/usergroups", control.usergroups)
    router.add_post("/_sandbox/clock", control.clock)
    router.add_get("/_sandbox/workspace", records.workspace)
    router.add_get("/_sandbox/messages", records.messages)
    router.add_get("/_sandbox/thread", records.thread)
    router.add_get("/_sandbox/ephemerals", records.ephemerals)
    router.add_get("/_sandbox/responses", records.responses)
    router.add_get("/_sandbox/uploads", records.uploads)
    router.add_get("/_sandbox/calls", records.calls)
    router.add_get("/_sandbox/views", records.views)
    router.add_get("/_sandbox/interactions/{id}", records.interaction)
    router.add_get("/_sandbox/socket", records.socket)
    return app


async def _outbound(app: web.Application) -> AsyncIterator[None]:
    """The HTTP client Slack uses to reach the bot lives exactly as long as the app."""
    async with aiohttp.ClientSession() as session:
        deliverer = Deliverer(app[WORKSPACE], app[HUB], session)
        app[DELIVERER] = deliverer
        app[INTERACTIONS] = Interactions(app[WORKSPACE], deliverer)
        yield


async def _close_sockets(app: web.Application) -> None:
    await app[HUB].disconnect_all()
