"""The shape of settings and create-deployment bodies (OpenAPI field names), checked with pydantic.

All fields are optional so an explicit ``null`` survives ``model_dump(exclude_unset=True)`` to mean "remove";
required keys are checked on the merged result only (``complete`` in the validation context).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core.core_schema import ValidatorFunctionWrapHandler

from bot.sandbox.pulumi.secrets import Sealer, Secret, parse_secret_value

_SHA = re.compile(r"[0-9a-f]{40}")
VCS_PROVIDERS = ("github", "gitlab", "bitbucket", "azure_devops", "custom")


def _secret(value: object, _handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Secret | str:
    context = info.context or {}
    sealer, stack = context.get("sealer"), context.get("stack")
    if not isinstance(sealer, Sealer) or not isinstance(stack, str):
        raise TypeError("settings validation needs a sealer and a stack in its context")
    return parse_secret_value(value, sealer, stack)


SecretField = Annotated[Any, WrapValidator(_secret)]


class _Model(BaseModel):
    # strict: the Go service rejects "true" for a boolean; forbid: an unknown key is a client bug worth a 400.
    model_config = ConfigDict(extra="forbid", strict=True)
    required: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _complete(self, info: ValidationInfo) -> _Model:
        if info.context and info.context.get("complete"):
            missing = [name for name in self.required if getattr(self, name) is None]
            if missing:
                raise ValueError(f"missing required field(s): {', '.join(missing)}")
        return self


class DockerImageCredentials(_Model):
    required = ("username", "password")
    username: str | None = None
    password: SecretField | None = None


class DockerImage(_Model):
    required = ("reference",)
    reference: str | None = None
    isDefault: bool | None = None
    credentials: DockerImageCredentials | None = None


class ExecutorContext(_Model):
    # The string form is the seed doc's and the CLI's; responses always use the object form.
    executorImage: str | DockerImage | None = None
    executorRootPath: str | None = None


class SSHAuth(_Model):
    required = ("sshPrivateKey",)
    sshPrivateKey: SecretField | None = None
    password: SecretField | None = None


class BasicAuth(_Model):
    required = ("userName", "password")
    userName: SecretField | None = None
    password: SecretField | None = None


class GitAuth(_Model):
    accessToken: SecretField | None = None
    sshAuth: SSHAuth | None = None
    basicAuth: BasicAuth | None = None


class SourceGit(_Model):
    # Accept the seed doc's "repoURL" on input; the service (and this emulator) answer with "repoUrl".
    repoUrl: str | None = Field(
        None, validation_alias=AliasChoices("repoUrl", "repoURL"), serialization_alias="repoUrl"
    )
    branch: str | None = None
    repoDir: str | None = None
    commit: str | None = None
    tag: str | None = None
    gitAuth: GitAuth | None = None

    @field_validator("commit")
    @classmethod
    def _full_sha(cls, commit: str | None) -> str | None:
        if commit is not None and not _SHA.fullmatch(commit):
            raise ValueError("commit must be a full 40-character lowercase hexadecimal SHA")
        return commit


class SourceTemplate(_Model):
    sourceUrl: str | None = None
    gitAuth: GitAuth | None = None


class SourceContext(_Model):
    git: SourceGit | None = None
    template: SourceTemplate | None = None


class AwsOidc(_Model):
    required = ("roleArn", "sessionName")
    roleArn: str | None = None
    sessionName: str | None = None
    duration: str | None = None
    policyArns: list[str] | None = None


class AzureOidc(_Model):
    clientId: str | None = None
    tenantId: str | None = None
    subscriptionId: str | None = None


class GcpOidc(_Model):
    required = ("projectId", "workloadPoolId", "providerId", "serviceAccount")
    projectId: str | None = None
    workloadPoolId: str | None = None
    providerId: str | None = None
    serviceAccount: str | None = None
    region: str | None = None
    tokenLifetime: str | None = None


class Oidc(_Model):
    aws: AwsOidc | None = None
    azure: AzureOidc | None = None
    gcp: GcpOidc | None = None


class Options(_Model):
    skipInstallDependencies: bool | None = None
    skipIntermediateDeployments: bool | None = None
    shell: str | None = None
    deleteAfterDestroy: bool | None = None
    remediateIfDriftDetected: bool | None = None


class Role(_Model):
    required = ("id",)
    id: str | None = None
    name: str | None = None
    defaultIdentifier: str | None = None


class OperationContext(_Model):
    oidc: Oidc | None = None
    preRunCommands: list[str] | None = None
    operation: object = None
    environmentVariables: dict[str, SecretField | None] | None = None
    options: Options | None = None
    role: Role | None = None

    @field_validator("operation")
    @classmethod
    def _no_operation(cls, operation: object) -> None:
        if operation is not None:
            raise ValueError("operation belongs at the top level of a create-deployment request")

    @field_validator("environmentVariables")
    @classmethod
    def _names(cls, variables: dict[str, Any] | None) -> dict[str, Any] | None:
        if variables is not None and any(not name.strip() for name in variables):
            raise ValueError("environment variable names must not be empty")
        return variables


class GitHub(_Model):
    repository: str | None = None
    deployCommits: bool | None = None
    previewPullRequests: bool | None = None
    pullRequestTemplate: bool | None = None
    deployPullRequest: int | None = None
    paths: list[str] | None = None
    installationId: str | None = None
    reviewStackLabels: list[str] | None = None
    deployTags: bool | None = None
    tagFilters: list[str] | None = None


class Vcs(GitHub):
    required = ("provider",)
    provider: str | None = None

    @field_validator("provider")
    @classmethod
    def _known(cls, provider: str | None) -> str | None:
        if provider is not None and provider not in VCS_PROVIDERS:
            raise ValueError(f"provider must be one of {', '.join(VCS_PROVIDERS)}")
        return provider


class CacheOptions(_Model):
    required = ("enable",)
    enable: bool | None = None


class Settings(_Model):
    tag: str | None = None
    executorContext: ExecutorContext | None = None
    sourceContext: SourceContext | None = None
    gitHub: GitHub | None = None
    vcs: Vcs | None = None
    operationContext: OperationContext | None = None
    agentPoolID: str | None = None
    cacheOptions: CacheOptions | None = None

    @field_validator("agentPoolID")
    @classmethod
    def _no_pools(cls, pool: str | None) -> str | None:
        if pool is not None:
            raise ValueError(f"agent pool {pool!r} not found (the emulator has no agent pools)")
        return pool


class CreateDeployment(Settings):
    operation: str | None = None
    inheritSettings: bool | None = None
