"""What a handler takes from its request: the emulator, the authenticated user, the stack named in the path."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.sandbox.pulumi.state import Stack, User

if TYPE_CHECKING:
    from bot.sandbox.pulumi.emulator import Emulator

EMULATOR: web.AppKey[Emulator] = web.AppKey("pulumi_emulator")
USER: web.RequestKey[User] = web.RequestKey("pulumi_emulator_user", User)  # the authenticated user
FAULT: web.RequestKey[int] = web.RequestKey("pulumi_emulator_fault", int)  # id of the fault applied
DROPPED: web.RequestKey[bool] = web.RequestKey("pulumi_emulator_dropped", bool)  # answered by closing


def emulator(request: web.Request) -> Emulator:
    return request.app[EMULATOR]


def user(request: web.Request) -> User:
    return request[USER]


def stack(request: web.Request) -> Stack:
    info = request.match_info
    return emulator(request).registry.stack(info["org"], info["project"], info["stack"])
