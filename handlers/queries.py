"""Answers to questions, shown to the asker only: status, lists (paged in place), logs, metadata, settings."""

from __future__ import annotations

from typing import Any

from bot import deployments
from bot.command import DeploymentRef, OrgTarget, Target
from bot.deps import Deps
from bot.errors import NotFound
from bot.pulumi import DeploymentPage, JobStatus, StackRef
from bot.render.deployment import deployment_message
from bot.render.query import (
    list_message,
    logs_message,
    org_metadata_message,
    settings_message,
    stack_metadata_message,
)
from bot.render.text import SECTION_TEXT, escape
from bot.store import ViewState
from handlers.reply import Answer

# Above this many characters a log excerpt goes to the asker's DM as a file instead of being cut.
UPLOAD_OVER = SECTION_TEXT - 200


def target_params(target: Target) -> dict[str, str]:
    return {"org": target.org} if isinstance(target, OrgTarget) else {"stack": str(target)}


def target_of(params: dict[str, Any]) -> Target:
    return OrgTarget(params["org"]) if "org" in params else StackRef.parse(params["stack"])


async def show_status(deps: Deps, answer: Answer, stack: StackRef, ref: DeploymentRef | None) -> None:
    deployment = await deployments.resolve(deps.pulumi, stack, ref)
    record = await deps.store.deployment(deployment.id)
    console = record.console_url if record and record.console_url else None
    console = console or deployments.console_url(str(deps.settings.pulumi_backend_url), stack, deployment.version)
    message = deployment_message(
        deployment,
        stack,
        deps.clock(),
        requester=record.requested_by if record else None,
        message=record.message if record else None,
        console_url=console,
        with_configuration=True,
        buttons=True,
    )
    await answer.show(message)


async def show_list(
    deps: Deps, answer: Answer, user: str, params: dict[str, Any], page: int, *, view_id: str | None = None
) -> None:
    """One page of deployments. The command's call saves the query, so Previous/Next carry only its id; a click
    passes that id back and the page replaces the one it was clicked on.
    """
    replace = view_id is not None
    target = target_of(params)
    status = JobStatus(params["status"]) if params.get("status") else None
    size, asc = int(params.get("page_size", 10)), bool(params.get("asc", False))
    if view_id is None:
        view_id = await deps.store.save_view(ViewState(kind="list", user=user, params=params))
    result: DeploymentPage
    if isinstance(target, OrgTarget):
        result = await deps.pulumi.list_org_deployments(target.org, page=page, page_size=size, asc=asc, status=status)
    else:
        result = await deps.pulumi.list_deployments(target, page=page, page_size=size, asc=asc, status=status)
    title = f"Deployments of {target}" + (f" ({status.value})" if status else "")
    message = list_message(result, title, page, deps.clock(), with_stack=isinstance(target, OrgTarget), view_id=view_id)
    await answer.show(message, replace=replace)


async def show_log_tail(deps: Deps, answer: Answer, user: str, stack: StackRef, deployment_id: str, lines: int) -> None:
    """The last lines of the streamed log; too long for a message, they go to the asker's DM as a file."""
    deployment = await deps.pulumi.get_deployment(stack, deployment_id)
    tail = await deployments.log_tail(deps.pulumi, stack, deployment.id, lines)
    heading = f"*Log of* `{escape(str(stack))}` #{deployment.version}" + (
        "" if deployment.is_finished else " _(still running: the lines so far)_"
    )
    if not tail:
        await answer.say(f"{heading}\n_No log lines yet._")
        return
    if sum(len(line) + 1 for line in tail) > UPLOAD_OVER:
        name = f"{stack.project}-{stack.stack}-{deployment.version}.log"
        await deps.chat.upload_to_user(user, name, "\n".join(tail) + "\n", f"Log of {stack} #{deployment.version}")
        await answer.say(f"{heading}: {len(tail)} lines, too long for a message — sent to you as a file in a DM.")
        return
    await answer.show(logs_message(heading, tail))


async def show_step_page(
    deps: Deps,
    answer: Answer,
    user: str,
    params: dict[str, Any],
    offset: int,
    *,
    view_id: str | None = None,
) -> None:
    """One page of a step's log with a "More" button while the step has more lines."""
    stack = StackRef.parse(params["stack"])
    deployment = await deps.pulumi.get_deployment(stack, params["deployment_id"])
    job, step, count = int(params["job"]), int(params["step"]), int(params["count"])
    name, page = await deployments.step_page(deps.pulumi, stack, deployment, job, step, offset, count)
    lines = [line.line.rstrip("\n") for line in page.lines]
    replace = view_id is not None
    if view_id is None and page.next_offset is not None:
        view_id = await deps.store.save_view(ViewState(kind="logs", user=user, params=params))
    heading = (
        f"*Step {step}: {escape(name)}* of `{escape(str(stack))}` #{deployment.version} — "
        f"lines {offset + 1} to {offset + len(lines)}"
    )
    more = (view_id, str(page.next_offset)) if view_id and page.next_offset is not None else None
    if sum(len(line) + 1 for line in lines) > UPLOAD_OVER:
        filename = f"{stack.project}-{stack.stack}-{deployment.version}-step{step}-{offset + 1}.log"
        await deps.chat.upload_to_user(user, filename, "\n".join(lines) + "\n", f"Step {step}: {name}")
        note = "The full page is in your DM as a file."
        await answer.show(logs_message(heading, lines[-5:], note=note, more=more), replace=replace)
        return
    await answer.show(logs_message(heading, lines or ["(no lines)"], more=more), replace=replace)


async def show_info(deps: Deps, answer: Answer, target: Target) -> None:
    if isinstance(target, OrgTarget):
        await answer.show(org_metadata_message(target.org, await deps.pulumi.get_org_metadata(target.org)))
    else:
        await answer.show(stack_metadata_message(target, await deps.pulumi.get_stack_metadata(target)))


async def show_settings(deps: Deps, answer: Answer, stack: StackRef) -> None:
    try:
        settings = await deps.pulumi.get_settings(stack)
    except NotFound as exc:
        if exc.resource != "settings":
            raise
        await answer.say(f"`{escape(str(stack))}` has no deployment settings.")
        return
    await answer.show(settings_message(stack, settings))
