"""The composition root: builds every client once, wires the Slack handlers, and owns their lifecycle."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.approvals import Requests
from bot.audit import AuditLog
from bot.chat import Chat
from bot.config import Mode, Settings
from bot.deps import Deps, utcnow
from bot.directory import Directory
from bot.discovery import Discovery
from bot.errors import PulumiError, StoreUnavailable, Unavailable
from bot.gate import Gate
from bot.metrics import Metrics
from bot.outbox import Budgets, Outbox
from bot.policy import Policy
from bot.pulumi import PulumiClient
from bot.render.errors import incident_text
from bot.reporter import MIN_PROGRESS_PATIENCE, SlackReporter
from bot.store import Store, redis_client
from bot.store.subscriptions import Subscriptions
from bot.store.watches import Watches
from bot.watcher import Watcher
from bot.web import build_web_app
from bot.webhook import WebhookReceiver
from handlers import actions, commands, events, views

log = logging.getLogger(__name__)
PULUMI_FRESH = 60.0  # seconds: an answer from Pulumi this recent makes a readiness probe unnecessary
LIVENESS_REDIS_TIMEOUT = 2.0  # seconds: a hanging Redis must not make a liveness probe time out


def slack_client(settings: Settings, *, retry_rate_limits: bool = True) -> AsyncWebClient:
    """A bot-token client that retries a dropped connection once, and (for answers to people) a 429 twice after its
    Retry-After. The watcher's outbox handles 429s itself, sharing the block with every replica, so its client
    must not retry them on its own."""
    assert settings.slack_bot_token is not None  # Settings.require() ran before
    handlers: list[AsyncRetryHandler] = [AsyncConnectionErrorRetryHandler()]
    if retry_rate_limits:
        handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_base_url, retry_handlers=handlers
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
    views.register(bolt, deps)

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
    policy = Policy.load(settings.deploybot_policy) if settings.deploybot_policy else Policy.default()
    metrics = Metrics()
    redis = redis_client(settings.redis_url)
    pulumi = PulumiClient(
        settings.pulumi_access_token, base_url=str(settings.pulumi_backend_url), on_call=metrics.pulumi_call
    )
    chat = Chat(slack_client(settings), on_call=metrics.slack_call)
    store, watches, requests = Store(redis), Watches(redis), Requests(redis)
    audit = AuditLog(redis, max_entries=settings.deploybot_audit_max_entries)
    directory = Directory(chat.client, redis)
    gate = Gate(
        pulumi=pulumi,
        store=store,
        requests=requests,
        watches=watches,
        chat=chat,
        directory=directory,
        policy=policy,
        audit=audit,
        clock=utcnow,
    )
    return Deps(
        settings=settings,
        pulumi=pulumi,
        store=store,
        chat=chat,
        watches=watches,
        subscriptions=Subscriptions(redis),
        requests=requests,
        policy=policy,
        directory=directory,
        audit=audit,
        gate=gate,
        metrics=metrics,
    )


async def close_deps(deps: Deps) -> None:
    await deps.chat.close()
    await deps.pulumi.aclose()
    await deps.store.redis.aclose()


async def readiness(deps: Deps) -> dict[str, object]:
    """Ready when Redis answers and Pulumi answered recently (any status: an error page still means reachable)."""
    try:
        await deps.store.ping()
    except StoreUnavailable:
        return {"ok": False, "reason": "Redis does not answer"}
    seen = deps.metrics.last_pulumi_answer
    if seen is None or time.monotonic() - seen > PULUMI_FRESH:
        try:
            await deps.pulumi.get_org_metadata(deps.settings.pulumi_org or "deploybot-readiness-probe")
        except Unavailable:
            return {"ok": False, "reason": "Pulumi does not answer"}
        except PulumiError:
            pass  # it answered (a 404 for a probe org is still an answer)
    return {"ok": True}


WATCHER = web.AppKey("watcher", Watcher)
DEPS = web.AppKey("deps", Deps)


def build_watcher(settings: Settings, deps: Deps, outbox: Outbox) -> Watcher:
    """The watcher, reporting through the outbox, with discovery and the approval gate's expiry as chores."""
    patience = max(settings.deploybot_poll_interval, MIN_PROGRESS_PATIENCE)
    reporter = SlackReporter(
        outbox, deps.store, deps.clock, previews=deps.gate, metrics=deps.metrics, progress_patience=patience
    )
    discovery = Discovery(
        deps.pulumi, deps.watches, deps.subscriptions, default_org=settings.pulumi_org, clock=time.time
    )
    return Watcher(
        deps.pulumi,
        deps.watches,
        deps.subscriptions,
        reporter,
        discovery=discovery,
        chores=[deps.gate.expire_due],
        interval=settings.deploybot_poll_interval,
    )


