"""Events API: a mention of the bot gets a pointer to ``/deploy help`` in a thread. Events are deduplicated on
``event_id`` because Slack retries a delivery it thinks failed (up to three times)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.app.async_app import AsyncApp

from bot.deps import Deps
from bot.errors import DeploybotError
from bot.render.message import text_message

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_mention")
    async def on_mention(body: dict[str, Any], event: dict[str, Any]) -> None:
        event_id, channel = body.get("event_id"), event.get("channel")
        if not isinstance(event_id, str) or not isinstance(channel, str):
            return
        try:
            if not await deps.store.first_delivery("event", event_id):
                return
            reply = text_message(f"Hi <@{event.get('user', '')}>! I run Pulumi Deployments: try `/deploy help`.")
            await deps.chat.post(channel, reply, thread_ts=event.get("thread_ts") or event.get("ts"))
        except DeploybotError as error:  # a greeting that fails needs no answer; Slack will not retry a 200
            log.warning("could not answer a mention", extra={"error": type(error).__name__, "event_id": event_id})
