"""What a deployment's job consists of and what each step prints (the log text follows the seed doc's examples)."""

from __future__ import annotations

import shlex
from typing import Any

from bot.sandbox.pulumi.resources import Plan, summary
from bot.sandbox.pulumi.state import Deployment, Step

FAIL_VARIABLE = "SANDBOX_FAIL_STEP"
_HEADLINE = {
    "update": "Updating",
    "preview": "Previewing update",
    "refresh": "Refreshing",
    "destroy": "Destroying",
    "detect-drift": "Previewing refresh",
    "remediate-drift": "Updating",
}


def plan_steps(operation: str, settings: dict[str, Any], fail_step: str | None) -> list[Step]:
    """The job's steps, in order; ``fail_step`` (a step name or 1-based index) marks one to fail."""
    context = settings.get("operationContext", {})
    steps = [Step("Setup", "setup"), Step("Download deployment executor", "executor")]
    if context.get("oidc"):
        steps.append(Step("Fetch provider credentials via OIDC", "oidc"))
    steps.append(Step("Get source", "source"))
    if not context.get("options", {}).get("skipInstallDependencies", False):
        steps.append(Step("Download dependencies", "dependencies"))
    for number, command in enumerate(context.get("preRunCommands", []), start=1):
        steps.append(Step(f"Pre-run command {number}", "command", detail=command))
    steps.append(Step(f"pulumi {operation}", "pulumi"))
    if fail_step is not None:
        _mark_failing(steps, fail_step.strip())
    return steps


def _mark_failing(steps: list[Step], choice: str) -> None:
    try:
        by_index = int(choice) - 1
    except ValueError:  # a step name (or a number too long to be an index)
        by_index = -1
    for index, step in enumerate(steps):
        if index == by_index or step.name.lower() == choice.lower():
            step.failure = [f"error: {step.name} failed: {FAIL_VARIABLE} selected this step\n", "exit status 1\n"]
            return
    # Nothing matched: say so in Setup's log rather than failing a step nobody chose.
    steps[0].detail = f"{FAIL_VARIABLE} names no step of this deployment; nothing will fail on purpose"


def start_lines(deployment: Deployment, step: Step, console_url: str) -> list[str]:
    stack = deployment.stack
    if step.kind == "setup":
        lines = [
            "Preparing the deployment environment\n",
            f"Deployment {deployment.id} (version {deployment.version}) of {stack.ref}\n",
        ]
        return lines + ([f"warning: {step.detail}\n"] if step.detail else [])
    if step.kind == "executor":
        return [
            f"Pulling executor image {_executor_image(deployment.settings)}\n",
            "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n",
        ]
    if step.kind == "oidc":
        return [_oidc_line(deployment.settings["operationContext"]["oidc"])]
    if step.kind == "source":
        return _source_lines(deployment)
    if step.kind == "dependencies":
        return ["Installing dependencies\n"]
    if step.kind == "command":
        return [f"$ {step.detail}\n"]
    return _pulumi_start(deployment, console_url)


def finish_lines(deployment: Deployment, step: Step) -> list[str]:
    if step.kind == "setup":
        return ["Environment ready\n"]
    if step.kind == "executor":
        return [
            "100 48.2M  100 48.2M    0     0  61.3M      0 --:--:-- --:--:-- --:--:-- 61.3M\n",
            "Deployment executor ready\n",
        ]
    if step.kind == "oidc":
        return ["Provider credentials ready\n"]
    if step.kind == "source":
        return [f"HEAD is now at {(deployment.commit or '')[:7]}\n"]
    if step.kind == "dependencies":
        return ["Dependencies installed\n"]
    if step.kind == "command":
        return _echo_output(step.detail)
    update = deployment.update
    if update is None:  # pragma: no cover - the pulumi step always has an update once started
        return []
    seconds = max(1, round((update.end_ns - update.start_ns) / 1e9))
    return ["\n", *summary(update.plan, preview=not _applies(deployment)), "\n", f"Duration: {seconds}s\n"]


def change_lines(deployment: Deployment, plan: Plan) -> list[str]:
    preview = not _applies(deployment)
    return [change.line(preview=preview) for change in plan.changes]


def _applies(deployment: Deployment) -> bool:
    return deployment.operation in ("update", "destroy", "remediate-drift")


def _executor_image(settings: dict[str, Any]) -> str:
    image = settings.get("executorContext", {}).get("executorImage", "pulumi/pulumi:latest")
    return str(image.get("reference", "") if isinstance(image, dict) else image)


def _oidc_line(oidc: dict[str, Any]) -> str:
    if "aws" in oidc:
        aws = oidc["aws"]
        return f"Exchanging an OIDC token for AWS credentials (role {aws['roleArn']}, session {aws['sessionName']})\n"
    if "azure" in oidc:
        return f"Exchanging an OIDC token for Azure credentials (client {oidc['azure'].get('clientId', '?')})\n"
    if "gcp" in oidc:
        return f"Exchanging an OIDC token for GCP credentials ({oidc['gcp']['serviceAccount']})\n"
    return "Exchanging an OIDC token for provider credentials\n"


def _source_lines(deployment: Deployment) -> list[str]:
    git = deployment.git()
    target = git.get("commit") or git.get("tag") or git.get("branch") or "the default branch"
    lines = [f"Cloning {git['repoUrl']} ({target})\n"]
    if git.get("repoDir"):
        lines.append(f"Using project directory {git['repoDir']}\n")
    return lines


def _echo_output(command: str) -> list[str]:
    """``echo`` is the one command the emulator "runs" (the seed doc's examples use it); others print nothing."""
    try:
        words = shlex.split(command)
    except ValueError:
        return []
    return [" ".join(words[1:]) + "\n"] if words and words[0] == "echo" else []


def _pulumi_start(deployment: Deployment, console_url: str) -> list[str]:
    stack, update = deployment.stack, deployment.update
    lines = [f"{_HEADLINE[deployment.operation]} ({stack.org.name}/{stack.name})\n", "\n"]
    if update is not None:
        url = f"{console_url}/{stack.ref}/updates/{update.version}"
        lines += [f"View in Browser (Ctrl+O): {url}\n", "\n", *change_lines(deployment, update.plan)]
    return lines
