"""Pulumi's official Python SDK against the emulator over real HTTP, for every endpoint: answers parse into the
SDK's models. The SDK is synchronous, so calls run in threads; partial bodies go as plain dicts because SDK models
send every unset key as ``null``, which the settings merge reads as "remove" (wire reference §8, §10 fact 4).
"""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.error
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pulumi_cloud_sdk import ApiClient, Configuration
from pulumi_cloud_sdk.apis.deployments_api_ import DeploymentsApi
from pulumi_cloud_sdk.models import (
    CreateDeploymentRequest,
    CreateDeploymentResponse,
    DeploymentLogs,
    DeploymentLogsStep,
    DeploymentSettings,
    GetDeploymentResponse,
    JobStatus,
    ListDeploymentResponseV2,
    OrgDeploymentsMetadataResponse,
    PulumiOperation,
    SecretValue,
    StackDeploymentsMetadataResponse,
    StepStatus,
    UpdateInfo,
)

from tests.pulumi_sandbox import PulumiSandbox

ORG, PROJECT, STACK = "acme", "web", "dev"
# Settings the SDK can read back: every environment variable a secret (see the limitation test below).
SDK_SAFE_SETTINGS: dict[str, Any] = {
    "sourceContext": {
        "git": {
            "repoURL": "https://github.com/acme/web.git",
            "branch": "main",
            "repoDir": "infra",
            "gitAuth": {"accessToken": {"secret": "ghp_token"}},
        }
    },
    "operationContext": {
        "environmentVariables": {"API_KEY": {"secret": "k3y"}},
        "preRunCommands": ["echo hi"],
        "oidc": {"aws": {"roleArn": "arn:aws:iam::1:role/deploy", "sessionName": "deploy"}},
        "options": {"skipIntermediateDeployments": False},
    },
    "executorContext": {"executorImage": "pulumi/pulumi-nodejs:latest"},
    "gitHub": {"repository": "acme/web", "deployCommits": True},
    "cacheOptions": {"enable": True},
}


@pytest.fixture
def sdk(pulumi_sandbox: PulumiSandbox) -> DeploymentsApi:
    configuration = Configuration()
    configuration.host = pulumi_sandbox.url
    configuration.access_token = pulumi_sandbox.token
    return DeploymentsApi(ApiClient(configuration))


