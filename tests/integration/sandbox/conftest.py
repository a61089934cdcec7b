"""Fixtures for the emulator's HTTP tests: ``api`` makes plain aiohttp calls to its ``/api`` with a token."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tests.pulumi_sandbox import PulumiSandbox

_NO_BODY = object()


@dataclass
class Reply:
    status: int
    body: Any  # parsed JSON, or the raw text when the answer is not JSON
    text: str
    headers: dict[str, str]


class Api:
    """What a Pulumi client sends, spelled out: method, path under the base URL, Authorization header."""

    def __init__(self, sandbox: PulumiSandbox, session: aiohttp.ClientSession) -> None:
        self.sandbox = sandbox
        self.session = session

    @staticmethod
    def st(stack: str = "web/dev", org: str = "acme") -> str:
        """The stack prefix every stack endpoint shares: /api/stacks/{org}/{project}/{stack}/deployments."""
        return f"/api/stacks/{org}/{stack}/deployments"

    async def call(
        self,
        method: str,
        path: str,
        body: Any = _NO_BODY,
        *,
        token: str | None = "admin",
        data: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> Reply:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            real = {"admin": self.sandbox.token, "member": self.sandbox.member_token}.get(token, token)
            headers["Authorization"] = f"token {real}"
        payload = data if data is not None else (None if body is _NO_BODY else json.dumps(body).encode())
        url = self.sandbox.url + path
        async with self.session.request(method, url, data=payload, headers=headers, params=params) as resp:
            text = await resp.text()
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = text
            return Reply(resp.status, parsed, text, dict(resp.headers))

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, body: Any = _NO_BODY, **kwargs: Any) -> Reply:
        return await self.call("POST", path, body, **kwargs)

    async def create(self, stack: str = "web/dev", body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create a deployment and return the 202 answer ({id, consoleUrl, version})."""
        reply = await self.post(self.st(stack), body if body is not None else {"operation": "update"})
        assert reply.status == 202, reply.text
        created: dict[str, Any] = reply.body
        return created

    async def deployment(self, deployment_id: str, stack: str = "web/dev") -> dict[str, Any]:
        reply = await self.get(f"{self.st(stack)}/{deployment_id}")
        assert reply.status == 200, reply.text
        found: dict[str, Any] = reply.body
        return found


@pytest.fixture
async def api(pulumi_sandbox: PulumiSandbox) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(pulumi_sandbox, session)
