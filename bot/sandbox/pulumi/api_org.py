"""Organization endpoints: pause/resume (administrators only) and metadata with deployment counts."""

from __future__ import annotations

from aiohttp import web

from bot.sandbox.pulumi import context
from bot.sandbox.pulumi.errors import ApiError
from bot.sandbox.pulumi.state import Org


def _org_as_admin(request: web.Request) -> Org:
    org = context.emulator(request).registry.org(request.match_info["org"])
    if not context.user(request).admin:
        raise ApiError(
            403, f"Only organization administrators can pause or resume deployments for organization '{org.name}'"
        )
    return org


async def pause_org(request: web.Request) -> web.Response:
    _org_as_admin(request).paused = True
    return web.Response()


async def resume_org(request: web.Request) -> web.Response:
    org = _org_as_admin(request)
    org.paused = False
    context.emulator(request).engine.resume(org)
    return web.Response()


async def org_metadata(request: web.Request) -> web.Response:
    org = context.emulator(request).registry.org(request.match_info["org"])
    counts = {
        "notStarted": org.counts["not-started"],
        "accepted": org.counts["accepted"],
        "running": org.counts["running"],
        "failed": org.counts["failed"],
        "succeeded": org.counts["succeeded"],
        "skipped": org.counts["skipped"],
    }
    counts["total"] = sum(counts.values())
    return web.json_response(
        {
            "paused": org.paused,
            "concurrency": org.concurrency,
            "deploymentCounts": counts,
            "pausedStacks": org.paused_stacks(),
        }
    )
