"""Injected faults: counted and seeded-rate rules, each kind (5xx, 429 + Retry-After, delay, after-handler 502,
dropped connection), matching by method and path, and how they show in the request log."""

from __future__ import annotations

import time

import aiohttp
import pytest

from tests.integration.sandbox.conftest import Api
from tests.pulumi_sandbox import PulumiSandbox, SandboxError


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_the_next_n_matching_requests_fail(pulumi_sandbox: PulumiSandbox, api: Api, status: int) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    fault = await pulumi_sandbox.add_fault(method="GET", path="/settings$", status=status, count=2)
    assert fault["remaining"] == 2
    other = await api.get(f"{api.st()}/metadata")
    assert other.status == 200  # the path does not match
    replies = [await api.get(f"{api.st()}/settings") for _ in range(3)]
    assert [reply.status for reply in replies] == [status, status, 200]
    assert replies[0].body == {"code": status, "message": f"injected fault #{fault['id']}: HTTP {status}"}
    assert await pulumi_sandbox.faults() == []
    logged = [(entry["status"], entry.get("fault")) for entry in await pulumi_sandbox.requests()]
    assert logged == [(200, None), (status, fault["id"]), (status, fault["id"]), (200, None)]


async def test_429_carries_retry_after(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_fault(status=429, retryAfter=7, count=1)
    limited = await api.get(api.st())
    assert (limited.status, limited.headers["Retry-After"]) == (429, "7")
    assert (await api.get(api.st())).status == 200


async def test_a_delay(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_fault(path="/metadata", delay=0.3, count=1)
    started = time.monotonic()
    assert (await api.get(f"{api.st()}/metadata")).status == 200
    assert time.monotonic() - started >= 0.3


async def test_after_handler_processes_then_answers_502(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_fault(method="POST", path="/deployments$", afterHandler=True, count=1)
    failed = await api.post(api.st(), {"operation": "update"})
    assert failed.status == 502
    listed = (await api.get(api.st())).body
    assert listed["total"] == 1  # the create reached the server and happened


async def test_drop_closes_the_connection(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_fault(method="POST", path="/deployments$", drop=True, count=1)
    await pulumi_sandbox.add_fault(method="POST", path="/deployments$", drop=True, afterHandler=True, count=1)
    for _ in range(2):
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await api.post(api.st(), {"operation": "update"})
    assert (await api.get(api.st())).body["total"] == 1  # only the after-handler drop created one
    assert [entry["status"] for entry in await pulumi_sandbox.requests()][:2] == [0, 0]


async def test_a_rate_is_random_but_seeded(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")

    async def pattern() -> list[int]:
        await pulumi_sandbox.add_fault(path="/metadata", status=503, rate=0.5)
        statuses = [(await api.get(f"{api.st()}/metadata")).status for _ in range(30)]
        await pulumi_sandbox.clear_faults()  # clearing re-seeds the choice
        return statuses

    first, second = await pattern(), await pattern()
    assert first == second
    assert 0 < first.count(503) < 30


async def test_faults_leave_the_control_api_alone_and_bad_specs_are_400(pulumi_sandbox: PulumiSandbox) -> None:
    await pulumi_sandbox.add_fault(status=500)
    assert await pulumi_sandbox.create_stacks("web/dev") == ["acme/web/dev"]
    for spec in ({}, {"status": 404}, {"status": 500, "count": 0}, {"path": "("}, {"status": 500, "surprise": 1}):
        with pytest.raises(SandboxError) as refused:
            await pulumi_sandbox.add_fault(**spec)
        assert refused.value.status == 400


async def test_request_log_never_holds_the_token(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await api.get(api.st(), params={"page": "1"})
    await api.get(api.st(), token=None)
    [ok, unauthorized] = await pulumi_sandbox.requests()
    assert (ok["method"], ok["path"], ok["query"], ok["status"], ok["user"]) == (
        "GET",
        api.st(),
        {"page": "1"},
        200,
        "admin",
    )
    assert (unauthorized["status"], unauthorized["user"]) == (401, None)
    assert pulumi_sandbox.token not in str([ok, unauthorized])
    await pulumi_sandbox.clear_requests()
    assert await pulumi_sandbox.requests() == []
