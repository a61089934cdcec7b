"""The ``/_sandbox/webhooks`` control endpoints: register, list and clear hooks, read deliveries, inject faults."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.sandbox.pulumi import context
from bot.sandbox.pulumi.body import json_body, query_bool, query_int
from bot.sandbox.pulumi.errors import bad_request
from bot.sandbox.pulumi.settings import describe
from bot.sandbox.pulumi.webhooks.faults import FaultSpec
from bot.sandbox.pulumi.webhooks.hook import WebhookConfig

MAX_WAIT = 30  # seconds a deliveries request may wait for more to arrive
_Body = TypeVar("_Body", bound=BaseModel)


class AddWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: str = Field(max_length=2048)
    secret: str | None = Field(None, max_length=1024)
    filters: list[str] | None = Field(None, max_length=16)
    org: str | None = None
    stack: str | None = None


async def _parse(request: web.Request, model: type[_Body]) -> _Body:
    try:
        return model.model_validate(await json_body(request))
    except ValidationError as exc:
        raise bad_request(describe(exc)) from None


async def add_webhook(request: web.Request) -> web.Response:
    body = await _parse(request, AddWebhook)
    try:
        hook = WebhookConfig(
            url=body.url,
            secret=body.secret,
            filters=None if body.filters is None else tuple(body.filters),
            org=body.org,
            stack=body.stack,
        )
    except ValueError as exc:
        raise bad_request(f"invalid webhook: {exc}") from None
    hook_id = context.emulator(request).webhooks.add(hook)
    return web.json_response(hook.wire(hook_id), status=201)


async def list_webhooks(request: web.Request) -> web.Response:
    hooks = context.emulator(request).webhooks.hooks
    return web.json_response({"webhooks": [hook.wire(hook_id) for hook_id, hook in hooks.items()]})


async def clear_webhooks(request: web.Request) -> web.Response:
    context.emulator(request).webhooks.hooks.clear()
    return web.json_response({"webhooks": []})


async def deliveries(request: web.Request) -> web.Response:
    """``?since=seq&min=n&wait=seconds&idle=true``: waits (up to ``wait``) for ``min`` deliveries and, with
    ``idle``, for nothing to be pending; answers with what there is either way."""
    query = request.query
    since, count = query_int(query, "since", 0, 0), query_int(query, "min", 0, 0, 1_000_000)
    idle, wait, sender = query_bool(query, "idle"), _wait(query), context.emulator(request).webhooks
    with contextlib.suppress(TimeoutError):  # then it answers with what there is
        async with asyncio.timeout(wait):
            await sender.wait(count, since, idle)
    return web.json_response({"deliveries": sender.deliveries.since(since), "pending": sender.pending})


def _wait(query: Mapping[str, str]) -> float:
    raw = query.get("wait") or "0"
    try:
        wait = float(raw)
    except ValueError:
        raise bad_request(f"wait must be a number of seconds, not {raw!r}") from None
    if not 0 <= wait <= MAX_WAIT:  # also refuses nan
        raise bad_request(f"wait must be between 0 and {MAX_WAIT} seconds, not {raw}")
    return wait


async def set_faults(request: web.Request) -> web.Response:
    sender = context.emulator(request).webhooks
    sender.set_faults(await _parse(request, FaultSpec))
    return web.json_response(sender.faults.wire(), status=201)


async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(context.emulator(request).webhooks.faults.wire())


async def clear_faults(request: web.Request) -> web.Response:
    sender = context.emulator(request).webhooks
    sender.clear_faults()
    return web.json_response(sender.faults.wire())


ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("POST", "/_sandbox/webhooks", add_webhook),
    ("GET", "/_sandbox/webhooks", list_webhooks),
    ("DELETE", "/_sandbox/webhooks", clear_webhooks),
    ("GET", "/_sandbox/webhooks/deliveries", deliveries),
    ("POST", "/_sandbox/webhooks/faults", set_faults),
    ("GET", "/_sandbox/webhooks/faults", get_faults),
    ("DELETE", "/_sandbox/webhooks/faults", clear_faults),
)
