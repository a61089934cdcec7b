"""``create_app``: the emulator's aiohttp application — routes, middlewares, and its background tasks' lifetimes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.sandbox.pulumi import api_deployments, api_org, api_stack, control, middleware
from bot.sandbox.pulumi.config import EmulatorConfig
from bot.sandbox.pulumi.context import EMULATOR
from bot.sandbox.pulumi.emulator import Emulator
from bot.sandbox.pulumi.webhooks import control as webhooks_control

ST = "/api/stacks/{org}/{project}/{stack}/deployments"
ORG = "/api/orgs/{org}/deployments"

# Order matters: aiohttp tries routes in order, so fixed segments come before "{id}".
API_ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", f"{ST}/settings", api_stack.get_settings),
    ("POST", f"{ST}/settings", api_stack.patch_settings),
    ("PUT", f"{ST}/settings", api_stack.replace_settings),
    ("DELETE", f"{ST}/settings", api_stack.delete_settings),
    ("POST", f"{ST}/settings/encrypt", api_stack.encrypt_secret),
    ("POST", f"{ST}/pause", api_stack.pause_stack),
    ("POST", f"{ST}/resume", api_stack.resume_stack),
    ("GET", f"{ST}/metadata", api_stack.stack_metadata),
    ("POST", ST, api_deployments.create),
    ("GET", ST, api_deployments.list_stack),
    ("GET", f"{ST}/version/{{version}}", api_deployments.get_version),
    ("GET", f"{ST}/{{id}}", api_deployments.get_deployment),
    ("GET", f"{ST}/{{id}}/logs", api_deployments.get_logs),
    ("GET", f"{ST}/{{id}}/updates", api_deployments.get_updates),
    ("POST", f"{ST}/{{id}}/cancel", api_deployments.cancel),
    ("GET", ORG, api_deployments.list_org),
    ("GET", f"{ORG}/metadata", api_org.org_metadata),
    ("POST", f"{ORG}/pause", api_org.pause_org),
    ("POST", f"{ORG}/resume", api_org.resume_org),
)

CONTROL_ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("POST", "/_sandbox/stacks", control.create_stacks),
    ("GET", "/_sandbox/stacks", control.list_stacks),
    ("POST", "/_sandbox/git/push", control.push),
    ("GET", "/_sandbox/git/head", control.head),
    ("PUT", "/_sandbox/orgs/{org}/concurrency", control.set_concurrency),
    ("GET", "/_sandbox/clock", control.get_clock),
    ("PUT", "/_sandbox/clock", control.set_clock),
    ("POST", "/_sandbox/advance", control.advance),
    ("POST", "/_sandbox/faults", control.add_fault),
    ("GET", "/_sandbox/faults", control.list_faults),
    ("DELETE", "/_sandbox/faults", control.clear_faults),
    ("GET", "/_sandbox/requests", control.get_requests),
    ("DELETE", "/_sandbox/requests", control.clear_requests),
    ("GET", "/_sandbox/events", control.get_events),
    ("DELETE", "/_sandbox/events", control.clear_events),
    ("POST", "/_sandbox/reset", control.reset),
    *webhooks_control.ROUTES,
)


def create_app(config: EmulatorConfig) -> web.Application:
    """The emulator as an aiohttp application; its clock and webhook sender start and stop with the app."""
    app = web.Application(
        client_max_size=config.max_body_bytes,
        middlewares=[middleware.errors, middleware.request_log, middleware.faults, middleware.auth],
    )
    app[EMULATOR] = Emulator(config)
    resources: dict[str, web.Resource] = {}
    for method, path, handler in API_ROUTES + CONTROL_ROUTES:
        # One resource per path (so a wrong method is a 405), and the trailing-slash spelling the seed doc's
        # examples use (".../logs/?step=5") as well.
        for spelling in (path, path + "/"):
            if spelling not in resources:
                resources[spelling] = app.router.add_resource(spelling)
            resources[spelling].add_route(method, handler)
    # The sender starts first so it stops last: the clock stops before it, so no tick queues unsent deliveries.
    app.cleanup_ctx.append(_webhook_sender)
    app.cleanup_ctx.append(_clock)
    return app


async def _clock(app: web.Application) -> AsyncIterator[None]:
    emulator = app[EMULATOR]
    task = None if emulator.config.manual_clock else asyncio.create_task(emulator.run_clock())
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _webhook_sender(app: web.Application) -> AsyncIterator[None]:
    async with app[EMULATOR].webhooks.running():
        yield
