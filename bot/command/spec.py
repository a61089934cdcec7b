"""What each ``/deploy`` verb accepts: usage line, summary, flags and examples; help is built from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FlagKind = Literal["bool", "value", "optional"]  # "optional": the value may be left out (``--org`` or ``--org acme``)

_DEPLOY_FLAGS: dict[str, FlagKind] = {
    "--branch": "value",
    "--commit": "value",
    "--env": "value",
    "--secret-env": "value",
    "--set": "value",
    "--json": "value",
    "--no-inherit": "bool",
    "--skip-install": "bool",
    "--skip-intermediate": "bool",
    "--delete-after-destroy": "bool",
    "--message": "value",
}
_DEPLOY_USAGE = (
    "STACK [--branch B | --commit SHA] [--env K=V …] [--secret-env K=V …] [--set KEY.PATH=VALUE …] "
    "[--json '{…}'] [--no-inherit] [--skip-install] [--skip-intermediate] [--message TEXT]"
)


@dataclass(frozen=True)
class Spec:
    verb: str
    usage: str
    summary: str
    flags: dict[str, FlagKind] = field(default_factory=dict)
    min_args: int = 0
    max_args: int = 0
    examples: tuple[str, ...] = ()


def _deploy(operation: str, summary: str, example: str) -> Spec:
    flags = dict(_DEPLOY_FLAGS)
    usage = _DEPLOY_USAGE
    if operation == "destroy":
        usage += " [--delete-after-destroy]"
    else:
        del flags["--delete-after-destroy"]
    return Spec(operation, f"{operation} {usage}", summary, flags, 1, 1, (example,))


SPECS: dict[str, Spec] = {
    spec.verb: spec
    for spec in (
        _deploy("update", "deploy a stack (pulumi up)", "update web/dev --branch main --message 'ship it'"),
        _deploy("preview", "show what an update would change", "preview web/prod --commit 1a2b3c4"),
        _deploy("refresh", "bring the stack's state in line with the cloud", "refresh acme/web/dev"),
        _deploy("destroy", "delete every resource of a stack", "destroy web/pr-42 --delete-after-destroy"),
        Spec(
            "status",
            "status STACK [ID | #VERSION]",
            "a deployment's status, steps and configuration (the latest one by default)",
            {},
            1,
            2,
            ("status web/dev", "status web/dev #12"),
        ),
        Spec(
            "list",
            "list [STACK | --org [ORG]] [--status S] [--page N] [--page-size N] [--asc]",
            "recent deployments of a stack or of the whole organization",
            {
                "--org": "optional",
                "--status": "value",
                "--page": "value",
                "--page-size": "value",
                "--asc": "bool",
            },
            0,
            1,
            ("list web/dev", "list --org --status failed"),
        ),
        Spec(
            "logs",
            "logs STACK ID|#VERSION [--step N] [--job N] [--offset N] [--count N] [--tail N]",
            "a deployment's log: the last lines, or one step's lines page by page",
            {"--step": "value", "--job": "value", "--offset": "value", "--count": "value", "--tail": "value"},
            2,
            2,
            ("logs web/dev #12", "logs web/dev #12 --step 6 --count 50"),
        ),
        Spec(
            "cancel",
            "cancel STACK ID|#VERSION",
            "cancel a queued or running deployment (asks first)",
            {},
            2,
            2,
            ("cancel web/dev #12",),
        ),
        Spec(
            "pause",
            "pause STACK | --org [ORG]",
            "hold new deployments of a stack or organization",
            {"--org": "optional"},
            0,
            1,
            ("pause web/prod",),
        ),
        Spec(
            "resume",
            "resume STACK | --org [ORG]",
            "let paused deployments run again",
            {"--org": "optional"},
            0,
            1,
            ("resume web/prod",),
        ),
        Spec(
            "info",
            "info STACK | --org [ORG]",
            "deployment metadata: paused flags, queue counts, concurrency",
            {"--org": "optional"},
            0,
            1,
            ("info web/prod", "info --org"),
        ),
        Spec(
            "settings show",
            "settings show STACK",
            "a stack's deployment settings (secrets hidden)",
            {},
            1,
            1,
            ("settings show web/dev",),
        ),
        Spec(
            "settings set",
            "settings set STACK KEY.PATH=VALUE … | --json '{…}'",
            "change deployment settings (=null removes a key; values are JSON when they parse)",
            {"--json": "value"},
            1,
            100,
            (
                "settings set web/dev sourceContext.git.branch=refs/heads/main",
                "settings set web/dev operationContext.environmentVariables.AWS_REGION=null",
            ),
        ),
        Spec(
            "settings clear",
            "settings clear STACK",
            "remove a stack's deployment settings (asks first)",
            {},
            1,
            1,
            ("settings clear web/pr-42",),
        ),
        Spec(
            "subscribe",
            "subscribe PATTERN [--on failed,succeeded,started,queued]",
            "tell this channel about deployments of matching stacks, whoever starts them (default: failures)",
            {"--on": "value"},
            1,
            1,
            ("subscribe acme/*/prod", "subscribe web/* --on failed,succeeded"),
        ),
        Spec(
            "unsubscribe",
            "unsubscribe PATTERN",
            "stop this channel's notifications for a pattern",
            {},
            1,
            1,
            ("unsubscribe acme/*/prod",),
        ),
        Spec("subscriptions", "subscriptions", "this channel's subscriptions", {}, 0, 0, ("subscriptions",)),
        Spec("approvals", "approvals", "this channel's requests waiting for approval", {}, 0, 0, ("approvals",)),
        Spec(
            "policy",
            "policy STACK",
            "who may request and approve what for a stack, in plain words",
            {},
            1,
            1,
            ("policy web/prod",),
        ),
        Spec(
            "audit",
            "audit [STACK | ORG] [--limit N]",
            "recent requests, approvals, deployments, cancels, pauses and settings changes",
            {"--limit": "value"},
            0,
            1,
            ("audit", "audit web/prod --limit 50"),
        ),
    )
}
SPECS["settings"] = Spec("settings", "settings show|set|clear STACK …", "show or change a stack's deployment settings")

GENERAL_USAGE = "/deploy COMMAND [ARGS] — /deploy help lists the commands"


def usage_of(verb: str | None) -> str:
    spec = SPECS.get(verb or "")
    return f"/deploy {spec.usage}" if spec else GENERAL_USAGE
