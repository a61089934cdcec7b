"""Log pages from ``GET …/deployments/{id}/logs``: streaming mode (``nextToken``) and step mode (``nextOffset``).

The service tags each page with ``__type``; the seed doc's examples omit it, so a missing tag is accepted and the
mode is inferred from the keys.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import Discriminator, Field, Tag

from bot.pulumi.models.base import WireModel
from bot.pulumi.models.timestamps import StartedAt


class LogLine(WireModel):
    """A streamed entry: either a ``header`` (a step's title, printed before its lines) or one ``line`` of output."""

    header: str | None = None
    line: str | None = None
    timestamp: StartedAt = None

    @property
    def text(self) -> str:
        return self.header if self.header is not None else self.line or ""


class DeploymentLogs(WireModel):
    kind: Literal["DeploymentLogs"] = Field(default="DeploymentLogs", alias="__type")
    lines: list[LogLine] = Field(default_factory=list)
    # Absent once the deployment finished and every line was returned.
    next_token: str | None = None


class StepLogLine(WireModel):
    line: str = ""
    timestamp: StartedAt = None


class DeploymentStepLogs(WireModel):
    kind: Literal["DeploymentLogsStep"] = Field(default="DeploymentLogsStep", alias="__type")
    name: str | None = None
    lines: list[StepLogLine] = Field(default_factory=list)
    # Absent when the step has no more lines.
    next_offset: int | None = None


def _log_kind(data: Any) -> str:
    if isinstance(data, dict):
        tag = data.get("__type")
        if isinstance(tag, str):
            return tag
        return "DeploymentLogsStep" if "nextOffset" in data or "name" in data else "DeploymentLogs"
    return getattr(data, "kind", "DeploymentLogs")


AnyDeploymentLogs: TypeAlias = Annotated[
    Annotated[DeploymentLogs, Tag("DeploymentLogs")] | Annotated[DeploymentStepLogs, Tag("DeploymentLogsStep")],
    Discriminator(_log_kind),
]