async def call(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(method, *args, **kwargs)


async def http_error(method: Callable[..., Any], *args: Any) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of an SDK call that fails (the SDK raises urllib's HTTPError unwrapped)."""
    try:
        await call(method, *args)
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read())
        finally:
            exc.close()
    raise AssertionError("the call succeeded")


async def test_settings_endpoints(pulumi_sandbox: PulumiSandbox, sdk: DeploymentsApi) -> None:
    await pulumi_sandbox.create_stacks("web/dev", with_settings=False)
    replaced = await call(sdk.replace_deployment_settings, ORG, PROJECT, STACK, SDK_SAFE_SETTINGS)
    assert isinstance(replaced, DeploymentSettings)
    git = replaced.source_context.git
    assert (git.repo_url, git.branch, git.repo_dir) == ("https://github.com/acme/web.git", "main", "infra")
    assert git.git_auth.access_token.secret == "[secret]"
    api_key = replaced.operation_context.environment_variables["API_KEY"]
    assert isinstance(api_key, SecretValue)
    assert api_key.secret == "[secret]"
    assert isinstance(api_key.ciphertext, bytes)
    assert replaced.executor_context.executor_image.reference == "pulumi/pulumi-nodejs:latest"
    assert replaced.operation_context.oidc.aws.role_arn == "arn:aws:iam::1:role/deploy"
    assert replaced.cache_options.enable is True
    assert replaced.git_hub.deploy_commits is True

    encrypted = await call(sdk.encrypt_deployment_settings_secret, ORG, PROJECT, STACK, SecretValue(secret="s3"))
    assert isinstance(encrypted, SecretValue)
    assert encrypted.secret == "[secret]"
    ciphertext = base64.b64encode(encrypted.ciphertext).decode()
    patch = {"operationContext": {"environmentVariables": {"OTHER": {"ciphertext": ciphertext}}}}
    patched = await call(sdk.patch_deployment_settings, ORG, PROJECT, STACK, patch)
    assert patched.operation_context.environment_variables["OTHER"].ciphertext == encrypted.ciphertext
    assert set(patched.operation_context.environment_variables) == {"API_KEY", "OTHER"}
    fetched = await call(sdk.get_deployment_settings, ORG, PROJECT, STACK)
    assert fetched.operation_context.pre_run_commands == ["echo hi"]
    assert await call(sdk.delete_deployment_settings, ORG, PROJECT, STACK) is True
    status, body = await http_error(sdk.get_deployment_settings, ORG, PROJECT, STACK)
    assert (status, body["code"]) == (404, 404)
    assert "No deployment settings" in body["message"]
    status, body = await http_error(sdk.encrypt_deployment_settings_secret, ORG, PROJECT, STACK, SecretValue(secret=""))
    assert status == 400


async def test_sdk_cannot_read_plaintext_environment_variables(
    pulumi_sandbox: PulumiSandbox, sdk: DeploymentsApi
) -> None:
    """An SDK limitation, pinned: the service (and the seed doc) send non-secret environment variables as bare
    strings, but the SDK types every value as SecretValue and cannot deserialize a string. The emulator stays
    faithful to the service; clients that must read such settings need their own models."""
    plain = {"sourceContext": {"git": {"repoUrl": "https://github.com/acme/web.git"}}}
    plain["operationContext"] = {"environmentVariables": {"REGION": "eu"}}
    await pulumi_sandbox.create_stacks("web/dev", settings=plain)
    with pytest.raises(TypeError, match="SecretValue"):
        await call(sdk.get_deployment_settings, ORG, PROJECT, STACK)


async def test_create_with_sdk_models_sends_nulls(pulumi_sandbox: PulumiSandbox, sdk: DeploymentsApi) -> None:
    """The SDK's CreateDeploymentRequest serializes every unset key as null. Under the merge rule ("null removes")
    those nulls wipe the inherited source, so the emulator answers 400; by default the model also sends
    inheritSettings=false. Partial bodies must go as dicts (as the tests below do)."""
    await pulumi_sandbox.create_stacks("web/dev")
    model = CreateDeploymentRequest(operation=PulumiOperation.Update, inherit_settings=True)
    status, body = await http_error(sdk.create_api_deployment_handler_v2, ORG, PROJECT, STACK, model)
    assert status == 400
    assert "no source" in body["message"]
    logged = (await pulumi_sandbox.requests())[-1]["body"]
    assert logged["sourceContext"] is None
    assert logged["inheritSettings"] is True


async def _create(sdk: DeploymentsApi, body: dict[str, Any] | None = None) -> CreateDeploymentResponse:
    created = await call(sdk.create_api_deployment_handler_v2, ORG, PROJECT, STACK, body or {"operation": "update"})
    assert isinstance(created, CreateDeploymentResponse)
    return created


async def test_deployments_in_every_status_parse(pulumi_sandbox: PulumiSandbox, sdk: DeploymentsApi) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await call(sdk.patch_deployment_settings, ORG, PROJECT, STACK, SDK_SAFE_SETTINGS)
    first = await _create(sdk)
    assert (first.version, first.console_url) == (1, "https://app.pulumi.com/acme/web/dev/deployments/1")
    queued = await call(sdk.get_deployment, ORG, PROJECT, STACK, first.id)
    assert isinstance(queued, GetDeploymentResponse)
    assert (queued.status, queued.jobs, queued.latest_version) == (JobStatus.NotStarted, None, 1)
    await pulumi_sandbox.advance()
    assert (await call(sdk.get_deployment, ORG, PROJECT, STACK, first.id)).status == JobStatus.Accepted
    await pulumi_sandbox.advance()
    running = await call(sdk.get_deployment_version, ORG, PROJECT, STACK, "1")
    assert running.status == JobStatus.Running
    steps = running.jobs[0].steps
    assert steps[0].status == StepStatus.Running
    assert steps[1].started == datetime(1, 1, 1, tzinfo=UTC)  # the Go zero time
    assert running.jobs[0].started.year > 2000
    failing = await _create(
        sdk,
        {"operation": "preview", "operationContext": {"environmentVariables": {"SANDBOX_FAIL_STEP": {"secret": "1"}}}},
    )
    await pulumi_sandbox.run_until_idle()
    done = await call(sdk.get_deployment, ORG, PROJECT, STACK, first.id)
    assert (done.status, done.pulumi_operation, done.requested_by.github_login) == (
        JobStatus.Succeeded,
        PulumiOperation.Update,
        "admin",
    )
    variables = {variable.name: variable for variable in done.configuration.environment_variables}
    assert variables["API_KEY"].secret is True
    assert variables["API_KEY"].value is None
    assert done.configuration.source.git.repo_url == "https://github.com/acme/web.git"
    assert len(done.configuration.source.git.commit) == 40
    failed = await call(sdk.get_deployment, ORG, PROJECT, STACK, failing.id)
    assert failed.status == JobStatus.Failed
    assert failed.jobs[0].steps[0].status == StepStatus.Failed
    await call(
        sdk.patch_deployment_settings,
        ORG,
        PROJECT,
        STACK,
        {"operationContext": {"options": {"skipIntermediateDeployments": True}}},
    )
    await _create(sdk)
    await pulumi_sandbox.advance()
    skipped, _ = await _create(sdk), await _create(sdk)
    await pulumi_sandbox.run_until_idle()
    assert (await call(sdk.get_deployment, ORG, PROJECT, STACK, skipped.id)).status == JobStatus.Skipped
    status, body = await http_error(sdk.get_deployment, ORG, PROJECT, STACK, "nope")
    assert (status, body["message"]) == (404, "Deployment 'nope' not found for stack 'acme/web/dev'")


async def test_lists_logs_and_updates(pulumi_sandbox: PulumiSandbox, sdk: DeploymentsApi) -> None:
    await pulumi_sandbox.create_stacks("web/dev", "api/prod")
    await call(sdk.patch_deployment_settings, ORG, PROJECT, STACK, SDK_SAFE_SETTINGS)
    done = await _create(sdk)
    await pulumi_sandbox.run_until_idle()
    waiting = await _create(sdk)
    page = await call(sdk.list_stack_deployments_handler_v2, ORG, PROJECT, STACK, page=1, page_size=1, asc=False)
    assert isinstance(page, ListDeploymentResponseV2)
    assert (page.total, page.items_per_page, page.deployments[0].id) == (2, 1, waiting.id)
    assert page.deployments[0].jobs == []
    org_page = await call(sdk.list_org_deployments, ORG, asc=True)
    assert [item.id for item in org_page.deployments] == [done.id, waiting.id]
    finished = org_page.deployments[0]
    assert (finished.project_name, finished.stack_name) == ("web", "dev")
    assert finished.updates[0].result.value == "succeeded"
    assert finished.jobs[0].status == JobStatus.Succeeded

    streamed: list[Any] = []
    logs = await call(sdk.get_deployment_logs, ORG, PROJECT, STACK, done.id)
    while True:
        assert isinstance(logs, DeploymentLogs)
        streamed += logs.lines
        if not logs.next_token:
            break
        logs = await call(sdk.get_deployment_logs, ORG, PROJECT, STACK, done.id, continuation_token=logs.next_token)
    assert streamed[0].header == "Setup"
    step = await call(sdk.get_deployment_logs, ORG, PROJECT, STACK, done.id, job=0, step=0, offset=0, count=1)
    assert isinstance(step, DeploymentLogsStep)
    assert (step.name, step.next_offset, step.lines[0].line) == ("Setup", 1, streamed[1].line)

    [update] = await call(sdk.get_deployment_updates, ORG, PROJECT, STACK, done.id)
    assert isinstance(update, UpdateInfo)
    assert update.info.resource_changes["create"] >= 3
    assert update.info.environment["git.headName"] == "refs/heads/main"
    assert await call(sdk.get_deployment_updates, ORG, PROJECT, STACK, waiting.id) == []


async def test_pause_resume_metadata_and_cancel(pulumi_sandbox: PulumiSandbox, sdk: DeploymentsApi) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    assert await call(sdk.pause_stack_deployments, ORG, PROJECT, STACK) == b""
    stack_view = await call(sdk.stack_deployments_metadata, ORG, PROJECT, STACK)
    assert isinstance(stack_view, StackDeploymentsMetadataResponse)
    assert (stack_view.paused, stack_view.stack_paused, stack_view.has_schedules) == (True, True, False)
    assert await call(sdk.resume_stack_deployments, ORG, PROJECT, STACK) == b""
    assert await call(sdk.pause_org_deployments, ORG) == b""
    queued = await _create(sdk)
    org_view = await call(sdk.org_deployments_metadata, ORG)
    assert isinstance(org_view, OrgDeploymentsMetadataResponse)
    assert (org_view.paused, org_view.concurrency, org_view.deployment_counts.not_started) == (True, 4, 1)
    assert await call(sdk.resume_org_deployments, ORG) == b""
    assert await call(sdk.cancel_deployment, ORG, PROJECT, STACK, queued.id) == b""
    assert (await call(sdk.get_deployment, ORG, PROJECT, STACK, queued.id)).status == JobStatus.Failed
    status, body = await http_error(sdk.cancel_deployment, ORG, PROJECT, STACK, queued.id)
    assert status == 409
    assert "already finished" in body["message"]
