"""The approval message's buttons, and the modals they open. Modals open right after the click's ack (a trigger_id
lives 3 seconds), so these clicks do not wait for a work slot; the decision is taken when the modal is submitted."""

from __future__ import annotations

from bot.approvals import ApprovalRequest
from bot.deps import Deps
from bot.errors import Refused
from bot.render.modal import confirm_destroy_modal, deny_modal
from bot.slack_payload import Click
from handlers.reply import Answer

GONE = "This request no longer exists."


async def request_of(deps: Deps, click: Click) -> ApprovalRequest | None:
    """The request a button belongs to: the one its value names, if the button was clicked on that request's own
    message — a signed but forged click carrying another open request's id finds nothing."""
    request = await deps.requests.get(click.value)
    if request is None or (click.message_ts and request.message_ts and click.message_ts != request.message_ts):
        return None
    return request


async def on_approve(deps: Deps, click: Click, answer: Answer) -> None:
    request = await request_of(deps, click)
    if request is None:
        await answer.say(GONE)
        return
    rule = deps.policy.rule_for(request.stack)
    if request.operation == "destroy" and rule.confirm_destroy and request.state == "pending":
        if not click.trigger_id:
            raise Refused("this approval needs a confirmation dialog, and Slack sent no way to open one")
        await deps.chat.open_modal(click.trigger_id, confirm_destroy_modal(request.id, request.stack))
        return
    await deps.gate.approve(request.id, click.user_id)


async def on_deny(deps: Deps, click: Click, answer: Answer) -> None:
    request = await request_of(deps, click)
    if request is None:
        await answer.say(GONE)
        return
    if not click.trigger_id:
        await deps.gate.deny(request.id, click.user_id, None)
        return
    await deps.chat.open_modal(click.trigger_id, deny_modal(request.id, request.operation, request.stack))


async def on_withdraw(deps: Deps, click: Click, answer: Answer) -> None:
    request = await request_of(deps, click)
    if request is None:
        await answer.say(GONE)
        return
    await deps.gate.withdraw(request.id, click.user_id)


async def on_retry(deps: Deps, click: Click, answer: Answer) -> None:
    request = await request_of(deps, click)
    if request is None:
        await answer.say(GONE)
        return
    await deps.gate.retry(request.id, click.user_id)
