"""The policy file's schema: ``[defaults]`` and ``[[stacks]]`` as pydantic models that refuse unknown keys.

The TOML key names live here and only here; ``Rule`` (the merged, effective rule) has its own, API-facing names.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from bot.command.types import Operation
from bot.policy.fields import OPERATIONS, Duration, Operations, Pattern, Principals

ALL_OPERATIONS: frozenset[Operation] = frozenset(OPERATIONS)
GATED_BY_DEFAULT: frozenset[Operation] = frozenset({"update", "destroy"})


class RuleSettings(BaseModel):
    """The keys of ``[defaults]`` (and of every ``[[stacks]]`` entry, where they override the defaults)."""

    # Unknown keys are errors: a misspelt "aprovers" must not silently leave a gate open to anyone.
    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed_operations: Operations = Field(default=ALL_OPERATIONS)
    require_approval: Operations = Field(default=GATED_BY_DEFAULT)
    approvals: Annotated[int, Field(strict=True, ge=1)] = 1
    requesters: Principals = ()
    approvers: Principals = ()
    allow_self_approval: StrictBool = False
    expires_after: Duration = timedelta(hours=4)
    preview_first: StrictBool = False
    confirm_destroy: StrictBool = False
    admins: Principals = ()


class StackEntry(RuleSettings):
    """One ``[[stacks]]`` entry: a ``match`` glob and the keys it overrides."""

    match: Pattern

    def overrides(self) -> dict[str, object]:
        """The rule keys this entry sets itself (the rest come from the defaults)."""
        return {name: getattr(self, name) for name in self.model_fields_set if name != "match"}


class PolicyFile(BaseModel):
    """The whole file: both tables are optional, and an empty file means the built-in defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    defaults: RuleSettings = Field(default_factory=RuleSettings)
    stacks: list[StackEntry] = Field(default_factory=list)


RULE_KEYS: tuple[str, ...] = tuple(RuleSettings.model_fields)
STACK_KEYS: tuple[str, ...] = tuple(StackEntry.model_fields)
TOP_KEYS: tuple[str, ...] = tuple(PolicyFile.model_fields)
