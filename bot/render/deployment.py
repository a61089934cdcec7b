"""One deployment as Slack shows it: status, steps with durations, configuration with secrets hidden, buttons."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    PlainTextObject,
)

from bot import ids
from bot.pulumi.models import Deployment, DeploymentJob, JobStatus, StepRun, StepStatus, Unrecognized
from bot.pulumi.stack import StackRef
from bot.render.message import Message, context, section
from bot.render.text import escape, truncate_escaped

_STATUS_WORDS: dict[JobStatus, tuple[str, str]] = {
    JobStatus.NOT_STARTED: ("○", "queued"),
    JobStatus.ACCEPTED: ("○", "starting"),
    JobStatus.RUNNING: ("⟳", "running"),
    JobStatus.SUCCEEDED: ("✓", "succeeded"),
    JobStatus.FAILED: ("✗", "failed"),
    JobStatus.SKIPPED: ("⤼", "skipped (superseded)"),
}
_STEP_ICONS: dict[StepStatus, str] = {
    StepStatus.NOT_STARTED: "○",
    StepStatus.RUNNING: "⟳",
    StepStatus.SUCCEEDED: "✓",
    StepStatus.FAILED: "✗",
}


def status_text(status: JobStatus | Unrecognized) -> str:
    """``✓ succeeded``; a status this bot does not know is shown as Pulumi wrote it."""
    if isinstance(status, Unrecognized):
        return f"? {escape(status.value)}"
    icon, word = _STATUS_WORDS[status]
    return f"{icon} {word}"


def duration(seconds: float) -> str:
    """``4s``, ``2m 05s``, ``1h 03m``."""
    whole = max(int(seconds), 0)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _span(start: datetime | None, end: datetime | None) -> timedelta | None:
    return end - start if start and end else None


def step_line(number: int, step: StepRun, now: datetime) -> str:
    """``✓ 3. Get source (4s)``; a running step counts up to now."""
    icon = "?" if isinstance(step.status, Unrecognized) else _STEP_ICONS[step.status]
    end = now if step.status == StepStatus.RUNNING else step.last_updated
    span = _span(step.started, end)
    timing = f" ({duration(span.total_seconds())})" if span is not None else ""
    return f"{icon} {number}. {truncate_escaped(step.name, 200)}{timing}"


def steps_text(jobs: list[DeploymentJob], now: datetime) -> str:
    """Every step of every job, numbered as ``/deploy logs --step`` expects (1-based within a job)."""
    blocks = []
    for job_number, job in enumerate(jobs, start=1):
        lines = [step_line(n, step, now) for n, step in enumerate(job.steps, start=1)]
        if len(jobs) > 1:
            lines.insert(0, f"_Job {job_number}_")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def elapsed(deployment: Deployment, now: datetime) -> str | None:
    """How long it ran (or has been running); None before it started."""
    starts = [job.started for job in deployment.jobs if job.started]
    if not starts:
        return None
    ends = [job.last_updated for job in deployment.jobs if job.last_updated]
    end = max(ends) if deployment.is_finished and ends else now
    return duration((end - min(starts)).total_seconds())


def headline(deployment: Deployment, stack: StackRef) -> str:
    operation = str(deployment.pulumi_operation) if deployment.pulumi_operation else "deployment"
    return f"*{escape(operation)}* `{escape(str(stack))}` #{deployment.version} — {status_text(deployment.status)}"


def configuration_text(deployment: Deployment) -> str:
    """Source and environment variables; secret values never appear (Pulumi does not send them either)."""
    config = deployment.configuration
    if config is None:
        return ""
    lines = []
    git = config.source.git if config.source else None
    if git is not None:
        where = " · ".join(
            escape(part) for part in (git.repo_url, git.branch, git.commit and git.commit[:12], git.repo_dir) if part
        )
        lines.append(f"*Source:* {where}")
    if config.environment_variables:
        shown = []
        for var in config.environment_variables:
            value = "🔒 hidden" if var.secret else f"`{truncate_escaped(var.value or '', 80)}`"
            shown.append(f"`{escape(var.name)}`={value}")
        lines.append("*Environment:* " + ", ".join(shown))
    return "\n".join(lines)


def deployment_blocks(
    deployment: Deployment,
    stack: StackRef,
    now: datetime,
    *,
    requester: str | None = None,
    message: str | None = None,
    console_url: str | None = None,
    with_configuration: bool = False,
) -> list[Block]:
    """The body every deployment message shares: headline, who and why, steps, optional configuration."""
    who = f"<@{requester}>" if requester else escape(deployment.requested_by.name) if deployment.requested_by else None
    facts = [part for part in (f"requested by {who}" if who else None, elapsed(deployment, now)) if part]
    if console_url:
        facts.append(f"<{console_url}|Pulumi console>")
    blocks: list[Block] = [section(headline(deployment, stack))]
    if message:
        blocks.append(section(f"> {truncate_escaped(message, 500)}"))
    if deployment.jobs:
        blocks.append(section(steps_text(deployment.jobs, now)))
    if with_configuration and (config := configuration_text(deployment)):
        blocks.append(section(config))
    if facts:
        blocks.append(context(" · ".join(facts)))
    return blocks


def deployment_buttons(deployment: Deployment) -> ActionsBlock:
    """Cancel while it can still be cancelled (with a confirm dialog stating the risk); View logs always."""
    return _buttons(deployment.id, cancellable=not deployment.is_finished)


class _Validated(ActionsBlock):
    """An actions block serialized (and so validated by slack_sdk) once: the watcher edits a deployment's parent on
    every change, and these buttons, the same each time, were two thirds of the cost of serializing it. Read-only:
    every message that shows it gets the same dict."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._dict = super().to_dict()

    def to_dict(self) -> dict[str, Any]:
        return self._dict


@functools.lru_cache(maxsize=4096)
def _buttons(deployment_id: str, *, cancellable: bool) -> ActionsBlock:
    elements = []
    if cancellable:
        elements.append(
            ButtonElement(
                text=PlainTextObject(text="Cancel"),
                action_id=ids.DEPLOYMENT_CANCEL,
                value=deployment_id,
                style="danger",
                confirm=ConfirmObject(
                    title="Cancel this deployment?",
                    text=MarkdownTextObject(
                        text="Cancelling while the Pulumi operation runs can leave the stack's state "
                        "inconsistent with the cloud (a refresh may be needed)."
                    ),
                    confirm="Cancel it",
                    deny="Keep running",
                    style="danger",
                ),
            )
        )
    logs = ButtonElement(text=PlainTextObject(text="View logs"), action_id=ids.DEPLOYMENT_LOGS, value=deployment_id)
    elements.append(logs)
    return _Validated(elements=elements)


def deployment_message(
    deployment: Deployment,
    stack: StackRef,
    now: datetime,
    *,
    requester: str | None = None,
    message: str | None = None,
    console_url: str | None = None,
    with_configuration: bool = False,
    buttons: bool = False,
) -> Message:
    blocks = deployment_blocks(
        deployment,
        stack,
        now,
        requester=requester,
        message=message,
        console_url=console_url,
        with_configuration=with_configuration,
    )
    if buttons:
        blocks.append(deployment_buttons(deployment))
    operation = str(deployment.pulumi_operation or "deployment")
    fallback = f"{operation} {stack} #{deployment.version}: {status_text(deployment.status)}"
    return Message(text=fallback, blocks=blocks)
