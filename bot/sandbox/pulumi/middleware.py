"""The request pipeline: JSON errors for everything, the request log, injected faults, and token auth.

Only ``/api/`` requests are logged, faulted and authenticated; the ``/_sandbox/`` control API is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.sandbox.pulumi.body import decode_json
from bot.sandbox.pulumi.context import DROPPED, EMULATOR, FAULT, USER
from bot.sandbox.pulumi.errors import ApiError, error_response
from bot.sandbox.pulumi.faults import Fault
from bot.sandbox.pulumi.secrets import redact

log = logging.getLogger(__name__)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error answer is ``{"code", "message"}`` JSON; an unexpected exception is logged and is a 500."""
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPException as exc:
        message = f"{exc.reason}: {request.method} {request.path}"
        if exc.status == 413:
            message = f"request body too large (the limit is {request.app[EMULATOR].config.max_body_bytes} bytes)"
        headers = {key: value for key, value in exc.headers.items() if key.lower() == "allow"}
        return error_response(exc.status, message, headers)
    except Exception:  # the last resort the fuzz tests make sure is never reached
        log.exception("unexpected error answering %s %s", request.method, request.path)
        return error_response(500, "internal error in the Pulumi emulator")


@web.middleware
async def request_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/"):
        return await handler(request)
    entry: dict[str, Any] = {"method": request.method, "path": request.path, "query": dict(request.query)}
    try:
        raw = await request.read()  # aiohttp keeps the bytes, so the handler reads them again for free
        entry["body"] = _loggable(raw)
        response = await handler(request)
    except ApiError as exc:
        response = exc.response()
    except Exception as exc:
        entry["status"] = exc.status if isinstance(exc, web.HTTPException) else 500
        request.app[EMULATOR].requests.add(entry)
        raise
    user = request.get(USER)
    # Status 0 in the log: the connection was closed without an answer.
    entry.update(status=0 if request.get(DROPPED) else response.status, user=user.login if user else None)
    if FAULT in request:
        entry["fault"] = request[FAULT]
    request.app[EMULATOR].requests.add(entry)
    return response


def _loggable(raw: bytes) -> object:
    if not raw:
        return None
    try:
        return redact(decode_json(raw))
    except ApiError:
        return f"<{len(raw)} bytes, not JSON>"


@web.middleware
async def faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/"):
        return await handler(request)
    fault = request.app[EMULATOR].faults.take(request.method, request.path)
    if fault is None:
        return await handler(request)
    request[FAULT] = fault.id
    spec = fault.spec
    if spec.delay:
        await asyncio.sleep(spec.delay)
    if not spec.afterHandler:
        if spec.drop:
            return _drop(request)
        if spec.status is not None:
            return _fault_response(fault, spec.status)
        return await handler(request)
    with contextlib.suppress(ApiError):  # processed (even if refused): the client is told otherwise all the same
        await handler(request)
    return _drop(request) if spec.drop else _fault_response(fault, spec.status or 502)


def _drop(request: web.Request) -> web.StreamResponse:
    if request.transport is not None:
        request.transport.abort()
    request[DROPPED] = True
    return web.Response(status=204)  # never sent: the connection is already gone


def _fault_response(fault: Fault, status: int) -> web.Response:
    headers = {}
    if status == 429:
        headers["Retry-After"] = str(fault.spec.retryAfter if fault.spec.retryAfter is not None else 1)
    return error_response(status, f"injected fault #{fault.id}: HTTP {status}", headers)


@web.middleware
async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/api/"):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        user = request.app[EMULATOR].user(token.strip()) if scheme.lower() == "token" else None
        if user is None:
            raise ApiError(401, "Unauthorized: send a valid 'Authorization: token <access token>' header")
        request[USER] = user
    return await handler(request)
