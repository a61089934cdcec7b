"""Deployments: the create request and answer, one deployment (GET by id/version, list entries), and a list page."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from bot.pulumi.models.base import WireModel, accept_repo_url_caps
from bot.pulumi.models.enums import JobStatus, Open, PulumiOperation, StepStatus, UpdateResult, is_finished
from bot.pulumi.models.settings import SettingsFields
from bot.pulumi.models.timestamps import Instant, StartedAt


class CreateDeploymentRequest(SettingsFields):
    """Body of ``POST …/deployments``: the operation, plus settings that merge over the stack's own.

    ``inherit_settings`` left unset lets the service apply its default (true: merge over the stack's settings).
    """

    operation: PulumiOperation
    inherit_settings: bool | None = None


class DeploymentCreated(WireModel):
    """The service's 202 answer to a create."""

    id: str
    console_url: str
    version: int


class UserInfo(WireModel):
    name: str = ""
    github_login: str = ""
    avatar_url: str = ""
    email: str | None = None


class StepRun(WireModel):
    name: str
    status: Open[StepStatus]
    started: StartedAt = None
    last_updated: StartedAt = None


class DeploymentJob(WireModel):
    status: Open[JobStatus]
    started: StartedAt = None
    last_updated: StartedAt = None
    steps: list[StepRun] = Field(default_factory=list)


class EnvironmentVariable(WireModel):
    """One variable a deployment ran with; ``value`` is absent for secrets."""

    name: str
    value: str | None = None
    secret: bool = False


class DeploymentSourceGit(WireModel):
    repo_url: str | None = None
    branch: str | None = None
    repo_dir: str | None = None
    commit: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _accept_repo_url_caps(cls, data: Any) -> Any:
        # Here the service writes repoURL (unlike settings); repoUrl is read too in case that is ever aligned.
        return accept_repo_url_caps(data)


class DeploymentSourceTemplate(WireModel):
    source_url: str


class DeploymentSource(WireModel):
    git: DeploymentSourceGit | None = None
    template: DeploymentSourceTemplate | None = None


class DeploymentConfiguration(WireModel):
    environment_variables: list[EnvironmentVariable] = Field(default_factory=list)
    source: DeploymentSource | None = None


class NestedUpdate(WireModel):
    """A Pulumi engine run (update, preview, …) made by a deployment; times are Unix seconds."""

    id: str = ""
    update_id: str = Field(default="", alias="updateID")
    version: int = 0
    start_time: int = 0
    end_time: int = 0
    result: Open[UpdateResult] | None = None
    kind: str = ""  # the service also writes preview variants ("Pupdate", …); kept as written
    message: str = ""
    environment: dict[str, str] = Field(default_factory=dict)


class AgentPoolRef(WireModel):
    id: str
    name: str = ""


class Deployment(WireModel):
    """One deployment, from GET by id or version or from a list page (the union of both key sets, wire ref §3.4/3.6)."""

    id: str
    created: Instant
    modified: Instant
    status: Open[JobStatus]
    version: int
    requested_by: UserInfo | None = None
    pulumi_operation: Open[PulumiOperation] | None = None
    jobs: list[DeploymentJob] = Field(default_factory=list)  # absent until the deployment starts
    latest_version: int | None = None
    configuration: DeploymentConfiguration | None = None
    initiator: str | None = None
    project_name: str | None = None
    stack_name: str | None = None
    paused: bool | None = None
    updates: list[NestedUpdate] = Field(default_factory=list)
    agent_pool: AgentPoolRef | None = None
    inherit_settings: bool | None = None

    @property
    def is_finished(self) -> bool:
        """Succeeded, failed or skipped: nothing about it will change any more."""
        return is_finished(self.status)


class DeploymentPage(WireModel):
    """One page of ``GET …/deployments`` (stack or organization). ``total`` counts all pages."""

    deployments: list[Deployment]
    items_per_page: int
    total: int
