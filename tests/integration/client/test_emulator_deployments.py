"""Deployments through our client against the Pulumi emulator: create, read, list, queue, pause, cancel, fail."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.errors import AlreadyFinished, BadRequest, Forbidden, NotFound, Unauthorized
from bot.pulumi import (
    CreateDeploymentRequest,
    Deployment,
    GitSource,
    JobStatus,
    OperationContext,
    PulumiClient,
    PulumiOperation,
    SecretValue,
    SourceContext,
    StackRef,
    StepStatus,
)
from tests.pulumi_sandbox import MEMBER_TOKEN, PulumiSandbox

MakeClient = Callable[..., PulumiClient]

STACK = StackRef("acme", "web", "dev")
UPDATE = CreateDeploymentRequest(operation=PulumiOperation.UPDATE)


def with_env(operation: PulumiOperation = PulumiOperation.UPDATE, **env: str) -> CreateDeploymentRequest:
    variables: dict[str, SecretValue | None] = {name: SecretValue.plain(value) for name, value in env.items()}
    return CreateDeploymentRequest(
        operation=operation, operation_context=OperationContext(environment_variables=variables)
    )


def env_of(deployment: Deployment) -> dict[str, str | None]:
    assert deployment.configuration is not None
    return {var.name: var.value for var in deployment.configuration.environment_variables}


async def test_create_then_read_by_id_version_and_lists(pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    created = await pulumi.create_deployment(STACK, UPDATE)
    assert created.version == 1
    assert created.console_url.endswith("/acme/web/dev/deployments/1")

    queued = await pulumi.get_deployment(STACK, created.id)
    assert queued.status is JobStatus.NOT_STARTED
    assert queued.jobs == []
    await pulumi_sandbox.run_until_idle()
    done = await pulumi.get_deployment(STACK, created.id)
    assert done.status is JobStatus.SUCCEEDED
    assert done.is_finished
    assert done.pulumi_operation is PulumiOperation.UPDATE
    assert all(step.status is StepStatus.SUCCEEDED for step in done.jobs[0].steps)
    assert done.jobs[0].steps[-1].name == "pulumi update"
    assert (await pulumi.get_deployment_by_version(STACK, 1)).id == created.id

    stack_page = await pulumi.list_deployments(STACK)
    org_page = await pulumi.list_org_deployments("acme")
    assert [d.id for d in stack_page.deployments] == [d.id for d in org_page.deployments] == [created.id]
    assert org_page.deployments[0].project_name == "web"
    assert org_page.deployments[0].stack_name == "dev"

    (update,) = await pulumi.get_deployment_updates(STACK, created.id)
    assert update.info.resource_changes.get("create", 0) > 0  # a first update creates the stack's resources


async def test_list_paging_order_and_status_filter(pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    for _ in range(3):
        await pulumi.create_deployment(STACK, UPDATE)
    await pulumi_sandbox.run_until_idle()
    await pulumi.create_deployment(STACK, UPDATE)  # left queued

    newest_first = await pulumi.list_deployments(STACK, page=1, page_size=2)
    assert [d.version for d in newest_first.deployments] == [4, 3]
    assert newest_first.total == 4
    assert newest_first.items_per_page == 2
    oldest_first = await pulumi.list_deployments(STACK, page=2, page_size=2, asc=True)
    assert [d.version for d in oldest_first.deployments] == [3, 4]
    succeeded = await pulumi.list_deployments(STACK, status=JobStatus.SUCCEEDED)
    assert [d.version for d in succeeded.deployments] == [3, 2, 1]
    queued = await pulumi.list_org_deployments("acme", status=JobStatus.NOT_STARTED)
    assert [d.version for d in queued.deployments] == [4]


async def test_inherited_settings_merge_and_uninherited_ones_stand_alone(
    pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient
) -> None:
    await pulumi_sandbox.create_stacks(
        "web/dev",
        settings={
            "sourceContext": {"git": {"repoUrl": "https://github.com/acme/web.git", "branch": "refs/heads/main"}},
            "operationContext": {"environmentVariables": {"FROM_STACK": "yes", "SHARED": "stack"}},
        },
    )
    inherited = await pulumi.create_deployment(STACK, with_env(SHARED="request"))
    env = env_of(await pulumi.get_deployment(STACK, inherited.id))
    assert env["FROM_STACK"] == "yes"
    assert env["SHARED"] == "request"

    alone = CreateDeploymentRequest(
        operation=PulumiOperation.PREVIEW,
        inherit_settings=False,
        source_context=SourceContext(git=GitSource(repo_url="https://github.com/acme/other.git", branch="main")),
        operation_context=OperationContext(environment_variables={"ONLY": SecretValue.plain("request")}),
    )
    standalone = await pulumi.get_deployment(STACK, (await pulumi.create_deployment(STACK, alone)).id)
    names = set(env_of(standalone))
    assert "ONLY" in names
    assert "FROM_STACK" not in names
    assert standalone.configuration is not None
    assert standalone.configuration.source is not None
    assert standalone.configuration.source.git is not None
    assert standalone.configuration.source.git.repo_url == "https://github.com/acme/other.git"

    with pytest.raises(BadRequest, match="source"):
        await pulumi.create_deployment(STACK, UPDATE.model_copy(update={"inherit_settings": False}))


async def test_two_deployments_of_one_stack_run_one_after_the_other(
    pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient
) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    first = await pulumi.create_deployment(STACK, UPDATE)
    second = await pulumi.create_deployment(STACK, UPDATE)
    await pulumi_sandbox.advance(3)
    assert (await pulumi.get_deployment(STACK, first.id)).status is JobStatus.RUNNING
    assert (await pulumi.get_deployment(STACK, second.id)).status is JobStatus.NOT_STARTED
    await pulumi_sandbox.run_until_idle()
    one, two = [await pulumi.get_deployment(STACK, d.id) for d in (first, second)]
    assert one.status is two.status is JobStatus.SUCCEEDED
    assert one.jobs[0].last_updated is not None
    assert two.jobs[0].started is not None
    assert one.jobs[0].last_updated <= two.jobs[0].started


async def test_pause_create_metadata_resume_runs(pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi.pause_stack(STACK)
    created = await pulumi.create_deployment(STACK, UPDATE)
    stack_meta = await pulumi.get_stack_metadata(STACK)
    assert stack_meta.paused
    assert stack_meta.stack_paused
    assert not stack_meta.organization_paused
    assert (await pulumi.get_org_metadata("acme")).paused_stacks == ["web/dev"]
    await pulumi_sandbox.run_until_idle()
    assert (await pulumi.get_deployment(STACK, created.id)).status is JobStatus.NOT_STARTED

    await pulumi.resume_stack(STACK)
    assert not (await pulumi.get_stack_metadata(STACK)).paused
    await pulumi_sandbox.run_until_idle()
    assert (await pulumi.get_deployment(STACK, created.id)).status is JobStatus.SUCCEEDED


async def test_org_pause_is_for_administrators(pulumi_sandbox: PulumiSandbox, make_client: MakeClient) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    admin = make_client(pulumi_sandbox.url, token=pulumi_sandbox.token)
    member = make_client(pulumi_sandbox.url, token=MEMBER_TOKEN)
    with pytest.raises(Forbidden, match="administrators"):
        await member.pause_org("acme")
    await admin.pause_org("acme")
    created = await member.create_deployment(STACK, UPDATE)
    meta = await member.get_org_metadata("acme")
    assert meta.paused
    assert meta.deployment_counts.not_started == meta.deployment_counts.total == 1
    assert (await member.get_stack_metadata(STACK)).organization_paused
    await pulumi_sandbox.run_until_idle()
    await admin.resume_org("acme")
    await pulumi_sandbox.run_until_idle()
    assert (await member.get_deployment(STACK, created.id)).status is JobStatus.SUCCEEDED
    assert (await member.get_org_metadata("acme")).deployment_counts.succeeded == 1


async def test_cancel_queued_running_and_finished(pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    running = await pulumi.create_deployment(STACK, UPDATE)
    queued = await pulumi.create_deployment(STACK, UPDATE)
    await pulumi_sandbox.advance(3)
    assert (await pulumi.get_deployment(STACK, running.id)).status is JobStatus.RUNNING

    await pulumi.cancel_deployment(STACK, queued.id)
    await pulumi.cancel_deployment(STACK, running.id)
    for cancelled in (queued, running):
        assert (await pulumi.get_deployment(STACK, cancelled.id)).status is JobStatus.FAILED
    stopped = await pulumi.get_deployment(STACK, running.id)
    assert StepStatus.FAILED in {step.status for step in stopped.jobs[0].steps}
    assert any("cancel" in line.text.lower() for line in [line async for line in pulumi.iter_logs(STACK, running.id)])

    with pytest.raises(AlreadyFinished, match="already finished or gone"):
        await pulumi.cancel_deployment(STACK, running.id)
    with pytest.raises(AlreadyFinished):
        await pulumi.cancel_deployment(STACK, "no-such-deployment")


@pytest.mark.parametrize("choice", ["Get source", "3"])  # Setup, Download deployment executor, Get source
async def test_sandbox_fail_step_fails_that_step_and_the_deployment(
    pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient, choice: str
) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    created = await pulumi.create_deployment(STACK, with_env(SANDBOX_FAIL_STEP=choice))
    await pulumi_sandbox.run_until_idle()
    failed = await pulumi.get_deployment(STACK, created.id)
    assert failed.status is JobStatus.FAILED
    statuses = {step.name: step.status for step in failed.jobs[0].steps}
    assert statuses["Get source"] is StepStatus.FAILED
    assert statuses["pulumi update"] is StepStatus.NOT_STARTED
    index = [step.name for step in failed.jobs[0].steps].index("Get source")
    lines = [line.line async for line in pulumi.iter_step_logs(STACK, created.id, step=index)]
    assert any("error" in line for line in lines)


async def test_not_found_says_stack_or_deployment(pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    with pytest.raises(NotFound) as missing_stack:
        await pulumi.get_deployment(StackRef("acme", "web", "nope"), "d-1")
    assert missing_stack.value.resource == "stack"
    with pytest.raises(NotFound) as missing_deployment:
        await pulumi.get_deployment(STACK, "d-1")
    assert missing_deployment.value.resource == "deployment"
    with pytest.raises(NotFound) as missing_version:
        await pulumi.get_deployment_by_version(STACK, 99)
    assert missing_version.value.resource == "deployment"
    with pytest.raises(NotFound) as missing_org:
        await pulumi.get_org_metadata("nobody")
    assert missing_org.value.resource == "organization"
    with pytest.raises(NotFound) as create_on_missing:
        await pulumi.create_deployment(StackRef("acme", "web", "nope"), UPDATE)
    assert create_on_missing.value.resource == "stack"


async def test_a_bad_token_is_unauthorized(pulumi_sandbox: PulumiSandbox, make_client: MakeClient) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    with pytest.raises(Unauthorized, match="rejected the access token"):
        await make_client(pulumi_sandbox.url, token="pul-wrong").get_settings(STACK)
