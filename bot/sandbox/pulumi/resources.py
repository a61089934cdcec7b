"""A stack's cloud resources, simulated: each commit declares a deterministic program and operations diff it.

A first update creates everything, a new commit changes one or two resources (and may add or drop one), the
same commit again changes nothing, a preview computes without applying, and a destroy deletes all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

_CATALOG = (
    ("aws:s3/bucket:Bucket", "site-bucket"),
    ("aws:iam/role:Role", "app-role"),
    ("aws:lambda/function:Function", "handler"),
    ("aws:cloudwatch/logGroup:LogGroup", "app-logs"),
    ("aws:dynamodb/table:Table", "sessions"),
)
_OPTIONAL = ("aws:sns/topic:Topic", "alerts")
APPLYING = frozenset({"update", "destroy", "remediate-drift"})
_SYMBOL = {"create": "+", "update": "~", "delete": "-", "same": " "}


@dataclass(frozen=True)
class Change:
    op: str  # create | update | delete | same
    type: str
    name: str

    def line(self, *, preview: bool) -> str:
        verb = {"create": "create", "update": "update", "delete": "delete", "same": "same"}[self.op]
        done = {"create": "created", "update": "updated", "delete": "deleted", "same": "unchanged"}[self.op]
        return f"    {_SYMBOL[self.op]} {self.type} {self.name} {verb if preview else done}\n"


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    after: dict[str, str]  # the stack's resources (key -> properties) once the operation has run

    def counts(self) -> dict[str, int]:
        """Pulumi's ``resourceChanges``: operation -> count, zero counts left out."""
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.op] = counts.get(change.op, 0) + 1
        return counts


def _number(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _key(type_: str, name: str) -> str:
    return f"{type_}::{name}"


def program(project: str, stack: str, commit: str) -> dict[str, str]:
    """The resources (key -> properties) the program at ``commit`` declares."""
    catalog = _CATALOG[: 2 + _number(project) % 3]
    touched = _number(commit) % len(catalog)
    declared = {_key("pulumi:pulumi:Stack", f"{project}-{stack}"): "stack"}
    for index, (type_, name) in enumerate(catalog):
        declared[_key(type_, name)] = commit[:7] if index == touched else "base"
    if _number(commit + "/optional") % 4 == 0:
        declared[_key(*_OPTIONAL)] = "base"
    return declared


def _diff(before: dict[str, str], after: dict[str, str]) -> tuple[Change, ...]:
    changes = []
    for key, props in after.items():
        op = "create" if key not in before else ("same" if before[key] == props else "update")
        changes.append(Change(op, *key.split("::", 1)))
    changes.extend(Change("delete", *key.split("::", 1)) for key in reversed(before) if key not in after)
    return tuple(changes)


def plan(operation: str, before: dict[str, str], project: str, stack: str, commit: str) -> Plan:
    """What ``operation`` does to a stack whose resources are ``before``."""
    if operation in ("update", "preview", "remediate-drift"):
        target = program(project, stack, commit)
        return Plan(_diff(before, target), target if operation in APPLYING else dict(before))
    if operation == "destroy":
        return Plan(tuple(Change("delete", *key.split("::", 1)) for key in reversed(before)), {})
    # refresh and detect-drift: the simulated cloud never drifts.
    return Plan(tuple(Change("same", *key.split("::", 1)) for key in before), dict(before))


def summary(plan: Plan, *, preview: bool) -> list[str]:
    """The "Resources:" block Pulumi prints at the end of an operation, one ``\\n``-terminated line each."""
    counts = plan.counts()
    lines = ["Resources:\n"]
    for op, applied, planned in (
        ("create", "created", "to create"),
        ("update", "updated", "to update"),
        ("delete", "deleted", "to delete"),
    ):
        if counts.get(op):
            lines.append(f"    {_SYMBOL[op]} {counts[op]} {planned if preview else applied}\n")
    if counts.get("same") or len(lines) == 1:
        lines.append(f"    {counts.get('same', 0)} unchanged\n")
    return lines
