"""A deployment as it runs: the parent message (edited in place), step replies, and the outcome in its thread."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, PlainTextObject

from bot import ids
from bot.pulumi import Deployment, JobStatus, StackRef, StepStatus, Unrecognized
from bot.render.deployment import deployment_blocks, deployment_buttons, duration, status_text
from bot.render.message import Message, context, section
from bot.render.text import code_block, escape, truncate_escaped


def queue_text(ahead: int, paused: bool) -> str:
    if paused:
        return "⏸ paused: it will start when deployments are resumed"
    if ahead:
        return f"waiting: {ahead} ahead" if ahead != 1 else "waiting: 1 ahead"
    return "waiting for a free runner"


def parent_message(
    deployment: Deployment,
    stack: StackRef,
    now: datetime,
    *,
    requester: str | None,
    message: str | None,
    console_url: str | None,
    queue: tuple[int, bool] | None = None,
    retry: bool = False,
    approved_by: list[str] | None = None,
) -> Message:
    """The deployment's top-level message: status, steps, who and why, queue state, and buttons by state."""
    blocks: list[Block] = deployment_blocks(
        deployment, stack, now, requester=requester, message=message, console_url=console_url
    )
    if approved_by:
        blocks.insert(1, context("approved by " + ", ".join(f"<@{user}>" for user in approved_by)))
    if queue is not None and deployment.status == JobStatus.NOT_STARTED:
        blocks.insert(1, context(queue_text(*queue)))
    if deployment.is_finished:
        logs = ButtonElement(text=PlainTextObject(text="View logs"), action_id=ids.DEPLOYMENT_LOGS, value=deployment.id)
        buttons = [logs]
        if retry:
            buttons.append(
                ButtonElement(text=PlainTextObject(text="Retry"), action_id=ids.DEPLOYMENT_RETRY, value=deployment.id)
            )
        blocks.append(ActionsBlock(elements=buttons))
    else:
        blocks.append(deployment_buttons(deployment))
    operation = str(deployment.pulumi_operation or "deployment")
    return Message(text=f"{operation} {stack} #{deployment.version}: {status_text(deployment.status)}", blocks=blocks)


StepLines = list[tuple[str, StepStatus | Unrecognized, float | None]]


def _step_lines(changes: StepLines) -> list[str]:
    lines = []
    for name, status, seconds in changes:
        icon = "✓" if status == StepStatus.SUCCEEDED else "✗" if status == StepStatus.FAILED else "•"
        timing = f" ({duration(seconds)})" if seconds is not None else ""
        lines.append(f"{icon} {truncate_escaped(name, 200)}{timing}")
    return lines


def steps_reply(changes: StepLines) -> Message:
    """One line per step that finished since the last reply: ``✓ Get source (4s)``."""
    lines = _step_lines(changes)
    return Message(text="; ".join(lines), blocks=[section("\n".join(lines))])


def outcome_reply(
    deployment: Deployment,
    stack: StackRef,
    *,
    took: float | None,
    requester: str | None,
    cancelled_by: str | None,
    log_tail: list[str] | None,
    steps: StepLines | None = None,
) -> Message:
    """The outcome: succeeded; failed with the failing step's last lines and the requester mentioned; or cancelled.
    ``steps`` that finished since the last reply head it, a line each, as in ``steps_reply``."""
    head = [section("\n".join(_step_lines(steps)))] if steps else []

    def reply(text: str, *blocks: Block) -> Message:
        return Message(text=text, blocks=[*head, *blocks])

    operation = str(deployment.pulumi_operation or "deployment")
    plain = f"{operation} {stack} #{deployment.version}"
    what = f"*{escape(operation)}* `{escape(str(stack))}` #{deployment.version}"
    after = f" after {duration(took)}" if took is not None else ""
    if cancelled_by is not None:
        return reply(f"{plain} cancelled", section(f"🛑 {what} was cancelled by <@{cancelled_by}>{after}."))
    if deployment.status == JobStatus.SUCCEEDED:
        took_text = f" in {duration(took)}" if took is not None else ""
        return reply(f"{plain} succeeded", section(f"✓ {what} succeeded{took_text}."))
    if deployment.status == JobStatus.SKIPPED:
        superseded = f"⤼ {what} was skipped: a newer deployment of the stack superseded it."
        return reply(f"{plain} skipped", section(superseded))
    failed = next((s.name for job in deployment.jobs for s in job.steps if s.status == StepStatus.FAILED), None)
    where = f" at *{truncate_escaped(failed, 200)}*" if failed else ""
    mention = f" <@{requester}>" if requester else ""
    blocks: list[Block] = [section(f"✗ {what} {status_text(deployment.status)}{where}{after}.{mention}")]
    if log_tail:
        blocks.append(section(code_block(log_tail)))
        blocks.append(context("The failed step's last lines; anything that looks like a secret is redacted."))
    return reply(f"{plain} failed" + (f" at {failed}" if failed else ""), *blocks)


_EVENT_WORDS = {"queued": ("○", "queued"), "started": ("⟳", "started"), "succeeded": ("✓", "succeeded")}


def notification(
    event: str,
    deployment: Deployment,
    stack: StackRef,
    *,
    took: float | None,
    console_url: str | None,
    log_tail: list[str] | None,
) -> Message:
    """A subscribed channel's message about one event of a deployment, whoever started it."""
    operation = str(deployment.pulumi_operation or "deployment")
    what = f"*{escape(operation)}* `{escape(str(stack))}` #{deployment.version}"
    who = deployment.requested_by.name if deployment.requested_by else ""
    by = f" by {truncate_escaped(who, 100)}" if who else ""
    via = f" via {truncate_escaped(deployment.initiator, 50)}" if deployment.initiator else ""
    timing = f" after {duration(took)}" if took is not None and event in ("succeeded", "failed") else ""
    link = f" · <{console_url}|Pulumi console>" if console_url else ""
    if event == "failed":
        failed = next((s.name for job in deployment.jobs for s in job.steps if s.status == StepStatus.FAILED), None)
        where = f" at *{truncate_escaped(failed, 200)}*" if failed else ""
        blocks: list[Block] = [section(f"✗ {what} failed{where}{timing} (started{by}{via}){link}")]
        if log_tail:
            blocks.append(section(code_block(log_tail)))
        logs = ButtonElement(text=PlainTextObject(text="View logs"), action_id=ids.DEPLOYMENT_LOGS, value=deployment.id)
        blocks.append(ActionsBlock(elements=[logs]))
        return Message(text=f"{operation} {stack} #{deployment.version} failed", blocks=blocks)
    icon, word = _EVENT_WORDS.get(event, ("•", event))
    started_by = f" (started{by}{via})" if by or via else ""
    return Message(
        text=f"{operation} {stack} #{deployment.version} {word}",
        blocks=[section(f"{icon} {what} {word}{timing}{started_by}{link}")],
    )


def stack_gone(operation: str, stack: StackRef, version: int) -> Message:
    """The outcome when Pulumi no longer knows the deployment: after a destroy, its stack was deleted."""
    what = f"*{escape(operation)}* `{escape(str(stack))}` #{version}"
    if operation == "destroy":
        text = f"✓ {what} finished and the stack was deleted (it was asked to delete itself after destroying)."
    else:
        text = f"? {what}: Pulumi no longer knows this deployment (its stack was deleted); I stopped following it."
    return Message(text=f"{operation} {stack} #{version}: stack deleted", blocks=[section(text)])
