"""Deployment endpoints: create, get (by id or version), list (stack and org), logs, updates, cancel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.sandbox.pulumi import context, render
from bot.sandbox.pulumi.body import json_body, query_bool, query_int
from bot.sandbox.pulumi.errors import bad_request
from bot.sandbox.pulumi.logs import logs
from bot.sandbox.pulumi.secrets import Sealer, Secret, SecretError
from bot.sandbox.pulumi.settings import parse_create, settings_for_deployment
from bot.sandbox.pulumi.state import STATUSES, Deployment, Stack
from bot.sandbox.pulumi.steps import FAIL_VARIABLE


async def create(request: web.Request) -> web.Response:
    emulator, stack = context.emulator(request), context.stack(request)
    parsed = parse_create(await json_body(request), emulator.sealer, stack.ref)
    merged = settings_for_deployment(stack.settings, parsed, emulator.sealer, stack.ref)
    deployment = emulator.engine.create(
        stack,
        parsed.operation,
        merged,
        context.user(request),
        fail_step=_fail_step(emulator.sealer, stack, merged),
        # The raw Host header: request.url would parse it, and a malformed one must not be a 500.
        backend_url=f"{request.scheme}://{request.host}/",
        inherit_settings=parsed.inherit_settings,
    )
    console_url = f"{emulator.config.console_url.rstrip('/')}/{stack.ref}/deployments/{deployment.version}"
    return web.json_response(
        {"id": deployment.id, "consoleUrl": console_url, "version": deployment.version}, status=202
    )


def _fail_step(sealer: Sealer, stack: Stack, merged: dict[str, Any]) -> str | None:
    value = merged.get("operationContext", {}).get("environmentVariables", {}).get(FAIL_VARIABLE)
    if isinstance(value, Secret):
        try:
            return str(sealer.open(stack.ref, value.ciphertext))
        except SecretError:  # pragma: no cover - stored ciphertext was checked when it was accepted
            return None
    return value if isinstance(value, str) else None


def _deployment(request: web.Request) -> Deployment:
    return context.emulator(request).registry.deployment(context.stack(request), request.match_info["id"])


async def get_deployment(request: web.Request) -> web.Response:
    return web.json_response(render.deployment(_deployment(request)))


async def get_version(request: web.Request) -> web.Response:
    stack, raw = context.stack(request), request.match_info["version"]
    try:
        version = int(raw)
    except ValueError:  # not a number, or more digits than Python converts
        raise bad_request(f"the deployment version must be an integer, not {raw!r}") from None
    return web.json_response(render.deployment(context.emulator(request).registry.deployment_version(stack, version)))


async def list_stack(request: web.Request) -> web.Response:
    return web.json_response(page(context.stack(request).history, request.query))


async def list_org(request: web.Request) -> web.Response:
    org = context.emulator(request).registry.org(request.match_info["org"])
    return web.json_response(page(org.deployments, request.query))


def page(items: list[Deployment], query: Mapping[str, str]) -> dict[str, Any]:
    """One page of a creation-ordered list: newest first unless ``asc=true``."""
    number = query_int(query, "page", 1, 1)
    size = query_int(query, "pageSize", 10, 1, 100)
    ascending = query_bool(query, "asc")
    status = query.get("status")
    if status:
        # The seed doc documents this filter; Pulumi's OpenAPI spec and CLI do not, and the real service may
        # ignore it. It scans the list, which is fine at sandbox sizes.
        if status not in STATUSES:
            raise bad_request(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        items = [item for item in items if item.status == status]
    start, total = (number - 1) * size, len(items)
    if ascending:
        chosen = items[start : start + size]
    else:
        high = max(0, total - start)
        chosen = items[max(0, high - size) : high][::-1]
    return {"deployments": [render.snapshot(item) for item in chosen], "itemsPerPage": size, "total": total}


async def get_logs(request: web.Request) -> web.Response:
    return web.json_response(logs(_deployment(request), request.query))


async def get_updates(request: web.Request) -> web.Response:
    return web.json_response(render.update_infos(_deployment(request)))


async def cancel(request: web.Request) -> web.Response:
    context.emulator(request).engine.cancel(_deployment(request))
    return web.Response()
