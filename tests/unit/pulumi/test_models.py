"""Request and response models: alternative wire forms read, requests written without unset keys."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from bot.pulumi.models import (
    AnyDeploymentLogs,
    CreateDeploymentRequest,
    DeploymentLogs,
    DeploymentSettings,
    DeploymentStepLogs,
    ExecutorContext,
    GitAuth,
    GitSource,
    OperationContext,
    OrgDeploymentsMetadata,
    PulumiOperation,
    SecretValue,
    SettingsFields,
    SettingsSource,
    SourceContext,
    StackDeploymentsMetadata,
    Unrecognized,
    UpdateInfo,
    UpdateResult,
)


def test_executor_image_reads_as_a_string_or_an_object_and_is_written_as_an_object() -> None:
    short = ExecutorContext.model_validate({"executorImage": "pulumi/pulumi-nodejs:latest"})
    assert short.executor_image is not None
    assert short.executor_image.reference == "pulumi/pulumi-nodejs:latest"
    assert short.to_wire() == {"executorImage": {"reference": "pulumi/pulumi-nodejs:latest"}}
    full = ExecutorContext.model_validate(
        {
            "executorImage": {
                "reference": "registry.example/img:1",
                "credentials": {"username": "me", "password": {"secret": "pw"}},
            }
        }
    )
    assert full.executor_image is not None
    assert full.executor_image.credentials is not None
    assert full.executor_image.credentials.password == SecretValue.secret("pw")


@pytest.mark.parametrize("key", ["repoUrl", "repoURL"])
def test_git_repo_url_reads_in_either_spelling_and_is_written_as_repo_url(key: str) -> None:
    git = GitSource.model_validate({key: "https://github.com/acme/web.git", "branch": "main"})
    assert git.repo_url == "https://github.com/acme/web.git"
    assert git.to_wire() == {"repoUrl": "https://github.com/acme/web.git", "branch": "main"}


def test_both_spellings_at_once_keep_repo_url_and_do_not_leak_the_other_as_an_unknown_key() -> None:
    git = GitSource.model_validate({"repoUrl": "https://a", "repoURL": "https://b"})
    assert git.to_wire() == {"repoUrl": "https://a"}


def test_removing_the_repo_url_in_a_patch_is_a_null_under_repo_url() -> None:
    patch = SettingsFields.model_validate({"sourceContext": {"git": {"repoURL": None}}})
    assert patch.to_wire() == {"sourceContext": {"git": {"repoUrl": None}}}


@pytest.mark.parametrize(
    ("auth", "check"),
    [
        ({"accessToken": {"secret": "ghp_x"}}, lambda a: a.access_token == SecretValue.secret("ghp_x")),
        (
            {"sshAuth": {"sshPrivateKey": {"ciphertext": "c1"}, "password": {"secret": "p"}}},
            lambda a: a.ssh_auth.ssh_private_key == SecretValue.encrypted("c1"),
        ),
        (
            {"basicAuth": {"userName": "bot", "password": {"secret": "[secret]", "ciphertext": "c2"}}},
            lambda a: (
                a.basic_auth.user_name == SecretValue.plain("bot")
                and a.basic_auth.password == SecretValue.encrypted("c2")
            ),
        ),
    ],
    ids=["accessToken", "sshAuth", "basicAuth"],
)
def test_git_auth_variants(auth: dict[str, object], check: Callable[[GitAuth], bool]) -> None:
    assert check(GitAuth.model_validate(auth))


def test_oidc_for_each_cloud_and_options() -> None:
    context = OperationContext.model_validate(
        {
            "oidc": {
                "aws": {"roleArn": "arn:aws:iam::1:role/r", "sessionName": "s", "duration": "1h0m0s"},
                "azure": {"clientId": "c", "tenantId": "t", "subscriptionId": "s"},
                "gcp": {"projectId": "p", "workloadPoolId": "w", "providerId": "pr", "serviceAccount": "sa"},
            },
            "options": {"skipInstallDependencies": True, "deleteAfterDestroy": False, "shell": "bash"},
        }
    )
    assert context.oidc is not None
    assert context.oidc.aws is not None
    assert context.oidc.gcp is not None
    assert context.oidc.aws.role_arn == "arn:aws:iam::1:role/r"
    assert context.oidc.azure is not None
    assert context.oidc.azure.tenant_id == "t"
    assert context.oidc.gcp.workload_pool_id == "w"
    assert context.options is not None
    assert context.options.skip_install_dependencies is True


def test_settings_keep_unknown_keys_so_a_read_modify_write_loses_nothing() -> None:
    wire = {"sourceContext": {"git": {"branch": "main", "newKey": {"a": 1}}}, "futureBlock": [1, 2]}
    assert DeploymentSettings.model_validate(wire).to_wire() == wire


def test_service_only_keys_are_not_sent_back() -> None:
    settings = DeploymentSettings.model_validate({"version": 4, "source": "api", "tag": "t"})
    assert settings.version == 4
    assert settings.source is SettingsSource.API
    assert settings.to_wire() == {"tag": "t"}
    assert DeploymentSettings.model_validate({"source": "new-source"}).source == Unrecognized("new-source")


def test_a_create_request_sends_only_what_was_set() -> None:
    assert CreateDeploymentRequest(operation=PulumiOperation.UPDATE).to_wire() == {"operation": "update"}
    request = CreateDeploymentRequest(
        operation=PulumiOperation.PREVIEW,
        inherit_settings=False,
        source_context=SourceContext(git=GitSource(repo_url="https://x", branch="main")),
        operation_context=OperationContext(environment_variables={"A": SecretValue.plain("1"), "B": None}),
        agent_pool_id="pool-1",
    )
    assert request.to_wire() == {
        "operation": "preview",
        "inheritSettings": False,
        "sourceContext": {"git": {"repoUrl": "https://x", "branch": "main"}},
        "operationContext": {"environmentVariables": {"A": "1", "B": None}},
        "agentPoolID": "pool-1",
    }


def test_a_create_request_needs_a_known_operation() -> None:
    with pytest.raises(ValidationError):
        CreateDeploymentRequest.model_validate({})
    with pytest.raises(ValidationError):
        CreateDeploymentRequest.model_validate({"operation": "explode"})


def test_cache_options_read_the_seed_docs_string_boolean() -> None:
    settings = DeploymentSettings.model_validate({"cacheOptions": {"enable": "false"}})
    assert settings.cache_options is not None
    assert settings.cache_options.enable is False


logs = TypeAdapter(AnyDeploymentLogs)


@pytest.mark.parametrize(
    ("wire", "kind"),
    [
        ({"__type": "DeploymentLogs", "lines": [], "nextToken": "1"}, DeploymentLogs),
        ({"__type": "DeploymentLogsStep", "lines": []}, DeploymentStepLogs),
        ({"lines": [{"header": "Setup", "timestamp": "0001-01-01T00:00:00Z"}], "nextToken": "0.2.1"}, DeploymentLogs),
        ({"nextOffset": 10, "lines": [{"timestamp": "2022-09-14T18:07:26Z", "line": "x\n"}]}, DeploymentStepLogs),
    ],
    ids=["typed-stream", "typed-step", "untyped-stream", "untyped-step"],
)
def test_log_pages_are_told_apart_by_type_or_by_their_keys(wire: dict[str, object], kind: type) -> None:
    assert isinstance(logs.validate_python(wire), kind)


def test_a_header_entry_has_no_time_and_reads_as_its_text() -> None:
    page = logs.validate_python({"lines": [{"header": "Get source", "timestamp": "0001-01-01T00:00:00Z"}]})
    assert isinstance(page, DeploymentLogs)
    assert page.lines[0].text == "Get source"
    assert page.lines[0].timestamp is None
    assert page.next_token is None


def test_metadata_without_the_keys_the_seed_doc_omits() -> None:
    stack = StackDeploymentsMetadata.model_validate({"paused": True, "stackPaused": False, "organizationPaused": True})
    assert stack.paused
    assert stack.organization_paused
    assert not stack.has_schedules
    org = OrgDeploymentsMetadata.model_validate({"paused": False})
    assert org.deployment_counts.total == 0
    assert org.paused_stacks == []


def test_update_info_carries_resource_change_counts() -> None:
    update = UpdateInfo.model_validate(
        {
            "info": {
                "kind": "update",
                "result": "succeeded",
                "resourceChanges": {"create": 2, "update": 1, "same": 3},
                "startTime": 1,
                "endTime": 2,
            },
            "updateID": "u-1",
            "version": 7,
            "latestVersion": 7,
        }
    )
    assert update.info.resource_changes == {"create": 2, "update": 1, "same": 3}
    assert update.info.result is UpdateResult.SUCCEEDED


@pytest.mark.parametrize(
    "model", [DeploymentSettings, CreateDeploymentRequest, UpdateInfo, OrgDeploymentsMetadata, StackDeploymentsMetadata]
)
def test_every_model_has_a_json_schema(model: type[BaseModel]) -> None:
    # Documentation and tooling generate these; a custom type without a schema would make them fail.
    schema = model.model_json_schema()
    assert schema["type"] == "object"
    assert logs.json_schema()


def test_the_secret_schema_names_both_forms() -> None:
    schema = OperationContext.model_json_schema()
    variables = schema["properties"]["environmentVariables"]
    assert "anyOf" in json.dumps(variables)
    assert "ciphertext" in json.dumps(schema)
