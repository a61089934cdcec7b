"""The emulator's in-memory model: organizations, stacks, deployments with their job, steps, logs and update."""

from __future__ import annotations

import heapq
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.pulumi.errors import not_found
from bot.sandbox.pulumi.resources import Plan

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
FINISHED = frozenset({"succeeded", "failed", "skipped"})
STATUSES = ("not-started", "accepted", "running", "failed", "succeeded", "skipped")


@dataclass(frozen=True)
class User:
    login: str
    name: str
    admin: bool

    def wire(self) -> dict[str, str]:
        return {
            "name": self.name,
            "githubLogin": self.login,
            "avatarUrl": f"https://api.pulumi.com/static/avatars/{self.login}.png",
            "email": f"{self.login}@example.com",
        }


@dataclass(eq=False)
class Step:
    name: str
    kind: str  # setup | executor | oidc | source | dependencies | command | pulumi
    detail: str = ""  # the pre-run command, for kind "command"
    failure: list[str] | None = None  # error lines to end with: the step is set to fail
    status: str = "not-started"
    started_ns: int = 0
    updated_ns: int = 0
    lines: list[tuple[int, str]] = field(default_factory=list)  # (timestamp ns, text ending in "\n")


@dataclass(eq=False)
class Update:
    """The Pulumi update a deployment's ``pulumi <op>`` step runs."""

    id: str
    update_id: str
    version: int
    kind: str
    start_ns: int
    environment: dict[str, str]
    plan: Plan
    end_ns: int = 0
    result: str = "in-progress"


@dataclass(eq=False)
class Deployment:
    id: str
    seq: int  # creation order across the whole emulator
    stack: Stack
    version: int
    operation: str
    settings: dict[str, Any]  # the merged settings it runs with (stored form)
    requested_by: User
    initiator: str
    inherit_settings: bool
    backend_url: str
    created_ns: int
    steps: list[Step]
    status: str = "not-started"
    modified_ns: int = 0
    started: bool = False  # the job exists (it is omitted before the deployment starts)
    job_started_ns: int = 0
    current: int = -1  # index of the running step
    commit: str | None = None  # resolved by "Get source"
    update: Update | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def option(self, name: str) -> bool:
        options = self.settings.get("operationContext", {}).get("options", {})
        return bool(options.get(name, False))

    def git(self) -> dict[str, Any]:
        git: dict[str, Any] = self.settings.get("sourceContext", {}).get("git", {})
        return git


@dataclass(eq=False)
class Stack:
    org: Org
    project: str
    name: str
    settings: dict[str, Any] | None = None
    paused: bool = False
    deployments: dict[str, Deployment] = field(default_factory=dict)  # by id
    history: list[Deployment] = field(default_factory=list)  # by version: version v is history[v - 1]
    queue: deque[Deployment] = field(default_factory=deque)
    active: Deployment | None = None
    resources: dict[str, str] = field(default_factory=dict)
    update_versions: int = 0

    @property
    def ref(self) -> str:
        return f"{self.org.name}/{self.project}/{self.name}"

    @property
    def short(self) -> str:
        return f"{self.project}/{self.name}"

    @property
    def latest_version(self) -> int:
        return len(self.history)


@dataclass(eq=False)
class Org:
    name: str
    concurrency: int
    paused: bool = False
    stacks: dict[str, Stack] = field(default_factory=dict)  # "project/stack" -> Stack
    deployments: list[Deployment] = field(default_factory=list)  # creation order
    counts: Counter[str] = field(default_factory=Counter)
    running: int = 0  # accepted or running: what the concurrency limit counts
    # Stacks that may have a deployment to admit, ordered by their queue head's seq. Entries go stale when a
    # stack changes; the engine checks each popped entry instead of keeping the heap exact.
    ready: list[tuple[int, str]] = field(default_factory=list)

    def offer(self, stack: Stack) -> None:
        """Note that ``stack`` may be able to start its next deployment."""
        if stack.queue and stack.active is None and not stack.paused:
            heapq.heappush(self.ready, (stack.queue[0].seq, stack.short))

    def paused_stacks(self) -> list[str]:
        return sorted(stack.short for stack in self.stacks.values() if stack.paused)


class StackExists(ValueError):
    """A stack of that name already exists."""


class Registry:
    """Organizations and their stacks, with the lookups the API answers 404 from."""

    def __init__(self, default_concurrency: int) -> None:
        self.default_concurrency = default_concurrency
        self.orgs: dict[str, Org] = {}
        self.deployment_seq = 0

    def ensure_org(self, name: str) -> Org:
        if name not in self.orgs:
            self.orgs[name] = Org(name, self.default_concurrency)
        return self.orgs[name]

    def org(self, name: str) -> Org:
        org = self.orgs.get(name)
        if org is None:
            raise not_found(f"Organization '{name}' not found")
        return org

    def stack(self, org: str, project: str, stack: str) -> Stack:
        found = self.org(org).stacks.get(f"{project}/{stack}")
        if found is None:
            raise not_found(f"Stack '{org}/{project}/{stack}' not found")
        return found

    def deployment(self, stack: Stack, deployment_id: str) -> Deployment:
        found = stack.deployments.get(deployment_id)
        if found is None:
            raise not_found(f"Deployment '{deployment_id}' not found for stack '{stack.ref}'")
        return found

    def deployment_version(self, stack: Stack, version: int) -> Deployment:
        if 1 <= version <= len(stack.history):
            return stack.history[version - 1]
        raise not_found(f"Deployment version {version} not found for stack '{stack.ref}'")

    def settings(self, stack: Stack) -> dict[str, Any]:
        if stack.settings is None:
            raise not_found(f"No deployment settings for stack '{stack.ref}'")
        return stack.settings

    def exists(self, ref: str) -> bool:
        org_name, project, name = parse_stack_ref(ref)
        return org_name in self.orgs and f"{project}/{name}" in self.orgs[org_name].stacks

    def add_stack(self, ref: str) -> Stack:
        if self.exists(ref):
            raise StackExists(f"stack '{ref}' already exists")
        org_name, project, name = parse_stack_ref(ref)
        org = self.ensure_org(org_name)
        stack = Stack(org, project, name)
        org.stacks[stack.short] = stack
        return stack


def parse_stack_ref(ref: str) -> tuple[str, str, str]:
    parts = ref.split("/") if isinstance(ref, str) else []
    if len(parts) != 3 or not all(_NAME.fullmatch(part) for part in parts):
        raise ValueError(f"stack names look like 'org/project/stack' (letters, digits, '-', '_', '.'), not {ref!r}")
    return parts[0], parts[1], parts[2]
