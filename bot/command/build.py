"""Typed commands from tokenized words: one builder per verb, each checking what its verb needs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import get_args

from pydantic import SecretStr

from bot.command.lexer import Parsed
from bot.command.types import (
    ApprovalsCommand,
    AuditCommand,
    CancelCommand,
    Command,
    DeployCommand,
    DeploymentRef,
    InfoCommand,
    ListCommand,
    LogsCommand,
    Operation,
    OrgTarget,
    PauseCommand,
    PolicyCommand,
    SettingsClearCommand,
    SettingsSetCommand,
    SettingsShowCommand,
    StatusCommand,
    SubscribeCommand,
    SubscriptionsCommand,
    Target,
    UnsubscribeCommand,
)
from bot.overrides import JSONValue, assign, build_patch
from bot.pulumi.stack import StackRef

STATUSES = ("not-started", "accepted", "running", "succeeded", "failed", "skipped")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{7,63}$")
_SHA = re.compile(r"^[0-9a-fA-F]{4,64}$")


def stack(parsed: Parsed, text: str, default_org: str | None) -> StackRef:
    try:
        return StackRef.parse(text, default_org)
    except ValueError as exc:
        raise parsed.error(str(exc)) from None


def org(parsed: Parsed, text: str, default_org: str | None) -> OrgTarget:
    name = text or default_org
    if not name:
        raise parsed.error("no organization: write --org NAME (no default organization is configured)")
    try:
        StackRef(name, "p", "s")  # the same name rules apply to organizations
    except ValueError as exc:
        raise parsed.error(str(exc)) from None
    return OrgTarget(name)


def target(parsed: Parsed, default_org: str | None, *, required: bool = True) -> Target:
    """``STACK`` or ``--org [ORG]``; with ``required=False`` and neither given, the default organization."""
    if parsed.has("--org"):
        if parsed.args:
            raise parsed.error("give a stack or --org, not both")
        return org(parsed, parsed.one("--org") or "", default_org)
    if parsed.args:
        return stack(parsed, parsed.args[0], default_org)
    if required:
        raise parsed.error("give a stack (project/stack) or --org")
    return org(parsed, "", default_org)


def deployment_ref(parsed: Parsed, text: str) -> DeploymentRef:
    """``#12`` or ``12`` is a version; anything shaped like a deployment id is an id."""
    digits = text.removeprefix("#")
    if digits.isascii() and digits.isdigit():
        if int(digits) < 1:
            raise parsed.error("deployment versions start at 1")
        return DeploymentRef(version=int(digits))
    if _ID.match(text):
        return DeploymentRef(id=text)
    raise parsed.error(f"{text!r} is not a deployment id or #version")


