"""The API's enumerations, and ``Open[...]``: an enum that keeps a value Pulumi adds later instead of failing.

A field typed ``Open[JobStatus]`` holds a ``JobStatus`` member, or an ``Unrecognized`` wrapping the raw string. The
wrapper is deliberately *not* a ``str`` subclass, so mypy makes every ``match`` handle the unknown case.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, TypeAlias, TypeVar

from pydantic import Field, GetCoreSchemaHandler
from pydantic_core import core_schema


@dataclass(frozen=True, slots=True)
class Unrecognized:
    """An enum value this version of the bot does not know; ``str()`` gives it back as Pulumi sent it."""

    value: str

    def __str__(self) -> str:
        return self.value

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls, core_schema.str_schema(), serialization=core_schema.plain_serializer_function_ser_schema(str)
        )


E = TypeVar("E", bound=StrEnum)
# left_to_right: try the enum first; a plain ``E | str`` would collapse to ``str`` for mypy and in smart-mode unions.
Open: TypeAlias = Annotated[E | Unrecognized, Field(union_mode="left_to_right")]


class PulumiOperation(StrEnum):
    UPDATE = "update"
    PREVIEW = "preview"
    REFRESH = "refresh"
    DESTROY = "destroy"
    DETECT_DRIFT = "detect-drift"
    REMEDIATE_DRIFT = "remediate-drift"


class JobStatus(StrEnum):
    """A deployment's or a job's status. ``skipped``: superseded by a fresher queued deployment."""

    NOT_STARTED = "not-started"
    ACCEPTED = "accepted"
    RUNNING = "running"
    FAILED = "failed"
    SUCCEEDED = "succeeded"
    SKIPPED = "skipped"

    @property
    def is_finished(self) -> bool:
        return self in _FINISHED


_FINISHED = frozenset({JobStatus.FAILED, JobStatus.SUCCEEDED, JobStatus.SKIPPED})


def is_finished(status: JobStatus | Unrecognized) -> bool:
    """Whether a deployment in this status will not change any more. Unknown statuses count as still going."""
    return isinstance(status, JobStatus) and status.is_finished


class StepStatus(StrEnum):
    NOT_STARTED = "not-started"
    RUNNING = "running"
    FAILED = "failed"
    SUCCEEDED = "succeeded"


class UpdateResult(StrEnum):
    """The result of a Pulumi update (engine run) nested in a deployment."""

    NOT_STARTED = "not-started"
    IN_PROGRESS = "in-progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class UpdateKind(StrEnum):
    """What an engine run did; the ``P`` variants are previews of the operation."""

    UPDATE = "update"
    PREVIEW = "preview"
    REFRESH = "refresh"
    RENAME = "rename"
    DESTROY = "destroy"
    IMPORT = "import"
    RESOURCE_IMPORT = "resource-import"
    PREVIEW_UPDATE = "Pupdate"
    PREVIEW_REFRESH = "Prefresh"
    PREVIEW_DESTROY = "Pdestroy"
    PREVIEW_IMPORT = "Pimport"
    PREVIEW_RENAME = "Prename"


class SettingsSource(StrEnum):
    """Where a stack's deployment settings came from."""

    CONSOLE = "console"
    API = "api"
    PROVIDER = "provider"
    GITHUB_REVIEW_STACK = "github-review-stack"
    AZURE_DEVOPS_REVIEW_STACK = "azure-devops-review-stack"
    GITLAB_REVIEW_STACK = "gitlab-review-stack"
    BITBUCKET_REVIEW_STACK = "bitbucket-review-stack"
    GITHUB_GITOPS = "github-gitops"
