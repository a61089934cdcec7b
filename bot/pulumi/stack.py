"""StackRef: the ``org/project/stack`` triple every Deployments endpoint is addressed by."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Pulumi allows letters, digits, '-', '_' and '.' in organization, project and stack names.
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def check_org(org: str) -> str:
    """``org`` if it is a valid organization name (so it is URL-safe too); else a ValueError saying why."""
    if not _NAME.match(org) or org in {".", ".."}:
        raise ValueError(f"invalid organization name {org!r}: use letters, digits, '-', '_' or '.'")
    return org


@dataclass(frozen=True, slots=True)
class StackRef:
    org: str
    project: str
    stack: str

    def __post_init__(self) -> None:
        for part, value in (("organization", self.org), ("project", self.project), ("stack", self.stack)):
            if not _NAME.match(value) or value in {".", ".."}:
                raise ValueError(f"invalid {part} name {value!r}: use letters, digits, '-', '_' or '.'")

    @classmethod
    def parse(cls, text: str, default_org: str | None = None) -> StackRef:
        """Parse ``org/project/stack``, or ``project/stack`` when a default organization is known."""
        parts = text.strip().split("/")
        if len(parts) == 3:
            return cls(*parts)
        if len(parts) == 2:
            if not default_org:
                raise ValueError(f"{text!r} has no organization: write org/project/stack")
            return cls(default_org, *parts)
        raise ValueError(f"{text!r} is not a stack: write project/stack or org/project/stack")

    @property
    def path(self) -> str:
        """The ``/api/stacks/...`` prefix of this stack's endpoints (parts are already URL-safe)."""
        return f"/api/stacks/{self.org}/{self.project}/{self.stack}"

    def __str__(self) -> str:
        return f"{self.org}/{self.project}/{self.stack}"
