"""Pausing and resuming stacks and orgs (queued deployments wait, running ones finish), metadata, and cancel."""

from __future__ import annotations

from typing import Any

from tests.integration.sandbox.conftest import Api
from tests.pulumi_sandbox import PulumiSandbox


async def _status(api: Api, created: dict[str, Any], stack: str = "web/dev") -> str:
    return str((await api.deployment(created["id"], stack))["status"])


async def test_pause_a_stack_then_create_then_resume(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev", "web/prod")
    running = await api.create()
    await pulumi_sandbox.advance(2)
    assert (await api.post(f"{api.st()}/pause")).status == 200
    queued = await api.create()
    other = await api.create("web/prod")
    await pulumi_sandbox.run_until_idle()
    assert await _status(api, running) == "succeeded"  # running ones finish
    assert await _status(api, queued) == "not-started"
    assert (await api.deployment(queued["id"]))["paused"] is True
    assert await _status(api, other, "web/prod") == "succeeded"
    metadata = (await api.get(f"{api.st()}/metadata")).body
    assert metadata == {"paused": True, "stackPaused": True, "organizationPaused": False, "hasSchedules": False}
    assert (await api.get("/api/orgs/acme/deployments/metadata")).body["pausedStacks"] == ["web/dev"]
    assert (await api.post(f"{api.st()}/resume")).status == 200
    assert (await api.get(f"{api.st()}/metadata")).body["paused"] is False
    await pulumi_sandbox.run_until_idle()
    assert await _status(api, queued) == "succeeded"


async def test_pause_needs_settings(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev", with_settings=False)
    for action in ("pause", "resume"):
        refused = await api.post(f"{api.st()}/{action}")
        assert refused.status == 400
        assert "no deployment settings" in refused.body["message"]


async def test_pause_the_org(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev", "api/dev")
    running = await api.create()
    await pulumi_sandbox.advance()
    assert (await api.post("/api/orgs/acme/deployments/pause")).status == 200
    waiting = await api.create("api/dev")
    await pulumi_sandbox.run_until_idle()
    assert await _status(api, running) == "succeeded"
    assert await _status(api, waiting, "api/dev") == "not-started"
    stack_view = (await api.get(f"{api.st('api/dev')}/metadata")).body
    assert stack_view == {"paused": True, "stackPaused": False, "organizationPaused": True, "hasSchedules": False}
    org_view = (await api.get("/api/orgs/acme/deployments/metadata")).body
    assert org_view["paused"] is True
    assert org_view["deploymentCounts"]["notStarted"] == 1
    assert (await api.post("/api/orgs/acme/deployments/resume")).status == 200
    await pulumi_sandbox.run_until_idle()
    assert await _status(api, waiting, "api/dev") == "succeeded"


async def test_cancel_queued_running_and_finished(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    running, queued, after = await api.create(), await api.create(), await api.create()
    await pulumi_sandbox.advance(3)  # running: step 2 in progress
    assert (await api.post(f"{api.st()}/{queued['id']}/cancel")).status == 200
    assert (await api.post(f"{api.st()}/{running['id']}/cancel")).status == 200
    stopped = await api.deployment(running["id"])
    assert stopped["status"] == "failed"
    assert [s["status"] for s in stopped["jobs"][0]["steps"]] == [
        "succeeded",
        "failed",
        "not-started",
        "not-started",
        "not-started",
    ]
    removed = await api.deployment(queued["id"])
    assert removed["status"] == "failed"
    assert removed["jobs"][0]["steps"][0]["status"] == "failed"
    for created in (running, queued):
        lines = (await api.get(f"{api.st()}/{created['id']}/logs")).body["lines"]
        assert any("cancelled" in line.get("line", "") for line in lines)
    # The stack is free and the cancelled one left the queue: the third runs next.
    await pulumi_sandbox.advance()
    assert await _status(api, after) == "accepted"
    await pulumi_sandbox.run_until_idle()
    for finished in (running, after):
        refused = await api.post(f"{api.st()}/{finished['id']}/cancel")
        assert refused.status == 409
        assert "already finished" in refused.body["message"]
    assert (await api.post(f"{api.st()}/not-an-id/cancel")).status == 404


async def test_cancel_an_accepted_deployment_frees_the_slot(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev", "web/prod")
    await pulumi_sandbox.set_concurrency("acme", 1)
    first, waiting = await api.create(), await api.create("web/prod")
    await pulumi_sandbox.advance()
    assert await _status(api, first) == "accepted"
    await api.post(f"{api.st()}/{first['id']}/cancel")
    assert await _status(api, first) == "failed"
    await pulumi_sandbox.advance()
    assert await _status(api, waiting, "web/prod") == "accepted"
