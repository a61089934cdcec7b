"""State-changing flows shared by commands and buttons: start a deployment, cancel one, pause or resume,
change or clear settings. Each is announced in the channel; the asker hears about problems privately.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from bot import deployments
from bot.audit import Action, AuditEntry
from bot.command import CommandError, DeployCommand, OrgTarget, Target
from bot.deps import Deps
from bot.errors import Refused, SlackError, StoreUnavailable
from bot.pulumi import DeploymentCreated, SettingsFields, StackRef
from bot.render import announce
from bot.render.deployment import deployment_message, status_text
from bot.render.message import Message, text_message
from bot.render.text import escape
from bot.store import DeploymentRecord
from bot.store.subscriptions import Subscription
from bot.store.watches import Watch
from handlers.reply import Answer

log = logging.getLogger(__name__)


async def audit(
    deps: Deps,
    action: Action,
    user: str,
    where: Target | str | None,
    *,
    deployment_id: str | None = None,
    version: int | None = None,
    detail: str = "",
) -> None:
    """Append to the audit trail; what was done has been done, so a trail that cannot be written is logged."""
    try:
        entry = AuditEntry(
            action=action,
            user=user,
            user_name=await deps.store.name_of(user),
            stack=str(where) if where is not None else None,
            deployment_id=deployment_id,
            version=version,
            detail=detail,
        )
        await deps.audit.append(entry)
    except StoreUnavailable:
        log.error("audit entry not written", extra={"action": action, "stack": str(where) if where else None})


async def announced(deps: Deps, channel: str, pending: str, work: Callable[[str], Awaitable[Message]]) -> str:
    """Post ``pending`` (mrkdwn), do ``work(ts)``, then edit the post into the message ``work`` returns.

    Posting first means nothing changes when the bot may not speak in the channel (the asker is told how to
    invite it); if ``work`` fails the post is taken back and the error reaches the asker alone.
    """
    ts = await deps.chat.post(channel, text_message(pending))
    try:
        final = await work(ts)
    except Exception:
        with contextlib.suppress(SlackError):  # the error that matters is work's, re-raised below
            await deps.chat.delete(channel, ts)
        raise
    await deps.chat.update(channel, ts, final)
    return ts


async def start_deployment(deps: Deps, command: DeployCommand, user: str, channel: str, answer: Answer) -> None:
    """Through the approval gate when the policy says so; else announce, create, record, then turn the
    announcement into the deployment's message and follow it.

    A deployment never exists without the message that tracks it, and nothing starts when the bot may not post.
    """
    rule = deps.policy.rule_for(command.stack)
    await deps.gate.check_requester(rule, user, command.operation, str(command.stack))
    if rule.needs_approval(command.operation):
        await answer.show(await deps.gate.ask(command, user, channel, rule))
        return
    pending = f"⏳ <@{user}> asked for *{escape(command.operation)}* of `{escape(str(command.stack))}`…"

    async def work(ts: str) -> Message:
        created, request = await deployments.start(deps.pulumi, command)
        return await adopt(deps, command.stack, command.operation, created, request, user, channel, ts, command.message)

    await announced(deps, channel, pending, work)


async def retry(deps: Deps, record: DeploymentRecord, user: str, answer: Answer) -> None:
    """The same operation with the same overrides, through approval like any new request when the policy says so."""
    assert record.request is not None  # Retry is only offered for deployments whose request was recorded
    stack, request = StackRef.parse(record.stack), record.request
    rule = deps.policy.rule_for(stack)
    await deps.gate.check_requester(rule, user, record.operation, record.stack)
    if rule.needs_approval(record.operation):
        gate = deps.gate
        await answer.show(
            await gate.ask_for(record.stack, record.operation, request, user, record.channel, rule, record.message)
        )
        return
    pending = f"⏳ <@{user}> is retrying *{escape(record.operation)}* of `{escape(record.stack)}` #{record.version}…"

    async def work(ts: str) -> Message:
        created = await deployments.restart(deps.pulumi, stack, request)
        return await adopt(deps, stack, record.operation, created, request, user, record.channel, ts, record.message)

    await announced(deps, record.channel, pending, work)


async def adopt(
    deps: Deps,
    stack: StackRef,
    operation: str,
    created: DeploymentCreated,
    request: dict[str, Any],
    user: str,
    channel: str,
    ts: str,
    message: str | None,
) -> Message:
    """Record who asked and where, start following the deployment, and render its first message."""
    record = DeploymentRecord(
        deployment_id=created.id,
        stack=str(stack),
        operation=operation,
        version=created.version,
        requested_by=user,
        channel=channel,
        message_ts=ts,
        message=message,
        console_url=created.console_url or None,
        request=request,
    )
    await deps.store.save_deployment(record)
    watch = Watch(deployment_id=created.id, stack=str(stack), version=created.version, operation=operation)
    await deps.watches.add(watch, deps.clock().timestamp() * 1000)
    log.info("deployment created", extra={"deployment_id": created.id, "stack": record.stack})
    await audit(deps, "deployment_created", user, stack, deployment_id=created.id, version=created.version)
    return await announcement(deps, record)


async def announcement(deps: Deps, record: DeploymentRecord) -> Message:
    """The deployment's channel message as it stands now."""
    stack = StackRef.parse(record.stack)
    deployment = await deps.pulumi.get_deployment(stack, record.deployment_id)
    return deployment_message(
        deployment,
        stack,
        deps.clock(),
        requester=record.requested_by,
        message=record.message,
        console_url=record.console_url,
        buttons=True,
    )


