"""The typed commands ``/deploy`` text parses into, and CommandError for input that does not parse."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import SecretStr

from bot.command.spec import usage_of
from bot.errors import DeploybotError
from bot.overrides import JSONValue
from bot.pulumi.stack import StackRef

Operation = Literal["update", "preview", "refresh", "destroy"]


class CommandError(DeploybotError):
    """Bad input: ``message`` says what is wrong, ``usage`` is the verb's usage line (or the general help)."""

    def __init__(self, message: str, verb: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.verb = verb
        self.usage = usage_of(verb)


@dataclass(frozen=True)
class OrgTarget:
    org: str

    def __str__(self) -> str:
        return self.org


Target = StackRef | OrgTarget


@dataclass(frozen=True)
class DeploymentRef:
    """A deployment named by its id or by ``#version``."""

    id: str | None = None
    version: int | None = None

    def __str__(self) -> str:
        return f"#{self.version}" if self.version is not None else str(self.id)


@dataclass(frozen=True)
class HelpCommand:
    topic: str | None = None


@dataclass(frozen=True)
class DeployCommand:
    operation: Operation
    stack: StackRef
    patch: dict[str, JSONValue]  # create-request fields without secrets; ``None`` means "remove"
    secret_env: dict[str, SecretStr] = field(default_factory=dict)
    inherit: bool = True
    message: str | None = None


@dataclass(frozen=True)
class StatusCommand:
    stack: StackRef
    ref: DeploymentRef | None = None


@dataclass(frozen=True)
class ListCommand:
    target: Target
    status: str | None = None
    page: int = 1
    page_size: int = 10
    asc: bool = False


@dataclass(frozen=True)
class LogsCommand:
    stack: StackRef
    ref: DeploymentRef
    step: int | None = None  # 1-based, numbered as /deploy status shows the steps
    job: int = 1  # 1-based
    offset: int = 0
    count: int = 100
    tail: int | None = None


@dataclass(frozen=True)
class CancelCommand:
    stack: StackRef
    ref: DeploymentRef


@dataclass(frozen=True)
class PauseCommand:
    target: Target
    resume: bool = False


@dataclass(frozen=True)
class InfoCommand:
    target: Target


@dataclass(frozen=True)
class SettingsShowCommand:
    stack: StackRef


@dataclass(frozen=True)
class SettingsSetCommand:
    stack: StackRef
    patch: dict[str, JSONValue]


@dataclass(frozen=True)
class SettingsClearCommand:
    stack: StackRef


@dataclass(frozen=True)
class SubscribeCommand:
    pattern: str  # org/project/stack with * and ? globs
    events: tuple[str, ...] = ("failed",)


@dataclass(frozen=True)
class UnsubscribeCommand:
    pattern: str


@dataclass(frozen=True)
class SubscriptionsCommand:
    pass


@dataclass(frozen=True)
class ApprovalsCommand:
    pass


@dataclass(frozen=True)
class PolicyCommand:
    stack: StackRef


@dataclass(frozen=True)
class AuditCommand:
    target: Target | None = None  # a stack, an organization, or everything
    limit: int = 20


Command = (
    HelpCommand
    | DeployCommand
    | StatusCommand
    | ListCommand
    | LogsCommand
    | CancelCommand
    | PauseCommand
    | InfoCommand
    | SettingsShowCommand
    | SettingsSetCommand
    | SettingsClearCommand
    | SubscribeCommand
    | UnsubscribeCommand
    | SubscriptionsCommand
    | ApprovalsCommand
    | PolicyCommand
    | AuditCommand
)