def env_pair(parsed: Parsed, text: str, flag: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not _ENV_NAME.match(name):
        raise parsed.error(f"{flag} takes NAME=VALUE with a shell-style NAME, not {text!r}")
    return name, value


def branch_ref(branch: str) -> str:
    """Pulumi wants a full ref; ``main`` means ``refs/heads/main``."""
    return branch if branch.startswith("refs/") else f"refs/heads/{branch}"


def deploy_patch(parsed: Parsed) -> dict[str, JSONValue]:
    """``--json``, then ``--set``, then the dedicated flags, each later one winning."""
    patch = build_patch(parsed.many("--set"), parsed.one("--json"))
    branch, commit = parsed.one("--branch"), parsed.one("--commit")
    if branch is not None and commit is not None:
        raise parsed.error("use --branch or --commit, not both")
    if branch is not None:
        if not branch:
            raise parsed.error("--branch needs a branch name")
        # Clearing commit stops an inherited commit from conflicting with the branch (Pulumi rejects both).
        assign(patch, ["sourceContext", "git", "branch"], branch_ref(branch))
        assign(patch, ["sourceContext", "git", "commit"], None)
    if commit is not None:
        if not _SHA.match(commit):
            raise parsed.error(f"--commit takes a commit SHA, not {commit!r}")
        assign(patch, ["sourceContext", "git", "commit"], commit.lower())
        assign(patch, ["sourceContext", "git", "branch"], None)
    for text in parsed.many("--env"):
        name, value = env_pair(parsed, text, "--env")
        assign(patch, ["operationContext", "environmentVariables", name], value)
    for flag, option in (
        ("--skip-install", "skipInstallDependencies"),
        ("--skip-intermediate", "skipIntermediateDeployments"),
        ("--delete-after-destroy", "deleteAfterDestroy"),
    ):
        if parsed.has(flag):
            assign(patch, ["operationContext", "options", option], True)
    return patch


def build_deploy(parsed: Parsed, default_org: str | None) -> DeployCommand:
    operation = parsed.spec.verb
    assert operation in get_args(Operation)  # the spec table only routes deploy verbs here
    secrets: dict[str, SecretStr] = {}
    for text in parsed.many("--secret-env"):
        name, value = env_pair(parsed, text, "--secret-env")
        secrets[name] = SecretStr(value)
    message = parsed.one("--message")
    return DeployCommand(
        operation=operation,  # type: ignore[arg-type]  # narrowed by the assert above; mypy cannot see through get_args
        stack=stack(parsed, parsed.args[0], default_org),
        patch=deploy_patch(parsed),
        secret_env=secrets,
        inherit=not parsed.has("--no-inherit"),
        message=message.strip() or None if message is not None else None,
    )


def build_status(parsed: Parsed, default_org: str | None) -> StatusCommand:
    ref = deployment_ref(parsed, parsed.args[1]) if len(parsed.args) > 1 else None
    return StatusCommand(stack(parsed, parsed.args[0], default_org), ref)


def build_list(parsed: Parsed, default_org: str | None) -> ListCommand:
    status = parsed.one("--status")
    if status is not None:
        status = status.lower()
        if status not in STATUSES:
            raise parsed.error(f"--status is one of {', '.join(STATUSES)}")
    return ListCommand(
        target=target(parsed, default_org, required=False),
        status=status,
        page=parsed.integer("--page", 1, 1, 10_000),
        page_size=parsed.integer("--page-size", 10, 1, 100),
        asc=parsed.has("--asc"),
    )


def build_logs(parsed: Parsed, default_org: str | None) -> LogsCommand:
    step = parsed.integer("--step", 0, 1, 1000) if parsed.has("--step") else None
    tail = parsed.integer("--tail", 0, 1, 5000) if parsed.has("--tail") else None
    return LogsCommand(
        stack=stack(parsed, parsed.args[0], default_org),
        ref=deployment_ref(parsed, parsed.args[1]),
        step=step,
        job=parsed.integer("--job", 1, 1, 100),
        offset=parsed.integer("--offset", 0, 0, 10_000_000),
        count=parsed.integer("--count", 100, 1, 499),
        tail=tail,
    )


def build_cancel(parsed: Parsed, default_org: str | None) -> CancelCommand:
    return CancelCommand(stack(parsed, parsed.args[0], default_org), deployment_ref(parsed, parsed.args[1]))


def build_pause(parsed: Parsed, default_org: str | None) -> PauseCommand:
    return PauseCommand(target(parsed, default_org), resume=parsed.spec.verb == "resume")


def build_info(parsed: Parsed, default_org: str | None) -> InfoCommand:
    return InfoCommand(target(parsed, default_org))


def build_settings_set(parsed: Parsed, default_org: str | None) -> SettingsSetCommand:
    patch = build_patch(parsed.args[1:], parsed.one("--json"))
    if not patch:
        raise parsed.error("nothing to set: give KEY.PATH=VALUE pairs or --json")
    return SettingsSetCommand(stack(parsed, parsed.args[0], default_org), patch)


EVENTS = ("queued", "started", "succeeded", "failed")
_PATTERN_PART = re.compile(r"^[A-Za-z0-9_.*?\[\]!-]{1,100}$")


def pattern(parsed: Parsed, text: str, default_org: str | None) -> str:
    """``org/project/stack`` globs; ``project/stack`` gets the default organization."""
    parts = text.strip().split("/")
    if len(parts) == 2 and default_org:
        parts = [default_org, *parts]
    if len(parts) != 3 or not all(_PATTERN_PART.match(part) for part in parts):
        raise parsed.error(f"{text!r} is not a stack pattern: write org/project/stack with * or ? (e.g. acme/*/prod)")
    return "/".join(parts)


def build_subscribe(parsed: Parsed, default_org: str | None) -> SubscribeCommand:
    events = tuple(e.strip().lower() for e in (parsed.one("--on") or "failed").split(",") if e.strip())
    unknown = [e for e in events if e not in EVENTS]
    if unknown or not events:
        raise parsed.error(f"--on takes a comma-separated list of {', '.join(EVENTS)}")
    return SubscribeCommand(pattern(parsed, parsed.args[0], default_org), tuple(sorted(set(events), key=EVENTS.index)))


def build_audit(parsed: Parsed, default_org: str | None) -> AuditCommand:
    limit = parsed.integer("--limit", 20, 1, 100)
    if not parsed.args:
        return AuditCommand(None, limit)
    text = parsed.args[0]
    chosen: Target = stack(parsed, text, default_org) if "/" in text else org(parsed, text, default_org)
    return AuditCommand(chosen, limit)


BUILDERS: dict[str, Callable[[Parsed, str | None], Command]] = {
    "update": build_deploy,
    "preview": build_deploy,
    "refresh": build_deploy,
    "destroy": build_deploy,
    "status": build_status,
    "list": build_list,
    "logs": build_logs,
    "cancel": build_cancel,
    "pause": build_pause,
    "resume": build_pause,
    "info": build_info,
    "settings show": lambda parsed, org: SettingsShowCommand(stack(parsed, parsed.args[0], org)),
    "settings set": build_settings_set,
    "settings clear": lambda parsed, org: SettingsClearCommand(stack(parsed, parsed.args[0], org)),
    "subscribe": build_subscribe,
    "unsubscribe": lambda parsed, org: UnsubscribeCommand(pattern(parsed, parsed.args[0], org)),
    "subscriptions": lambda parsed, org: SubscriptionsCommand(),
    "approvals": lambda parsed, org: ApprovalsCommand(),
    "policy": lambda parsed, org: PolicyCommand(stack(parsed, parsed.args[0], org)),
    "audit": build_audit,
}