async def refresh_announcement(deps: Deps, record: DeploymentRecord) -> None:
    """Edit the deployment's channel message to show its current state."""
    if record.message_ts is not None:
        await deps.chat.update(record.channel, record.message_ts, await announcement(deps, record))


async def require_admin(deps: Deps, user: str, admins: tuple[str, ...], what: str) -> None:
    """The policy's admins (empty: everyone) may ``what``; anyone else is refused with who may."""
    if admins and not await deps.directory.is_in(user, admins):
        raise Refused(f"only {await deps.directory.display(admins)} may {what}")


async def may_cancel(deps: Deps, stack: StackRef, deployment_id: str, user: str) -> DeploymentRecord | None:
    """Cancelling someone else's deployment (or one started outside Slack) is for the policy's admins; returns the
    deployment's record, None when it was not started from Slack."""
    record = await deps.store.deployment(deployment_id)
    if record is None or record.requested_by != user:
        await require_admin(deps, user, deps.policy.rule_for(stack).admins, "cancel someone else's deployment")
    return record


async def cancel(deps: Deps, stack: StackRef, deployment_id: str, user: str, channel: str, answer: Answer) -> None:
    """Cancel after re-reading the deployment; a finished one is reported, not "cancelled" again. The permission is
    checked again here: the confirmation may have been asked for before a policy or group change."""
    record = await may_cancel(deps, stack, deployment_id, user)
    deployment = await deps.pulumi.get_deployment(stack, deployment_id)
    if deployment.is_finished:
        await answer.say(f"#{deployment.version} has already finished ({status_text(deployment.status)}).")
        return
    operation = str(deployment.pulumi_operation or "deployment")

    async def work(_: str = "") -> Message:
        await deps.pulumi.cancel_deployment(stack, deployment_id)
        await audit(deps, "cancelled", user, stack, deployment_id=deployment_id, version=deployment.version)
        return announce.cancelled(user, operation, stack, deployment.version)

    if record is None or record.message_ts is None:  # started elsewhere: announce it here
        pending = f"⏳ <@{user}> is cancelling `{escape(str(stack))}` #{deployment.version}…"
        await announced(deps, channel, pending, work)
        return
    message = await work()
    record = record.model_copy(update={"cancelled_by": user})
    await deps.store.save_deployment(record)
    await deps.chat.post(record.channel, message, thread_ts=record.message_ts)
    await refresh_announcement(deps, record)


async def pause(deps: Deps, target: Target, resume: bool, user: str, channel: str) -> None:
    if isinstance(target, OrgTarget):
        verb = "resume" if resume else "pause"
        await require_admin(deps, user, deps.policy.rule_for_org(target.org).admins, f"{verb} a whole organization")

    async def work(_: str) -> Message:
        if isinstance(target, OrgTarget):
            await (deps.pulumi.resume_org(target.org) if resume else deps.pulumi.pause_org(target.org))
        else:
            await (deps.pulumi.resume_stack(target) if resume else deps.pulumi.pause_stack(target))
        await audit(deps, "resumed" if resume else "paused", user, target)
        return announce.paused(user, target, resume=resume)

    verb = "resuming" if resume else "pausing"
    await announced(deps, channel, f"⏳ <@{user}> is {verb} deployments for `{escape(str(target))}`…", work)


async def change_settings(deps: Deps, stack: StackRef, patch: dict[str, object], user: str, channel: str) -> None:
    await require_admin(deps, user, deps.policy.rule_for(stack).admins, "change deployment settings")
    try:
        fields = SettingsFields.model_validate(patch)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CommandError(f"{where}: {first['msg']}", "settings set") from None

    async def work(_: str) -> Message:
        await deps.pulumi.patch_settings(stack, fields)
        paths = ", ".join(path for path, _ in announce.flatten(patch))  # the paths only, never the values
        await audit(deps, "settings_changed", user, stack, detail=paths)
        return announce.settings_changed(user, stack, patch)

    await announced(deps, channel, f"⏳ <@{user}> is changing the settings of `{escape(str(stack))}`…", work)


async def clear_settings(deps: Deps, stack: StackRef, user: str, channel: str) -> None:
    await require_admin(deps, user, deps.policy.rule_for(stack).admins, "clear deployment settings")

    async def work(_: str) -> Message:
        await deps.pulumi.clear_settings(stack)
        await audit(deps, "settings_cleared", user, stack)
        return announce.settings_cleared(user, stack)

    await announced(deps, channel, f"⏳ <@{user}> is clearing the settings of `{escape(str(stack))}`…", work)


async def subscribe(deps: Deps, subscription: Subscription, user: str) -> None:
    """Announced first: notifications need the bot in the channel, and the channel should know who asked."""
    events = ", ".join(subscription.events)

    async def work(_: str) -> Message:
        await deps.subscriptions.add(subscription)
        await audit(deps, "subscribed", user, None, detail=f"{subscription.pattern} ({events})")
        return announce.subscribed(user, subscription.pattern, events)

    pending = f"⏳ <@{user}> is subscribing this channel to `{escape(subscription.pattern)}`…"
    await announced(deps, subscription.channel, pending, work)


async def unsubscribe(deps: Deps, channel: str, pattern: str, user: str, answer: Answer) -> None:
    if not await deps.subscriptions.remove(channel, pattern):
        await answer.say(f"This channel has no subscription `{escape(pattern)}`; `/deploy subscriptions` lists them.")
        return
    await audit(deps, "unsubscribed", user, None, detail=pattern)
    await deps.chat.post(channel, announce.unsubscribed(user, pattern))
