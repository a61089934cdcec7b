"""``/deploy``: ack at once, then parse the text into a command and hand it to the flow that answers it."""

from __future__ import annotations

import contextlib
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.command import (
    ApprovalsCommand,
    AuditCommand,
    CancelCommand,
    Command,
    DeployCommand,
    HelpCommand,
    InfoCommand,
    ListCommand,
    LogsCommand,
    PauseCommand,
    PolicyCommand,
    SettingsClearCommand,
    SettingsSetCommand,
    SettingsShowCommand,
    StatusCommand,
    SubscribeCommand,
    SubscriptionsCommand,
    UnsubscribeCommand,
    parse_command,
    usage_of,
)
from bot.deployments import LOG_TAIL, resolve
from bot.deps import Deps
from bot.errors import DeploybotError, SlackError
from bot.log import request_context
from bot.pulumi import StackRef
from bot.render.approval import approvals_message
from bot.render.audit import audit_message
from bot.render.confirm import confirmation_message
from bot.render.deployment import status_text
from bot.render.help import help_message
from bot.render.query import subscriptions_message
from bot.render.text import escape
from bot.slack_payload import SlashCommand
from bot.store import Confirmation
from bot.store.subscriptions import Subscription
from handlers import changes, queries
from handlers.reply import Answer, answering

