"""The ``/_sandbox/`` control API (no auth): stacks, git pushes, clock, concurrency, faults, logs, reset.

The package docstring (``bot/sandbox/pulumi/__init__.py``) documents every endpoint.
"""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.sandbox.pulumi import context
from bot.sandbox.pulumi.body import json_body, query_int
from bot.sandbox.pulumi.errors import ApiError, bad_request
from bot.sandbox.pulumi.settings import describe
from bot.sandbox.pulumi.state import StackExists

ADVANCE_LIMIT = 100_000  # ticks one advance may run, so "untilIdle" always ends
_Body = TypeVar("_Body", bound=BaseModel)


class _Control(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CreateStacks(_Control):
    stacks: list[str] = Field(min_length=1, max_length=10_000)
    settings: dict[str, Any] | None = None
    withSettings: bool = True


class Push(_Control):
    repoUrl: str = Field(min_length=1)
    branch: str = Field(min_length=1)
    commit: str | None = None


class Concurrency(_Control):
    concurrency: int = Field(ge=1, le=100_000)


class Clock(_Control):
    stepSeconds: float | int = Field(gt=0, le=3600)


class Advance(_Control):
    steps: int = Field(1, ge=1, le=ADVANCE_LIMIT)
    untilIdle: bool = False


async def _parse(request: web.Request, model: type[_Body]) -> _Body:
    body = await json_body(request) if (await request.read()).strip() else {}
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise bad_request(describe(exc)) from None


async def create_stacks(request: web.Request) -> web.Response:
    body = await _parse(request, CreateStacks)
    try:
        stacks = context.emulator(request).add_stacks(body.stacks, body.settings, with_settings=body.withSettings)
    except StackExists as exc:
        raise ApiError(409, str(exc)) from None
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    return web.json_response({"stacks": [stack.ref for stack in stacks]}, status=201)


async def list_stacks(request: web.Request) -> web.Response:
    orgs = context.emulator(request).registry.orgs.values()
    stacks = [
        {"stack": stack.ref, "hasSettings": stack.settings is not None, "paused": stack.paused}
        for org in orgs
        for stack in org.stacks.values()
    ]
    return web.json_response({"orgs": [org.name for org in orgs], "stacks": stacks})


async def push(request: web.Request) -> web.Response:
    body = await _parse(request, Push)
    try:
        commit = context.emulator(request).remotes.push(body.repoUrl, body.branch, body.commit)
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    return web.json_response({"repoUrl": body.repoUrl, "branch": body.branch, "commit": commit})


async def head(request: web.Request) -> web.Response:
    url, branch = request.query.get("repoUrl"), request.query.get("branch", "refs/heads/main")
    if not url:
        raise bad_request("repoUrl is required")
    commit = context.emulator(request).remotes.head(url, branch)
    return web.json_response({"repoUrl": url, "branch": branch, "commit": commit})


async def set_concurrency(request: web.Request) -> web.Response:
    body = await _parse(request, Concurrency)
    org = context.emulator(request).registry.ensure_org(request.match_info["org"])
    org.concurrency = body.concurrency
    return web.json_response({"org": org.name, "concurrency": org.concurrency})


async def get_clock(request: web.Request) -> web.Response:
    emulator = context.emulator(request)
    return web.json_response(
        {
            "manual": emulator.config.manual_clock,
            "stepSeconds": emulator.step_seconds,
            "phases": emulator.config.phases,
            "ticks": emulator.engine.ticks,
        }
    )


async def set_clock(request: web.Request) -> web.Response:
    context.emulator(request).step_seconds = float((await _parse(request, Clock)).stepSeconds)
    return await get_clock(request)


async def advance(request: web.Request) -> web.Response:
    body, engine = await _parse(request, Advance), context.emulator(request).engine
    if body.untilIdle:
        ticks, idle = engine.run_until_idle(ADVANCE_LIMIT)
    else:
        changed = [engine.tick() for _ in range(body.steps)]
        ticks, idle = body.steps, changed[-1] == 0
    return web.json_response({"ticks": ticks, "idle": idle, "totalTicks": engine.ticks})


async def add_fault(request: web.Request) -> web.Response:
    try:
        fault = context.emulator(request).faults.add(await json_body(request))
    except ValueError as exc:
        raise bad_request(f"invalid fault: {exc}") from None
    return web.json_response(fault.wire(), status=201)


async def list_faults(request: web.Request) -> web.Response:
    return web.json_response({"faults": context.emulator(request).faults.list()})


async def clear_faults(request: web.Request) -> web.Response:
    context.emulator(request).faults.clear()
    return web.json_response({"faults": []})


async def get_requests(request: web.Request) -> web.Response:
    since = query_int(request.query, "since", 0, 0)
    return web.json_response({"requests": context.emulator(request).requests.since(since)})


async def clear_requests(request: web.Request) -> web.Response:
    context.emulator(request).requests.clear()
    return web.json_response({"requests": []})


async def get_events(request: web.Request) -> web.Response:
    since = query_int(request.query, "since", 0, 0)
    return web.json_response({"events": context.emulator(request).events.since(since)})


async def clear_events(request: web.Request) -> web.Response:
    context.emulator(request).events.clear()
    return web.json_response({"events": []})


async def reset(request: web.Request) -> web.Response:
    context.emulator(request).reset()
    return web.json_response({"reset": True})
