"""Deployment settings: the stack's saved defaults (GET/POST/PUT ``…/deployments/settings``) and their parts.

One set of models serves reading and writing: every field is optional, ``to_wire()`` sends only what was set, and a
field set to ``None`` is sent as ``null`` — which the service's merge reads as "remove".
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from bot.pulumi.models.base import SettingsModel, accept_repo_url_caps
from bot.pulumi.models.enums import Open, SettingsSource
from bot.pulumi.models.secret import SecretValue


class SshAuth(SettingsModel):
    ssh_private_key: SecretValue | None = None
    password: SecretValue | None = None


class BasicAuth(SettingsModel):
    user_name: SecretValue | None = None
    password: SecretValue | None = None


class GitAuth(SettingsModel):
    """Credentials for the repository; set one of the three (the service prefers ssh, then token, then basic)."""

    access_token: SecretValue | None = None
    ssh_auth: SshAuth | None = None
    basic_auth: BasicAuth | None = None


class GitSource(SettingsModel):
    repo_url: str | None = None
    branch: str | None = None
    repo_dir: str | None = None
    commit: str | None = None
    tag: str | None = None
    git_auth: GitAuth | None = None

    @model_validator(mode="before")
    @classmethod
    def _accept_repo_url_caps(cls, data: Any) -> Any:
        # The seed doc spells it repoURL; the service and SDK use repoUrl. Read both, always write repoUrl.
        return accept_repo_url_caps(data)


class HgSource(SettingsModel):
    repo_url: str | None = None
    branch: str | None = None
    repo_dir: str | None = None
    revision: str | None = None
    hg_auth: GitAuth | None = None


class TemplateSource(SettingsModel):
    source_url: str | None = None
    project_source_url: str | None = None
    git_auth: GitAuth | None = None


class SourceContext(SettingsModel):
    git: GitSource | None = None
    hg: HgSource | None = None
    template: TemplateSource | None = None


class RegistryCredentials(SettingsModel):
    username: str | None = None
    password: SecretValue | None = None


class DockerImage(SettingsModel):
    reference: str | None = None
    is_default: bool | None = None
    credentials: RegistryCredentials | None = None


class ExecutorContext(SettingsModel):
    executor_image: DockerImage | None = None
    executor_root_path: str | None = None

    @field_validator("executor_image", mode="before")
    @classmethod
    def _image_may_be_a_string(cls, value: Any) -> Any:
        # The seed doc and Pulumi's CLI write a bare image reference when there are no credentials.
        return {"reference": value} if isinstance(value, str) else value


class AwsOidc(SettingsModel):
    role_arn: str | None = None
    session_name: str | None = None
    duration: str | None = None  # a Go duration string such as "1h0m0s"
    policy_arns: list[str] | None = None


class AzureOidc(SettingsModel):
    client_id: str | None = None
    tenant_id: str | None = None
    subscription_id: str | None = None


class GcpOidc(SettingsModel):
    project_id: str | None = None
    workload_pool_id: str | None = None
    provider_id: str | None = None
    service_account: str | None = None
    region: str | None = None
    token_lifetime: str | None = None


class Oidc(SettingsModel):
    aws: AwsOidc | None = None
    azure: AzureOidc | None = None
    gcp: GcpOidc | None = None


class OperationOptions(SettingsModel):
    skip_install_dependencies: bool | None = None
    skip_intermediate_deployments: bool | None = None
    shell: str | None = None
    delete_after_destroy: bool | None = None
    remediate_if_drift_detected: bool | None = None


class DeploymentRole(SettingsModel):
    id: str | None = None
    name: str | None = None
    default_identifier: str | None = None


class OperationContext(SettingsModel):
    pre_run_commands: list[str] | None = None
    # A value of None in a patch removes that variable.
    environment_variables: dict[str, SecretValue | None] | None = None
    options: OperationOptions | None = None
    oidc: Oidc | None = None
    role: DeploymentRole | None = None


class GitHubSettings(SettingsModel):
    repository: str | None = None
    deploy_commits: bool | None = None
    preview_pull_requests: bool | None = None
    pull_request_template: bool | None = None
    deploy_pull_request: int | None = None
    paths: list[str] | None = None
    installation_id: str | None = None
    review_stack_labels: list[str] | None = None
    deploy_tags: bool | None = None
    tag_filters: list[str] | None = None


class VcsSettings(SettingsModel):
    provider: str | None = None  # github, gitlab, bitbucket, azure_devops, custom
    repository: str | None = None
    deploy_commits: bool | None = None
    deploy_tags: bool | None = None
    preview_pull_requests: bool | None = None
    pull_request_template: bool | None = None
    deploy_pull_request: int | None = None
    paths: list[str] | None = None
    tag_filters: list[str] | None = None
    installation_id: str | None = None


class CacheOptions(SettingsModel):
    enable: bool | None = None


class SettingsFields(SettingsModel):
    """The settings a caller may send: the body of patch/replace, and the base of a create-deployment request."""

    tag: str | None = None
    executor_context: ExecutorContext | None = None
    source_context: SourceContext | None = None
    git_hub: GitHubSettings | None = None
    vcs: VcsSettings | None = None
    operation_context: OperationContext | None = None
    agent_pool_id: str | None = Field(default=None, alias="agentPoolID")
    cache_options: CacheOptions | None = None


class DeploymentSettings(SettingsFields):
    """A stack's deployment settings as the service reports them (``version`` and ``source`` are read-only)."""

    version: int | None = None
    source: Open[SettingsSource] | None = None

    def to_wire(self) -> dict[str, Any]:
        """The settings to send back, without the keys only the service writes."""
        return self.model_dump(mode="json", exclude_unset=True, exclude={"version", "source"})
