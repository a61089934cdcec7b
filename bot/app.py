"""The composition root: builds every client once, wires the Slack handlers, and owns their lifecycle."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat import Chat
from bot.config import Mode, Settings
from bot.deps import Deps
from bot.errors import StoreUnavailable
from bot.pulumi import PulumiClient
from bot.render.errors import incident_text
from bot.store import Store
from bot.web import build_web_app
from handlers import actions, commands, events

log = logging.getLogger(__name__)


def slack_client(settings: Settings) -> AsyncWebClient:
    """The bot-token client: retries a dropped connection once and a 429 twice (after Retry-After)."""
    assert settings.slack_bot_token is not None  # Settings.require() ran before
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_base_url,
        retry_handlers=[AsyncConnectionErrorRetryHandler(), AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )


def build_bolt(deps: Deps, *, signing_secret: str) -> AsyncApp:
    """The Bolt app with our handlers; request verification stays on (Socket Mode skips it by design)."""
    bolt = AsyncApp(
        client=deps.chat.client,
        signing_secret=signing_secret,
        raise_error_for_unhandled_request=False,
    )
    commands.register(bolt, deps)
    actions.register(bolt, deps)
    events.register(bolt, deps)

    @bolt.error
    async def on_error(error: Exception, body: dict[str, Any], context: Any) -> None:
        incident = secrets.token_hex(4)
        if isinstance(error, StoreUnavailable):
            log.warning("state store unavailable", extra={"incident": incident})
        else:
            log.error("unhandled error", exc_info=error, extra={"incident": incident, "type": body.get("type")})
        respond = getattr(context, "respond", None)
        if respond is not None:
            try:
                await respond(text=incident_text(incident), response_type="ephemeral", replace_original=False)
            except Exception:  # the user may just not hear about it; the incident is logged
                log.warning("could not tell the user about an incident", extra={"incident": incident})

    return bolt


def build_deps(settings: Settings) -> Deps:
    """Every client, built once; none connects before first use, so this needs no running event loop."""
    assert settings.pulumi_access_token is not None  # Settings.require() ran before
    redis = aioredis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
    pulumi = PulumiClient(settings.pulumi_access_token, base_url=str(settings.pulumi_backend_url))
    return Deps(settings=settings, pulumi=pulumi, store=Store(redis), chat=Chat(slack_client(settings)))


async def close_deps(deps: Deps) -> None:
    await deps.chat.close()
    await deps.pulumi.aclose()
    await deps.store.redis.aclose()


def create_app(settings: Settings, mode: Mode = "serve") -> web.Application:
    """The bot as an aiohttp app with ``GET /healthz``.

    ``serve``: Slack posts to ``POST /slack/events`` (signatures verified). ``socket``: the app opens a Socket Mode
    connection with ``SLACK_APP_TOKEN`` when it starts (no public URL needed) and closes it when it stops.
    """
    settings.require(mode)
    deps = build_deps(settings)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    bolt = build_bolt(deps, signing_secret=secret)
    socket: AsyncSocketModeHandler | None = None

    async def health() -> dict[str, object]:
        if socket is not None and not await socket.client.is_connected():
            return {"ok": False, "reason": "Socket Mode is not connected"}
        return {"ok": True}

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        nonlocal socket
        deps.chat.open()
        if mode == "socket":
            assert settings.slack_app_token is not None  # required for socket mode
            socket = AsyncSocketModeHandler(bolt, settings.slack_app_token.get_secret_value())
            await socket.connect_async()  # type: ignore[no-untyped-call]  # Bolt leaves it unannotated
        yield
        if socket is not None:
            await socket.close_async()  # type: ignore[no-untyped-call]  # Bolt leaves it unannotated
        await close_deps(deps)

    web_app = build_web_app(bolt, health, slack_route=mode == "serve")
    web_app.cleanup_ctx.append(lifecycle)
    return web_app
