"""Stack-level settings endpoints (get, patch, replace, delete, encrypt) and stack pause/resume/metadata."""

from __future__ import annotations

from aiohttp import web

from bot.sandbox.pulumi import context, settings
from bot.sandbox.pulumi.body import json_body
from bot.sandbox.pulumi.errors import bad_request
from bot.sandbox.pulumi.state import Stack


async def get_settings(request: web.Request) -> web.Response:
    stack = context.stack(request)
    return web.json_response(settings.to_wire(context.emulator(request).registry.settings(stack)))


async def patch_settings(request: web.Request) -> web.Response:
    stack, sealer = context.stack(request), context.emulator(request).sealer
    patch = settings.parse_patch(await json_body(request), sealer, stack.ref)
    stack.settings = settings.apply_patch(stack.settings or {}, patch, sealer, stack.ref)
    return web.json_response(settings.to_wire(stack.settings))


async def replace_settings(request: web.Request) -> web.Response:
    stack = context.stack(request)
    stack.settings = settings.parse_replacement(await json_body(request), context.emulator(request).sealer, stack.ref)
    return web.json_response(settings.to_wire(stack.settings))


async def delete_settings(request: web.Request) -> web.Response:
    context.stack(request).settings = None
    return web.json_response(True)


async def encrypt_secret(request: web.Request) -> web.Response:
    stack = context.stack(request)
    body = await json_body(request)
    given = {key: value for key, value in body.items() if value is not None} if isinstance(body, dict) else None
    if given is None or set(given) - {"secret"}:
        raise bad_request('the body must be a secret value: {"secret": "<value to encrypt>"}')
    plaintext = given.get("secret")
    if not isinstance(plaintext, str) or not plaintext:
        raise bad_request("the secret to encrypt must be a non-empty string")
    return web.json_response(context.emulator(request).sealer.seal(stack.ref, plaintext).wire())


async def pause_stack(request: web.Request) -> web.Response:
    _with_settings(request).paused = True
    return web.Response()


async def resume_stack(request: web.Request) -> web.Response:
    stack = _with_settings(request)
    stack.paused = False
    context.emulator(request).engine.resume(stack.org, stack)
    return web.Response()


def _with_settings(request: web.Request) -> Stack:
    stack = context.stack(request)
    if stack.settings is None:
        raise bad_request(f"Stack '{stack.ref}' has no deployment settings; only stacks with settings can be paused")
    return stack


async def stack_metadata(request: web.Request) -> web.Response:
    stack = context.stack(request)
    return web.json_response(
        {
            "paused": stack.paused or stack.org.paused,
            "stackPaused": stack.paused,
            "organizationPaused": stack.org.paused,
            "hasSchedules": False,  # the emulator has no schedules; the SDK requires the key
        }
    )
