"""Pause state and counts: ``GET …/deployments/metadata`` for a stack and for an organization."""

from __future__ import annotations

from pydantic import Field

from bot.pulumi.models.base import WireModel


class DriftStatus(WireModel):
    drift_detected: bool = False
    latest_drift_run: str | None = None
    run_in_progress: bool = False


class StackDeploymentsMetadata(WireModel):
    """``paused`` is true when either the stack or its organization is paused."""

    paused: bool
    stack_paused: bool = False
    organization_paused: bool = False
    has_schedules: bool = False
    drift: DriftStatus | None = None


class DeploymentCounts(WireModel):
    not_started: int = 0
    accepted: int = 0
    running: int = 0
    failed: int = 0
    succeeded: int = 0
    skipped: int = 0
    total: int = 0


class OrgDeploymentsMetadata(WireModel):
    paused: bool
    concurrency: int | None = None
    deployment_counts: DeploymentCounts = Field(default_factory=DeploymentCounts)
    # In the seed doc and the OpenAPI prose, not in its schema: "project/stack" of each paused stack.
    paused_stacks: list[str] = Field(default_factory=list)