CANCEL_WARNING = (
    "Cancelling while the Pulumi operation runs can leave the stack's state inconsistent with the cloud; "
    "a `refresh` may be needed afterwards."
)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command("/deploy")
    async def on_deploy(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()  # first, always: Slack gives up after 3 s; everything else happens after
        slash = SlashCommand.from_body(body)
        answer = Answer(deps.chat, slash.response_url, slash.channel_id)

        async def work() -> None:
            if not await deps.store.first_delivery("command", slash.trigger_id):
                return  # Slack (or a client) sent this command twice; the first delivery handles it
            await deps.store.remember_name(slash.user_id, slash.user_name)
            verb = "unparsed"
            outcome = "error"
            try:
                command = parse_command(slash.text, deps.default_org)
                verb = verb_of(command)
                if (name := spec_verb(command)) is not None:
                    answer.usage = usage_of(name)  # every error answer from here on carries it
                await run(deps, command, slash, answer)
                outcome = "ok"
            except DeploybotError:
                outcome = "refused"
                raise
            finally:
                deps.metrics.commands.labels(verb, outcome).inc()

        with request_context(slash.trigger_id):
            await answering(answer, work, deps.work_slots)


def verb_of(command: Command) -> str:
    """A metrics label: ``DeployCommand`` → its operation, ``SettingsSetCommand`` → ``settings_set``, …"""
    if isinstance(command, DeployCommand):
        return command.operation
    name = type(command).__name__.removesuffix("Command")
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def spec_verb(command: Command) -> str | None:
    """The grammar's name of ``command`` (its key in ``SPECS``), whose usage line goes with any error about it;
    None for help, which has no usage line of its own."""
    match command:
        case HelpCommand():
            return None
        case DeployCommand(operation=operation):
            return operation
        case PauseCommand(resume=resume):
            return "resume" if resume else "pause"
    return verb_of(command).replace("_", " ")


async def run(deps: Deps, command: Command, slash: SlashCommand, answer: Answer) -> None:  # noqa: C901  # one flat dispatch over every command type reads best as one match
    user, channel = slash.user_id, slash.channel_id
    match command:
        case HelpCommand(topic=topic):
            await answer.show(help_message(topic))
        case DeployCommand():
            await changes.start_deployment(deps, command, user, channel, answer)
        case StatusCommand(stack=stack, ref=ref):
            await queries.show_status(deps, answer, stack, ref)
        case ListCommand():
            await list_deployments(deps, answer, user, command)
        case LogsCommand():
            await show_logs(deps, answer, user, command)
        case CancelCommand(stack=stack, ref=ref):
            await ask_to_cancel(deps, answer, command, slash)
        case PauseCommand(target=target, resume=resume):
            await changes.pause(deps, target, resume, user, channel)
        case InfoCommand(target=target):
            await queries.show_info(deps, answer, target)
        case SettingsShowCommand(stack=stack):
            await queries.show_settings(deps, answer, stack)
        case SettingsSetCommand(stack=stack, patch=patch):
            await changes.change_settings(deps, stack, patch, user, channel)
        case SettingsClearCommand(stack=stack):
            await ask_to_clear(deps, answer, stack, slash)
        case SubscribeCommand(pattern=pattern, events=events):
            await changes.subscribe(deps, Subscription(channel, pattern, events), user)
        case UnsubscribeCommand(pattern=pattern):
            await changes.unsubscribe(deps, channel, pattern, user, answer)
        case SubscriptionsCommand():
            await answer.show(subscriptions_message(await deps.subscriptions.of_channel(channel)))
        case ApprovalsCommand():
            await show_approvals(deps, answer, channel)
        case PolicyCommand(stack=stack):
            await answer.say(deps.policy.rule_for(stack).explain(stack))
        case AuditCommand(target=target, limit=limit):
            where = str(target) if target is not None else None
            await answer.show(audit_message(await deps.audit.recent(stack=where, limit=limit), where))


async def show_approvals(deps: Deps, answer: Answer, channel: str) -> None:
    waiting = await deps.requests.open_in(channel)
    links = {}
    for request in waiting[:40]:
        if request.message_ts:
            with contextlib.suppress(SlackError):  # shown without a link
                links[request.id] = await deps.chat.permalink(request.channel, request.message_ts)
    await answer.show(approvals_message(waiting, links))


async def list_deployments(deps: Deps, answer: Answer, user: str, command: ListCommand) -> None:
    params: dict[str, Any] = {
        **queries.target_params(command.target),
        "status": command.status,
        "page_size": command.page_size,
        "asc": command.asc,
    }
    await queries.show_list(deps, answer, user, params, command.page)


async def show_logs(deps: Deps, answer: Answer, user: str, command: LogsCommand) -> None:
    deployment = await resolve(deps.pulumi, command.stack, command.ref)
    if command.step is None:
        await queries.show_log_tail(deps, answer, user, command.stack, deployment.id, command.tail or LOG_TAIL)
        return
    params = {
        "stack": str(command.stack),
        "deployment_id": deployment.id,
        "job": command.job,
        "step": command.step,
        "count": command.count,
    }
    await queries.show_step_page(deps, answer, user, params, command.offset)


async def ask_to_clear(deps: Deps, answer: Answer, stack: StackRef, slash: SlashCommand) -> None:
    # Refused before the dialog, not after it (the click re-checks: membership may change meanwhile).
    await changes.require_admin(deps, slash.user_id, deps.policy.rule_for(stack).admins, "clear deployment settings")
    confirm_id = await deps.store.save_confirmation(
        Confirmation(action="settings-clear", user=slash.user_id, channel=slash.channel_id, stack=str(stack))
    )
    question = f"Clear all deployment settings of `{escape(str(stack))}`?"
    warning = "Its deployments will need settings again (source, environment, …) before they can run."
    await answer.show(confirmation_message(question, warning, confirm_id, confirm_label="Clear settings"))


async def ask_to_cancel(deps: Deps, answer: Answer, command: CancelCommand, slash: SlashCommand) -> None:
    deployment = await resolve(deps.pulumi, command.stack, command.ref)
    if deployment.is_finished:
        await answer.say(f"#{deployment.version} has already finished ({status_text(deployment.status)}).")
        return
    await changes.may_cancel(deps, command.stack, deployment.id, slash.user_id)  # before the dialog, and again after
    confirm_id = await deps.store.save_confirmation(
        Confirmation(
            action="cancel",
            user=slash.user_id,
            channel=slash.channel_id,
            stack=str(command.stack),
            deployment_id=deployment.id,
        )
    )
    operation = escape(str(deployment.pulumi_operation or "deployment"))
    state = status_text(deployment.status)
    question = f"Cancel *{operation}* `{escape(str(command.stack))}` #{deployment.version} ({state})?"
    await answer.show(confirmation_message(question, CANCEL_WARNING, confirm_id, confirm_label="Cancel deployment"))
