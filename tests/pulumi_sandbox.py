"""Test-side handle on the Pulumi Deployments emulator: serve it on a free port, drive ``/_sandbox/`` over HTTP.

Usage: ``async with start_pulumi_sandbox() as pulumi: await pulumi.create_stacks("web/dev")``, point the code under
test at ``pulumi.url`` with ``pulumi.token``, then ``await pulumi.run_until_idle()``. Webhooks: ``await
pulumi.add_webhook(url, secret=…)``, then ``await pulumi.webhook_deliveries(min=n, idle=True)`` to wait for them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web

from bot.sandbox.pulumi import EmulatorConfig, create_app

ADMIN_TOKEN = "pul-test-admin"
MEMBER_TOKEN = "pul-test-member"


class SandboxError(Exception):
    """The control API refused a request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class PulumiSandbox:
    """A running emulator. Every method talks to it over HTTP, never to its memory."""

    def __init__(
        self, url: str, token: str, member_token: str | None, org: str, session: aiohttp.ClientSession
    ) -> None:
        self.url = url  # base URL: no trailing slash, no /api (what Pulumi's SDK calls "host")
        self.token = token
        self.member_token = member_token
        self.org = org
        self._session = session

    def headers(self, token: str | None = None) -> dict[str, str]:
        """The Authorization header Pulumi expects (the admin token unless another is given)."""
        return {"Authorization": f"token {token or self.token}"}

    def stack_ref(self, name: str) -> str:
        """``project/stack`` in this sandbox's org, or a full ``org/project/stack`` as given."""
        return name if name.count("/") == 2 else f"{self.org}/{name}"

    async def _control(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        query = {key: str(value) for key, value in params.items() if value is not None}
        async with self._session.request(method, f"{self.url}/_sandbox/{path}", json=body, params=query) as resp:
            answer = await resp.json()
            if resp.status >= 400:
                raise SandboxError(resp.status, answer.get("message", ""))
            return answer

    async def create_stacks(
        self, *names: str, settings: dict[str, Any] | None = None, with_settings: bool = True
    ) -> list[str]:
        """Create stacks (``project/stack`` in this org, or ``org/project/stack``); returns their full names."""
        body = {"stacks": [self.stack_ref(name) for name in names], "withSettings": with_settings}
        if settings is not None:
            body["settings"] = settings
        return list((await self._control("POST", "stacks", body))["stacks"])

    async def push(self, repo_url: str, branch: str, commit: str | None = None) -> str:
        """Move a branch to ``commit`` (or a new SHA); returns the branch's new SHA."""
        body = {"repoUrl": repo_url, "branch": branch, "commit": commit}
        return str((await self._control("POST", "git/push", body))["commit"])

    async def head(self, repo_url: str, branch: str = "refs/heads/main") -> str:
        return str((await self._control("GET", "git/head", repoUrl=repo_url, branch=branch))["commit"])

    async def advance(self, steps: int = 1) -> dict[str, Any]:
        result: dict[str, Any] = await self._control("POST", "advance", {"steps": steps})
        return result

    async def run_until_idle(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._control("POST", "advance", {"untilIdle": True})
        return result

    async def set_concurrency(self, org: str, n: int) -> None:
        await self._control("PUT", f"orgs/{org}/concurrency", {"concurrency": n})

    async def set_step_seconds(self, seconds: float) -> None:
        await self._control("PUT", "clock", {"stepSeconds": seconds})

    async def clock(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._control("GET", "clock")
        return result

    async def add_fault(self, **spec: Any) -> dict[str, Any]:
        """Inject a fault; keyword names are the control API's (method, path, status, retryAfter, delay,
        afterHandler, drop, count, rate)."""
        result: dict[str, Any] = await self._control("POST", "faults", spec)
        return result

    async def faults(self) -> list[dict[str, Any]]:
        return list((await self._control("GET", "faults"))["faults"])

    async def clear_faults(self) -> None:
        await self._control("DELETE", "faults")

    async def requests(self, since: int = 0) -> list[dict[str, Any]]:
        return list((await self._control("GET", "requests", since=since))["requests"])

    async def clear_requests(self) -> None:
        await self._control("DELETE", "requests")

    async def events(self, since: int = 0) -> list[dict[str, Any]]:
        return list((await self._control("GET", "events", since=since))["events"])

    async def reset(self) -> None:
        await self._control("POST", "reset")

    async def add_webhook(
        self, url: str, secret: str | None = None, filters: list[str] | None = None, stack: str | None = None
    ) -> dict[str, Any]:
        """Register a deployment webhook on this sandbox's org (or on one stack: ``project/stack`` here, or a full
        ``org/project/stack``); returns it with its ``id``. ``filters`` None means all four events."""
        body: dict[str, Any] = {"url": url, "secret": secret, "filters": filters, "org": self.org}
        if stack is not None:
            body["org"], _, body["stack"] = self.stack_ref(stack).partition("/")
        result: dict[str, Any] = await self._control("POST", "webhooks", body)
        return result

    async def webhooks(self) -> list[dict[str, Any]]:
        return list((await self._control("GET", "webhooks"))["webhooks"])

    async def clear_webhooks(self) -> None:
        await self._control("DELETE", "webhooks")

    async def webhook_deliveries(
        self, min: int = 0, wait: float = 5.0, *, since: int = 0, idle: bool = False
    ) -> list[dict[str, Any]]:
        """Deliveries (after ``since``) once at least ``min`` exist, and with ``idle`` once none is still pending
        (queued, delayed, held or in flight); the emulator holds the request until then, at most ``wait``
        seconds. Raises TimeoutError when the wait runs out first."""
        flag = "true" if idle else "false"
        answer = await self._control("GET", "webhooks/deliveries", since=since, min=min, wait=wait, idle=flag)
        found: list[dict[str, Any]] = answer["deliveries"]
        if len(found) < min or (idle and answer["pending"]):
            raise TimeoutError(
                f"waited {wait}s for {min} webhook deliveries{' and none pending' if idle else ''}: "
                f"{len(found)} arrived, {answer['pending']} pending"
            )
        return found

    async def webhook_faults(self, **spec: Any) -> dict[str, Any]:
        """Set webhook faults (keyword names as in the control API: drop, duplicate, delay, count, reorder) and
        return them all; with no argument, only return them."""
        result: dict[str, Any] = await self._control("POST" if spec else "GET", "webhooks/faults", spec or None)
        return result

    async def clear_webhook_faults(self) -> None:
        await self._control("DELETE", "webhooks/faults")


@asynccontextmanager
async def start_pulumi_sandbox(*, org: str = "acme", **config: Any) -> AsyncIterator[PulumiSandbox]:
    """Serve an emulator on a free 127.0.0.1 port. Defaults for tests: manual clock, the given org with no
    stacks, admin token "pul-test-admin" and member token "pul-test-member"; ``config`` overrides any
    ``EmulatorConfig`` field."""
    settings: dict[str, Any] = {
        "admin_tokens": (ADMIN_TOKEN,),
        "member_tokens": (MEMBER_TOKEN,),
        "manual_clock": True,
        "demo_org": False,
        "orgs": (org,),
        **config,
    }
    emulator = EmulatorConfig(**settings)
    runner = web.AppRunner(create_app(emulator), handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)  # port 0: the OS picks a free port, no race
        await site.start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as session:
            member = emulator.member_tokens[0] if emulator.member_tokens else None
            yield PulumiSandbox(f"http://127.0.0.1:{port}", emulator.admin_tokens[0], member, org, session)
    finally:
        await runner.cleanup()
