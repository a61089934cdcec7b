"""Logs through our client against the emulator: streaming and step paging give the same lines, and following a
running deployment returns what is there and resumes from the last token.
"""

from __future__ import annotations

from bot.pulumi import (
    CreateDeploymentRequest,
    DeploymentLogs,
    JobStatus,
    OperationContext,
    PulumiClient,
    PulumiOperation,
    StackRef,
)
from tests.pulumi_sandbox import PulumiSandbox

STACK = StackRef("acme", "web", "dev")
# Pre-run commands give the job more steps, each with its own lines.
BUSY = CreateDeploymentRequest(
    operation=PulumiOperation.UPDATE,
    operation_context=OperationContext(pre_run_commands=["echo one", "echo two", "make build"]),
)


async def step_by_step(pulumi: PulumiClient, deployment_id: str) -> list[str]:
    """The whole log rebuilt from step mode, two lines per request: each step's name, then its lines."""
    deployment = await pulumi.get_deployment(STACK, deployment_id)
    entries: list[str] = []
    for index, step in enumerate(deployment.jobs[0].steps):
        if step.started is None:
            break
        entries.append(f"# {step.name}")
        entries += [line.line async for line in pulumi.iter_step_logs(STACK, deployment_id, step=index, count=2)]
    return entries


def as_entries(pages: list[DeploymentLogs]) -> list[str]:
    return [f"# {line.header}" if line.header is not None else line.text for page in pages for line in page.lines]


async def test_streaming_and_step_paging_reassemble_the_same_lines(
    pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient
) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    created = await pulumi.create_deployment(STACK, BUSY)
    await pulumi_sandbox.run_until_idle()

    pages = [page async for page in pulumi.iter_log_pages(STACK, created.id)]
    streamed = as_entries(pages)
    assert pages[-1].next_token is None  # finished: the stream says so by ending
    assert streamed == await step_by_step(pulumi, created.id)
    assert "# Pre-run command 3" in streamed
    assert all(entry.endswith("\n") for entry in streamed if not entry.startswith("# "))
    assert any("created" in entry for entry in streamed)  # the pulumi step's resource summary
    assert [line.text async for line in pulumi.iter_logs(STACK, created.id)] == [
        entry.removeprefix("# ") for entry in streamed
    ]


async def test_following_a_running_deployment_stops_at_the_present_and_resumes(
    pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient
) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    created = await pulumi.create_deployment(STACK, BUSY)
    await pulumi_sandbox.advance(4)
    assert (await pulumi.get_deployment(STACK, created.id)).status is JobStatus.RUNNING

    so_far = [page async for page in pulumi.iter_log_pages(STACK, created.id)]  # returns; it does not wait
    token = so_far[-1].next_token
    assert token is not None
    assert as_entries(so_far)
    assert (await pulumi.get_logs(STACK, created.id, continuation_token=token)).lines == []

    # Step mode ends too, at the running step's last line: the clock stands still, so both see the same lines.
    assert await step_by_step(pulumi, created.id) == as_entries(so_far)

    await pulumi_sandbox.run_until_idle()
    rest = [page async for page in pulumi.iter_log_pages(STACK, created.id, continuation_token=token)]
    assert rest[-1].next_token is None
    whole = [page async for page in pulumi.iter_log_pages(STACK, created.id)]
    assert as_entries(so_far) + as_entries(rest) == as_entries(whole)


async def test_step_pages_honour_offset_and_count(pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    created = await pulumi.create_deployment(STACK, BUSY)
    await pulumi_sandbox.run_until_idle()
    everything = await pulumi.get_step_logs(STACK, created.id, step=0, count=499)
    assert everything.next_offset is None
    assert everything.name == "Setup"
    first = await pulumi.get_step_logs(STACK, created.id, step=0, count=1)
    assert first.lines == everything.lines[:1]
    assert first.next_offset == 1
    tail = await pulumi.get_step_logs(STACK, created.id, step=0, offset=1, count=499)
    assert first.lines + tail.lines == everything.lines
