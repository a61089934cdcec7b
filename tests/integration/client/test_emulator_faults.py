"""Retries against injected faults in the emulator: reads recover, Retry-After is honoured, and a create that may
have reached the service is never repeated (exactly one deployment exists afterwards).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.errors import ServerError, Unavailable
from bot.pulumi import CreateDeploymentRequest, JobStatus, PulumiClient, PulumiOperation, StackRef
from tests.pulumi_sandbox import PulumiSandbox

STACK = StackRef("acme", "web", "dev")
DEPLOYMENTS = "/api/stacks/acme/web/dev/deployments"
UPDATE = CreateDeploymentRequest(operation=PulumiOperation.UPDATE)


async def logged(sandbox: PulumiSandbox, method: str, path: str) -> list[dict[str, object]]:
    return [entry for entry in await sandbox.requests() if entry["method"] == method and entry["path"] == path]


async def deployments_in(sandbox: PulumiSandbox, pulumi: PulumiClient) -> int:
    await sandbox.clear_faults()
    return (await pulumi.list_deployments(STACK)).total


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_reads_recover_from_transient_server_errors(
    pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient, status: int
) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_fault(method="GET", path="/settings$", status=status, count=2)
    settings = await pulumi.get_settings(STACK)
    assert settings.source_context is not None
    statuses = [entry["status"] for entry in await logged(pulumi_sandbox, "GET", f"{DEPLOYMENTS}/settings")]
    assert statuses == [status, status, 200]


async def test_reads_give_up_after_the_last_attempt(pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_fault(method="GET", path="/metadata$", status=503)
    with pytest.raises(ServerError, match="injected fault"):
        await pulumi.get_stack_metadata(STACK)
    assert len(await logged(pulumi_sandbox, "GET", f"{DEPLOYMENTS}/metadata")) == 3


async def test_a_429_is_retried_after_its_retry_after(pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_fault(method="GET", path="/metadata$", status=429, retryAfter=1, count=1)
    assert not (await pulumi.get_stack_metadata(STACK)).paused
    refused, served = await logged(pulumi_sandbox, "GET", f"{DEPLOYMENTS}/metadata")
    assert (refused["status"], served["status"]) == (429, 200)
    gap = datetime.fromisoformat(str(served["at"])) - datetime.fromisoformat(str(refused["at"]))
    assert gap.total_seconds() >= 1.0


async def test_a_dropped_read_is_retried(pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_fault(method="GET", path="/metadata$", drop=True, count=1)
    assert not (await pulumi.get_stack_metadata(STACK)).paused
    statuses = [entry["status"] for entry in await logged(pulumi_sandbox, "GET", f"{DEPLOYMENTS}/metadata")]
    assert statuses == [0, 200]  # 0: closed without an answer


async def test_a_create_refused_with_429_is_retried_and_runs_once(
    pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient
) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_fault(method="POST", path="/deployments$", status=429, retryAfter=0, count=2)
    created = await pulumi.create_deployment(STACK, UPDATE)
    assert [entry["status"] for entry in await logged(pulumi_sandbox, "POST", DEPLOYMENTS)] == [429, 429, 202]
    assert await deployments_in(pulumi_sandbox, pulumi) == 1
    assert (await pulumi.get_deployment(STACK, created.id)).status is JobStatus.NOT_STARTED


async def test_a_create_answered_502_after_it_ran_is_not_repeated(
    pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient
) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_fault(method="POST", path="/deployments$", afterHandler=True, status=502)
    with pytest.raises(ServerError, match="may have started the deployment anyway"):
        await pulumi.create_deployment(STACK, UPDATE)
    assert len(await logged(pulumi_sandbox, "POST", DEPLOYMENTS)) == 1
    assert await deployments_in(pulumi_sandbox, pulumi) == 1


async def test_a_create_whose_connection_dropped_after_it_ran_is_not_repeated(
    pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient
) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_fault(method="POST", path="/deployments$", afterHandler=True, drop=True)
    with pytest.raises(Unavailable, match="may have reached Pulumi") as caught:
        await pulumi.create_deployment(STACK, UPDATE)
    assert caught.value.sent is None
    assert len(await logged(pulumi_sandbox, "POST", DEPLOYMENTS)) == 1
    assert await deployments_in(pulumi_sandbox, pulumi) == 1


@pytest.mark.parametrize("fault", [{"drop": True}, {"status": 503}], ids=["dropped", "503"])
async def test_a_create_that_failed_before_running_is_not_repeated_either(
    pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient, fault: dict[str, object]
) -> None:
    # From the outside this looks exactly like a failure after running: the client cannot tell, so it never repeats.
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_fault(method="POST", path="/deployments$", **fault)
    with pytest.raises((ServerError, Unavailable)):
        await pulumi.create_deployment(STACK, UPDATE)
    assert len(await logged(pulumi_sandbox, "POST", DEPLOYMENTS)) == 1
    assert await deployments_in(pulumi_sandbox, pulumi) == 0


async def test_pause_is_repeated_after_a_server_error(pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_fault(method="POST", path="/pause$", afterHandler=True, status=502, count=1)
    await pulumi.pause_stack(STACK)
    assert (await pulumi.get_stack_metadata(STACK)).stack_paused
    assert [entry["status"] for entry in await logged(pulumi_sandbox, "POST", f"{DEPLOYMENTS}/pause")] == [502, 200]


async def test_a_cancel_that_worked_before_its_answer_was_lost_is_a_success(
    pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient
) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    created = await pulumi.create_deployment(STACK, UPDATE)
    await pulumi_sandbox.add_fault(method="POST", path="/cancel$", afterHandler=True, status=502, count=1)
    await pulumi.cancel_deployment(STACK, created.id)  # not "already finished": it was this call that stopped it
    assert (await pulumi.get_deployment(STACK, created.id)).status is JobStatus.FAILED
    assert len(await logged(pulumi_sandbox, "POST", f"{DEPLOYMENTS}/{created.id}/cancel")) == 1


async def test_a_cancel_that_did_not_get_through_is_asked_again(
    pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient
) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    created = await pulumi.create_deployment(STACK, UPDATE)
    await pulumi_sandbox.advance(3)
    await pulumi_sandbox.add_fault(method="POST", path="/cancel$", status=503, count=2)
    await pulumi.cancel_deployment(STACK, created.id)
    assert (await pulumi.get_deployment(STACK, created.id)).status is JobStatus.FAILED
    statuses = [entry["status"] for entry in await logged(pulumi_sandbox, "POST", f"{DEPLOYMENTS}/{created.id}/cancel")]
    assert statuses == [503, 503, 200]
