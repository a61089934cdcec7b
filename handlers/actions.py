"""Buttons: values carry ids only; every click re-reads state (Redis, then Pulumi) before it acts."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot import ids
from bot.command import CommandError
from bot.deployments import LOG_TAIL
from bot.deps import Deps
from bot.pulumi import StackRef
from bot.slack_payload import Click
from handlers import approval, changes, queries
from handlers.reply import Answer, answering

ClickHandler = Callable[[Deps, Click, Answer], Awaitable[None]]
_PAGE_VALUE = re.compile(r"^([A-Za-z0-9_-]{1,64}):(\d{1,9})$")
EXPIRED = "This has expired (or was already used). Run the command again."


def paged(value: str) -> tuple[str, int]:
    """``view_id:number`` from a paging button; anything else is a tampered or foreign value."""
    match = _PAGE_VALUE.match(value)
    if match is None:
        raise CommandError("that button does not belong to this bot")
    return match.group(1), int(match.group(2))


async def on_deployment_cancel(deps: Deps, click: Click, answer: Answer) -> None:
    record = await deps.store.deployment(click.value)
    if record is None:
        await answer.say("I have no record of that deployment any more; use `/deploy cancel STACK #VERSION`.")
        return
    channel = click.channel_id or record.channel
    await changes.cancel(deps, StackRef.parse(record.stack), record.deployment_id, click.user_id, channel, answer)


async def on_deployment_logs(deps: Deps, click: Click, answer: Answer) -> None:
    # Started from Slack: its record; started elsewhere and shown to a subscribed channel: its watch.
    known = await deps.store.deployment(click.value) or await deps.watches.get(click.value)
    if known is None:
        await answer.say("I have no record of that deployment any more; use `/deploy logs STACK #VERSION`.")
        return
    stack = StackRef.parse(known.stack)
    await queries.show_log_tail(deps, answer, click.user_id, stack, known.deployment_id, LOG_TAIL)


async def on_deployment_retry(deps: Deps, click: Click, answer: Answer) -> None:
    record = await deps.store.deployment(click.value)
    if record is None or record.request is None:
        await answer.say("I no longer have what that deployment was asked with; start it again with `/deploy`.")
        return
    await changes.retry(deps, record, click.user_id, answer)


async def on_confirm(deps: Deps, click: Click, answer: Answer) -> None:
    pending = await deps.store.confirmation(click.value)
    if pending is None:
        await answer.say(EXPIRED, replace=True)
        return
    if pending.user != click.user_id:
        await answer.say(f"Only <@{pending.user}>, who asked, can confirm this.")
        return
    if await deps.store.take_confirmation(click.value) is None:
        return  # a second click raced this one and already acted
    if click.action_id == ids.CONFIRM_NO:
        await answer.say("Kept — nothing was changed.", replace=True)
        return
    stack = StackRef.parse(pending.stack)
    await answer.say("On it…", replace=True)
    if pending.action == "cancel" and pending.deployment_id:
        await changes.cancel(deps, stack, pending.deployment_id, click.user_id, pending.channel, answer)
    elif pending.action == "settings-clear":
        await changes.clear_settings(deps, stack, click.user_id, pending.channel)


async def on_list_page(deps: Deps, click: Click, answer: Answer) -> None:
    view_id, page = paged(click.value)
    view = await deps.store.view(view_id)
    if view is None or view.kind != "list" or view.user != click.user_id:
        await answer.say(EXPIRED, replace=True)
        return
    await queries.show_list(deps, answer, click.user_id, view.params, max(page, 1), view_id=view_id)


async def on_logs_more(deps: Deps, click: Click, answer: Answer) -> None:
    view_id, offset = paged(click.value)
    view = await deps.store.view(view_id)
    if view is None or view.kind != "logs" or view.user != click.user_id:
        await answer.say(EXPIRED, replace=True)
        return
    await queries.show_step_page(deps, answer, click.user_id, view.params, offset, view_id=view_id)


HANDLERS: dict[str, ClickHandler] = {
    ids.DEPLOYMENT_CANCEL: on_deployment_cancel,
    ids.DEPLOYMENT_LOGS: on_deployment_logs,
    ids.DEPLOYMENT_RETRY: on_deployment_retry,
    ids.CONFIRM_YES: on_confirm,
    ids.CONFIRM_NO: on_confirm,
    ids.LIST_PREVIOUS: on_list_page,
    ids.LIST_NEXT: on_list_page,
    ids.LOGS_MORE: on_logs_more,
    ids.APPROVAL_APPROVE: approval.on_approve,
    ids.APPROVAL_DENY: approval.on_deny,
    ids.APPROVAL_WITHDRAW: approval.on_withdraw,
    ids.APPROVAL_RETRY: approval.on_retry,
}
# Clicks that may open a modal must not queue for a work slot: the trigger_id expires 3 s after the click.
OPENS_MODAL = {ids.APPROVAL_APPROVE, ids.APPROVAL_DENY}


def register(app: AsyncApp, deps: Deps) -> None:
    for action_id, handler in HANDLERS.items():
        app.action(action_id)(_listener(deps, handler, queue=action_id not in OPENS_MODAL))


def _listener(deps: Deps, handler: ClickHandler, *, queue: bool = True) -> Callable[..., Awaitable[None]]:
    async def on_click(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        click = Click.from_body(body)
        answer = Answer(deps.chat, click.response_url, click.channel_id)

        async def work() -> None:
            if await deps.store.first_delivery("click", click.delivery_id):
                await deps.store.remember_name(click.user_id, click.user_name)
                await handler(deps, click, answer)

        await answering(answer, work, deps.work_slots if queue else None)

    return on_click
