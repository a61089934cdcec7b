"""Slack's payloads towards the app: slash-command form fields, block_actions and view_submission, built from
what the fake stores (a click can only hit a real element of a stored message or view).
"""

from __future__ import annotations

import time
from typing import Any

from bot.sandbox.slack.model import JSON, Message, View
from bot.sandbox.slack.state import Workspace


class InteractionError(Exception):
    """The user could not have done this in Slack's client; the control API answers 400 with the reason."""


def user_ref(ws: Workspace, user: str) -> JSON:
    name = ws.users[user].name
    return {"id": user, "username": name, "name": name, "team_id": ws.config.team_id}


def team_ref(ws: Workspace) -> JSON:
    return {"id": ws.config.team_id, "domain": ws.config.team_domain}


def command_payload(ws: Workspace, user: str, channel: str, command: str, text: str, hook: str, trigger: str) -> JSON:
    config = ws.config
    return {
        "token": config.verification_token,
        "team_id": config.team_id,
        "team_domain": config.team_domain,
        "channel_id": channel,
        "channel_name": ws.channels[channel].name,
        "user_id": user,
        "user_name": ws.users[user].name,
        "command": command,
        "text": text,
        "api_app_id": config.api_app_id,
        "is_enterprise_install": "false",
        "response_url": hook,
        "trigger_id": trigger,
    }


def _common(ws: Workspace, kind: str, user: str, trigger: str) -> JSON:
    return {
        "type": kind,
        "user": user_ref(ws, user),
        "api_app_id": ws.config.api_app_id,
        "token": ws.config.verification_token,
        "trigger_id": trigger,
        "team": team_ref(ws),
        "enterprise": None,
        "is_enterprise_install": False,
    }


def message_click_payload(ws: Workspace, user: str, message: Message, action: JSON, hook: str, trigger: str) -> JSON:
    container: JSON = {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": message.channel,
        "is_ephemeral": message.visible_to is not None,
    }
    if message.thread_ts is not None:
        container["thread_ts"] = message.thread_ts
    payload = _common(ws, "block_actions", user, trigger) | {
        "container": container,
        "channel": {"id": message.channel, "name": ws.channels[message.channel].name},
        "state": {"values": {}},
        "response_url": hook,
        "actions": [action],
    }
    if message.visible_to is None:
        # Slack leaves the message out for ephemeral messages: the app never stored them either.
        payload["message"] = message.to_slack(ws.config.team_id)
    return payload


def view_click_payload(ws: Workspace, user: str, view: View, action: JSON, trigger: str) -> JSON:
    config = ws.config
    return _common(ws, "block_actions", user, trigger) | {
        "container": {"type": "view", "view_id": view.id},
        "view": view.to_slack(config.team_id, config.api_app_id, config.bot_id),
        "actions": [action],
    }


def submission_payload(ws: Workspace, user: str, view: View, trigger: str) -> JSON:
    config = ws.config
    return _common(ws, "view_submission", user, trigger) | {
        "view": view.to_slack(config.team_id, config.api_app_id, config.bot_id),
        "response_urls": [],
    }


def find_element(blocks: list[JSON], action_id: str, block_id: str | None) -> tuple[JSON, JSON]:
    """The interactive element a user can click: in an actions block, a section accessory or an input."""
    for block in blocks:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        candidates: list[Any] = list(block.get("elements") or []) if block.get("type") == "actions" else []
        candidates += [block[key] for key in ("accessory", "element") if isinstance(block.get(key), dict)]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block, element
    where = f" in block {block_id!r}" if block_id is not None else ""
    raise InteractionError(f"there is no element with action_id {action_id!r}{where} to click")


def action_entry(ws: Workspace, block_id: str, element: JSON, value: Any) -> JSON:
    """One ``actions[]`` entry: what Slack reports for the element after the user used it."""
    kind = str(element.get("type"))
    entry: JSON = {
        "type": kind,
        "action_id": element["action_id"],
        "block_id": block_id,
        "action_ts": f"{time.time():.6f}",
    }
    if kind == "button":
        entry["text"] = element.get("text")
        for key in ("value", "style", "url"):
            if key in element:
                entry[key] = element[key]
        return entry
    if "placeholder" in element:
        entry["placeholder"] = element["placeholder"]
    return entry | selection(ws, element, value)


def selection(ws: Workspace, element: JSON, value: Any) -> JSON:
    """The ``selected_*`` fields of a select, overflow, picker or text input for the chosen ``value``."""
    kind = str(element.get("type"))
    if kind in {"static_select", "overflow", "radio_buttons"}:
        return {"selected_option": _option(element, value)}
    if kind in {"multi_static_select", "checkboxes"}:
        values = value if isinstance(value, list) else [value]
        return {"selected_options": [_option(element, v) for v in values]}
    if kind in {"users_select", "conversations_select", "channels_select"}:
        key = {"users_select": "selected_user", "conversations_select": "selected_conversation"}.get(kind)
        known = ws.users if kind == "users_select" else ws.channels
        if value not in known:
            raise InteractionError(f"{value!r} is not a {'user' if kind == 'users_select' else 'channel'} here")
        return {key or "selected_channel": value}
    if kind == "datepicker":
        return {"selected_date": value}
    if kind == "timepicker":
        return {"selected_time": value}
    if kind in {"plain_text_input", "number_input", "email_text_input", "url_text_input"}:
        return {"value": value}
    raise InteractionError(f"the sandbox cannot operate a {kind!r} element")


def _option(element: JSON, value: Any) -> JSON:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    for option in options:
        if option.get("value") == value:
            return dict(option)
    offered = ", ".join(repr(o.get("value")) for o in options)
    raise InteractionError(f"{value!r} is not an option of {element.get('action_id')!r} (options: {offered})")


def submitted_values(ws: Workspace, view: View, given: JSON) -> dict[str, dict[str, JSON]]:
    """``view.state.values`` for a submission: every input block, filled from ``given``; Slack's client refuses
    to submit while a required input is empty, and so does this.
    """
    values: dict[str, dict[str, JSON]] = {}
    known: set[str] = set()
    for block in view.spec.get("blocks", []):
        element = block.get("element")
        if block.get("type") != "input" or not isinstance(element, dict):
            continue
        block_id, action_id = str(block["block_id"]), str(element["action_id"])
        known.add(block_id)
        raw = (given.get(block_id) or {}).get(action_id)
        if isinstance(raw, dict) and "type" in raw:
            state = raw
        elif raw is None or raw == "" or raw == []:
            state = view.values.get(block_id, {}).get(action_id) or {"type": element["type"], "value": None}
        else:
            state = {"type": element["type"]} | selection(ws, element, raw)
        empty = all(v in (None, [], "") for k, v in state.items() if k != "type")
        if empty and not block.get("optional", False):
            raise InteractionError(f"input {block_id!r} is required: Slack would not let the user submit")
        values[block_id] = {action_id: state}
    unknown = set(given) - known
    if unknown:
        raise InteractionError(f"the view has no input block(s) {sorted(unknown)}")
    return values
