"""Modal submissions: the reason for a denial, and the stack's name typed to approve a destroy."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot import ids
from bot.deps import Deps
from bot.errors import DeploybotError, SlackError
from bot.render.errors import error_text
from bot.render.message import text_message

log = logging.getLogger(__name__)


def _value(body: dict[str, Any], block: str) -> str:
    state = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    entry = (state.get(block) or {}).get(block) or {}
    return str(entry.get("value") or "").strip()


def register(app: AsyncApp, deps: Deps) -> None:
    async def tell(request_id: str, user: str, error: DeploybotError) -> None:
        """A modal has no response_url: explain in the request's channel, to the user alone."""
        request = await deps.requests.get(request_id)
        if request is None:
            return
        try:
            await deps.chat.tell(request.channel, user, text_message(error_text(error)))
        except SlackError:
            log.info("could not explain a refused submission", extra={"request_id": request_id})

    @app.view(ids.VIEW_DENY)
    async def on_deny(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        request_id, user = str(body["view"].get("private_metadata", "")), str(body["user"]["id"])
        try:
            await deps.gate.deny(request_id, user, _value(body, ids.INPUT_REASON) or None)
        except DeploybotError as error:
            await tell(request_id, user, error)

    @app.view(ids.VIEW_CONFIRM_DESTROY)
    async def on_confirm_destroy(ack: AsyncAck, body: dict[str, Any]) -> None:
        request_id, _, stack = str(body["view"].get("private_metadata", "")).partition("|")
        if _value(body, ids.INPUT_STACK_NAME) != stack:
            await ack(response_action="errors", errors={ids.INPUT_STACK_NAME: f"Type {stack} exactly to approve."})
            return
        await ack()
        user = str(body["user"]["id"])
        try:
            await deps.gate.approve(request_id, user)
        except DeploybotError as error:
            await tell(request_id, user, error)
