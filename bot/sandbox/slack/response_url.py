"""response_url: issuing them, serving them (5 uses within 30 minutes) and what a post does — a new ephemeral or
in-channel message, or ``replace_original`` / ``delete_original`` on the message the interaction came from.
"""

from __future__ import annotations

import json
import secrets
from typing import Any, Literal

from aiohttp import web

from bot.sandbox.slack.chat import bot_message, new_content
from bot.sandbox.slack.model import JSON, Hook, Message, MessageRef
from bot.sandbox.slack.state import WORKSPACE, Workspace
from bot.sandbox.slack.wire import SlackError, bool_arg, text_arg

MAX_USES = 5
LIFETIME = 30 * 60.0


def issue(
    ws: Workspace, base_url: str, interaction: str, kind: Literal["commands", "actions"], channel: str, user: str,
    source: MessageRef | None = None,
) -> Hook:  # fmt: skip
    token = secrets.token_urlsafe(18)
    url = f"{base_url}/hooks/{kind}/{ws.config.team_id}/{token}"
    hook = Hook(token, url, interaction, kind, channel, user, ws.clock.now(), source)
    ws.hooks[token] = hook
    return hook


def respond(ws: Workspace, hook: Hook, body: JSON, source: str) -> JSON:
    """Apply one message payload sent for ``hook`` (a response_url post or a slash command's sync reply)."""
    target = hook.source if hook.kind == "actions" else hook.last_posted
    original = ws.find(target) if target is not None else None
    if original is not None and original.deleted:
        original = None
    effect: JSON = {}
    if bool_arg(body, "delete_original"):
        if original is not None:
            ws.delete(original)
            effect["deleted"] = original.ts
        if not any(key in body for key in ("text", "blocks", "attachments")):
            return effect
    text, blocks, attachments = new_content(body)
    if bool_arg(body, "replace_original") and original is not None and "deleted" not in effect:
        # Visibility never changes: a replaced ephemeral stays ephemeral, a channel message stays public.
        ws.edit(original, text, blocks, attachments, source)
        return effect | {"replaced": original.ts}
    message = bot_message(ws, hook.channel, text, blocks, attachments)
    message.source, message.interaction = source, hook.interaction
    message.thread_ts = text_arg(body, "thread_ts")
    if body.get("response_type") == "in_channel":
        if hook.kind == "commands":
            _echo_command(ws, hook)
    else:
        message.visible_to = hook.user
    ws.store(message)
    hook.last_posted = message.ref
    return effect | {"posted": message.ts, "ephemeral": message.visible_to is not None}


def _echo_command(ws: Workspace, hook: Hook) -> None:
    """An in_channel answer also shows the user's command in the channel (once per invocation)."""
    record = ws.interactions.get(hook.interaction, {})
    if record.get("echoed"):
        return
    record["echoed"] = True
    payload = record.get("payload", {})
    text = f"{payload.get('command', '')} {payload.get('text', '')}".strip()
    ws.store(Message(hook.channel, ws.new_ts(), hook.user, text, source="command", interaction=hook.interaction))


async def receive(request: web.Request) -> web.Response:
    ws = request.app[WORKSPACE]
    hook = ws.hooks.get(request.match_info["token"])
    if hook is None:
        return _answer(ws, None, 404, "invalid_url", None)
    body = await _body(request)
    if body is None:
        return _answer(ws, hook, 400, "invalid_payload", None)
    if ws.clock.now() - hook.created_at > LIFETIME:
        return _answer(ws, hook, 404, "expired_url", body)
    if hook.uses >= MAX_USES:
        return _answer(ws, hook, 404, "used_url", body)
    try:
        effect = respond(ws, hook, body, "response_url")
    except SlackError as error:
        return _answer(ws, hook, 400, error.error, body, error.messages)
    hook.uses += 1
    ws.responses.append(_entry(hook, 200, None, body) | {"effect": effect, "use": hook.uses})
    ws.notify()
    return web.json_response({"ok": True})


async def _body(request: web.Request) -> JSON | None:
    raw = await request.text()
    try:
        parsed: Any = json.loads(raw)
    except json.JSONDecodeError:
        form = await request.post() if request.content_type == "application/x-www-form-urlencoded" else {}
        payload = form.get("payload")
        if not isinstance(payload, str):
            return None
        try:
            parsed = json.loads(payload)
        except json.JSONDecodeError:
            return None
    return parsed if isinstance(parsed, dict) else None


def _entry(hook: Hook | None, status: int, error: str | None, body: JSON | None) -> JSON:
    return {
        "interaction": hook.interaction if hook else None,
        "url": hook.url if hook else None,
        "status": status,
        "error": error,
        "payload": body,
    }


def _answer(
    ws: Workspace, hook: Hook | None, status: int, error: str, body: JSON | None, messages: list[str] | None = None
) -> web.Response:
    ws.responses.append(_entry(hook, status, error, body) | {"messages": messages or []})
    ws.notify()
    answer: JSON = {"ok": False, "error": error}
    if messages:
        answer["response_metadata"] = {"messages": messages}
    return web.json_response(answer, status=status)