async def liveness(deps: Deps, watcher: Watcher | None, socket: AsyncSocketModeHandler | None) -> dict[str, object]:
    """Alive unless Socket Mode dropped or the watcher's loop (``watcher``, when it runs) stopped completing rounds."""
    if socket is not None and not await socket.client.is_connected():
        return {"ok": False, "reason": "Socket Mode is not connected"}
    if watcher is not None:
        try:
            # Within a liveness probe's timeout (4 s in deploy/k8s) even when Redis hangs rather than refuses.
            async with asyncio.timeout(LIVENESS_REDIS_TIMEOUT):
                alive = await deps.watches.alive(watcher.replica)
        except (StoreUnavailable, TimeoutError):  # Redis is readiness's concern: a restart would not bring it back
            return {"ok": True, "watcher": "unknown while Redis is unavailable"}
        if not alive:
            return {"ok": False, "reason": "the watcher has not completed a round recently"}
    return {"ok": True}


def budgets(settings: Settings) -> Budgets:
    """The outbox's Slack budgets: Slack's own limits, scaled for a fake Slack, or unbounded (benchmarks)."""
    if settings.deploybot_slack_budgets == "off":
        return Budgets.unbounded()
    return Budgets().scaled(settings.deploybot_slack_rate_scale)


def create_app(settings: Settings, mode: Mode = "serve", *, watch_loop: bool = True) -> web.Application:
    """The bot as an aiohttp app with ``GET /healthz``, and the watcher running beside it.

    ``serve``: Slack posts to ``POST /slack/events`` (signatures verified). ``socket``: the app opens a Socket Mode
    connection with ``SLACK_APP_TOKEN`` when it starts (no public URL needed) and closes it when it stops.
    ``watch_loop=False`` leaves the watcher's loop off (tests drive ``app[WATCHER].poll_once()`` themselves).
    """
    settings.require(mode)
    deps = build_deps(settings)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    bolt = build_bolt(deps, signing_secret=secret)
    outbox_chat = Chat(slack_client(settings, retry_rate_limits=False), on_call=deps.metrics.slack_call)
    outbox = Outbox(outbox_chat, deps.store.redis, budgets=budgets(settings))
    watcher = build_watcher(settings, deps, outbox)
    socket: AsyncSocketModeHandler | None = None

    async def gauges() -> dict[str, float]:
        return {
            "deploybot_watches": await deps.watches.pending(),
            "deploybot_pending_approvals": await deps.requests.pending(),
            "deploybot_outbox_depth": outbox.depth(),
        }

    deps.metrics.read_gauges_with(gauges)

    async def ready() -> dict[str, object]:
        return await readiness(deps)

    async def health() -> dict[str, object]:
        return await liveness(deps, watcher if watch_loop else None, socket)

    receiver = None
    if settings.pulumi_webhook_secret is not None:
        receiver = WebhookReceiver(settings.pulumi_webhook_secret, deps.pulumi, deps.store, deps.subscriptions, watcher)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        nonlocal socket
        deps.chat.open()
        if mode == "socket":
            assert settings.slack_app_token is not None  # required for socket mode
            socket = AsyncSocketModeHandler(bolt, settings.slack_app_token.get_secret_value())
            await socket.connect_async()  # type: ignore[no-untyped-call]  # Bolt leaves it unannotated
        outbox_chat.open()
        await outbox.start()
        stop = asyncio.Event()
        loop = asyncio.create_task(watcher.run(stop), name="watcher") if watch_loop else None
        yield
        stop.set()
        if receiver is not None:
            await receiver.close()
        if loop is not None:
            await loop
        await outbox.stop()
        await outbox_chat.close()
        if socket is not None:
            await socket.close_async()  # type: ignore[no-untyped-call]  # Bolt leaves it unannotated
        await close_deps(deps)

    web_app = build_web_app(
        bolt,
        health,
        slack_route=mode == "serve",
        pulumi_webhook=receiver.handle if receiver else None,
        ready=ready,
        metrics=deps.metrics,
    )
    web_app[WATCHER] = watcher
    web_app[DEPS] = deps
    web_app.cleanup_ctx.append(lifecycle)
    return web_app
