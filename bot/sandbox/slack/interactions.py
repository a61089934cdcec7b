"""Playing the user: slash commands, clicks and modal submissions sent to the bot, and what Slack does with the
bot's synchronous reply (a message for commands, ``response_action`` for submissions). Every run is recorded.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.sandbox.slack import views
from bot.sandbox.slack.delivery import Deliverer, Delivery, Kind, Transport
from bot.sandbox.slack.model import JSON, Message, MessageRef, View
from bot.sandbox.slack.payloads import (
    InteractionError,
    action_entry,
    command_payload,
    find_element,
    message_click_payload,
    submission_payload,
    submitted_values,
    view_click_payload,
)
from bot.sandbox.slack.response_url import issue, respond
from bot.sandbox.slack.state import Workspace
from bot.sandbox.slack.wire import SlackError


class Interactions:
    def __init__(self, ws: Workspace, deliverer: Deliverer) -> None:
        self._ws = ws
        self._deliverer = deliverer

    def _user(self, user: str) -> None:
        if user not in self._ws.users or user == self._ws.bot_user_id:
            raise InteractionError(f"unknown user {user!r}")

    def _begin(self, kind: str, user: str, transport: Transport) -> JSON:
        record: JSON = {"id": self._ws.new_id("I"), "kind": kind, "user": user, "requested_transport": transport}
        self._ws.interactions[record["id"]] = record
        return record

    async def _send(self, record: JSON, kind: Kind, payload: JSON, transport: Transport) -> Delivery:
        record["payload"] = payload
        delivery = await self._deliverer.deliver(kind, payload, transport)
        record |= delivery.record()
        self._ws.notify()
        return delivery

    async def command(
        self, user: str, channel: str, text: str, command: str, transport: Transport, base_url: str
    ) -> JSON:
        ws = self._ws
        self._user(user)
        target = ws.channels.get(channel)
        if target is None:
            raise InteractionError(f"unknown channel {channel!r}")
        if user not in target.members:
            raise InteractionError(f"{user} is not a member of {channel} and cannot type there")
        if not command.startswith("/"):
            raise InteractionError(f"a slash command starts with '/': {command!r}")
        record = self._begin("command", user, transport)
        hook = issue(ws, base_url, record["id"], "commands", channel, user)
        trigger = ws.new_trigger(user)
        record |= {"trigger_id": trigger, "response_url": hook.url, "channel": channel}
        delivery = await self._send(
            record, "command", command_payload(ws, user, channel, command, text, hook.url, trigger), transport
        )
        if delivery.reply is not None:
            try:
                record["effect"] = respond(ws, hook, delivery.reply, "command_reply")
            except SlackError as error:
                # Slack shows the user an error instead of a malformed reply.
                record["effect"] = {"error": error.error, "messages": error.messages}
        return record

    async def click(
        self, user: str, where: MessageRef | str, action_id: str, block_id: str | None, value: Any,
        transport: Transport, base_url: str,
    ) -> JSON:  # fmt: skip
        self._user(user)
        if isinstance(where, str):
            return await self._click_view(user, where, action_id, block_id, value, transport)
        message = self._visible_message(user, where)
        block, element = find_element(message.blocks, action_id, block_id)
        action = action_entry(self._ws, str(block["block_id"]), element, value)
        record = self._begin("block_actions", user, transport)
        hook = issue(self._ws, base_url, record["id"], "actions", message.channel, user, message.ref)
        trigger = self._ws.new_trigger(user)
        record |= {"trigger_id": trigger, "response_url": hook.url, "channel": message.channel}
        payload = message_click_payload(self._ws, user, message, action, hook.url, trigger)
        await self._send(record, "interactive", payload, transport)
        return record

    def _visible_message(self, user: str, ref: MessageRef) -> Message:
        message = self._ws.find(ref)
        what = "ephemeral message" if ref.ephemeral else f"message in {ref.channel}"
        if message is None or message.deleted:
            raise InteractionError(f"there is no {what} with ts {ref.ts}")
        if message.visible_to is not None and message.visible_to != user:
            raise InteractionError(f"the ephemeral message {ref.ts} is only visible to {message.visible_to}")
        channel = self._ws.channels[message.channel]
        if channel.is_private and user not in channel.members:
            raise InteractionError(f"{user} cannot see {message.channel}")
        return message

    def _open_view(self, user: str, view_id: str) -> View:
        view = self._ws.views.get(view_id)
        if view is None or view.status != "open":
            raise InteractionError(f"view {view_id!r} is not open")
        if view.user != user:
            raise InteractionError(f"view {view_id!r} is open for {view.user}, not {user}")
        top = views.stack(self._ws, view.root_view_id)[-1]
        if top.id != view.id:
            raise InteractionError(f"view {view_id!r} is covered by {top.id}; only the top view can be used")
        return view

    async def _click_view(
        self, user: str, view_id: str, action_id: str, block_id: str | None, value: Any, transport: Transport
    ) -> JSON:
        view = self._open_view(user, view_id)
        block, element = find_element(view.spec.get("blocks", []), action_id, block_id)
        action = action_entry(self._ws, str(block["block_id"]), element, value)
        record = self._begin("block_actions", user, transport)
        if element.get("type") != "button":
            # A changed input keeps its value in the view's state, as in Slack's client.
            state = {k: v for k, v in action.items() if k not in {"action_id", "block_id", "action_ts"}}
            view.values.setdefault(str(block["block_id"]), {})[str(element["action_id"])] = state
            if block.get("type") == "input" and not block.get("dispatch_action"):
                # Inputs only send block_actions with dispatch_action: Slack just remembers the value.
                record |= {"view_id": view.id, "delivered": False}
                self._ws.notify()
                return record
        trigger = self._ws.new_trigger(user, view.id)
        record |= {"trigger_id": trigger, "view_id": view.id}
        await self._send(record, "interactive", view_click_payload(self._ws, user, view, action, trigger), transport)
        return record

    async def submit(self, user: str, view_id: str, values: JSON, transport: Transport) -> JSON:
        self._user(user)
        view = self._open_view(user, view_id)
        view.values = submitted_values(self._ws, view, values)
        record = self._begin("view_submission", user, transport)
        trigger = self._ws.new_trigger(user, view.id)
        record |= {"trigger_id": trigger, "view_id": view.id}
        delivery = await self._send(record, "interactive", submission_payload(self._ws, user, view, trigger), transport)
        if delivery.error is None:
            record["effect"] = self._view_response(view, delivery.reply or {})
        return record

    def _view_response(self, view: View, reply: JSON) -> JSON:
        """What Slack does with a view_submission ack: close, clear, update, push, or show field errors."""
        ws, action = self._ws, reply.get("response_action")
        try:
            if action == "errors":
                errors = reply.get("errors")
                if not isinstance(errors, dict) or not errors:
                    raise SlackError("invalid_arguments", "[ERROR] response_action errors needs a non-empty object")
                view.errors = {str(k): str(v) for k, v in errors.items()}
                ws.notify()
                return {"view": "errors", "errors": view.errors}
            if action == "update":
                views.replace(ws, view, views.check_view(_view_of(reply)), "response_action")
                return {"view": "updated", "view_id": view.id}
            if action == "push":
                pushed = views.push(ws, view.user, view.id, views.check_view(_view_of(reply)))
                return {"view": "pushed", "view_id": pushed.id}
            views.close(ws, view, everything=action == "clear")
            return {"view": "cleared" if action == "clear" else "closed"}
        except SlackError as error:
            # Slack keeps the modal open and tells the user the app's answer was wrong.
            return {"view": "error", "error": error.error, "messages": error.messages}

    async def event(self, event: JSON, transport: Transport) -> JSON:
        ws = self._ws
        record = self._begin("event", str(event.get("user", "")), transport)
        payload = {
            "token": ws.config.verification_token,
            "team_id": ws.config.team_id,
            "api_app_id": ws.config.api_app_id,
            "event": event | {"event_ts": event.get("event_ts", ws.new_ts())},
            "type": "event_callback",
            "event_id": ws.new_id("Ev"),
            "event_time": int(float(ws.new_ts())),
            "authorizations": [{"team_id": ws.config.team_id, "user_id": ws.bot_user_id, "is_bot": True}],
        }
        await self._send(record, "event", payload, transport)
        return record


def _view_of(reply: JSON) -> JSON:
    view = reply.get("view")
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments", "[ERROR] response_action needs a view object")
    return view


INTERACTIONS = web.AppKey("interactions", Interactions)
