"""Fixtures for the client's HTTP tests: a scripted responder, clients with fast retries, our client on the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import SecretStr
from pytest_aiohttp import AiohttpServer

from bot.pulumi import PulumiClient, RetryPolicy
from tests.integration.client.scripted import Script
from tests.pulumi_sandbox import PulumiSandbox

TOKEN = "pul-0123456789abcdef-test-token"
FAST = RetryPolicy(attempts=3, base=0.01, cap=0.02, max_retry_after=5)


@pytest.fixture
async def script(aiohttp_server: AiohttpServer) -> AsyncIterator[Script]:
    scripted = Script()
    server = await aiohttp_server(scripted.app())
    scripted.url = str(server.make_url("")).rstrip("/")
    yield scripted
    scripted.release.set()


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., PulumiClient]]:
    made: list[PulumiClient] = []

    def make(url: str, **options: Any) -> PulumiClient:
        options.setdefault("retry", FAST)
        client = PulumiClient(SecretStr(options.pop("token", TOKEN)), base_url=url, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
async def pulumi(pulumi_sandbox: PulumiSandbox, make_client: Callable[..., PulumiClient]) -> PulumiClient:
    """Our client on the emulator, with the admin token and fast retries."""
    return make_client(pulumi_sandbox.url, token=pulumi_sandbox.token)
