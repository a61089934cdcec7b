"""Modals: views.open / views.update / views.push, trigger_id rules (3 s, single use) and the modal stack."""

from __future__ import annotations

import json
import secrets
from typing import Any

from bot.sandbox.slack.blockkit import fill_ids, validate_blocks
from bot.sandbox.slack.elements import Checker
from bot.sandbox.slack.model import JSON, Trigger, View
from bot.sandbox.slack.state import Workspace
from bot.sandbox.slack.wire import Call, SlackError, object_arg, text_arg

TRIGGER_LIFETIME = 3.0
MAX_STACK = 3
MAX_VIEW_BYTES = 250_000


def check_view(view: JSON) -> JSON:
    """Slack answers an invalid view with ``invalid_arguments`` and one message per problem."""
    if len(json.dumps(view)) > MAX_VIEW_BYTES:
        raise SlackError("view_too_large")
    check = Checker()
    if view.get("type") != "modal":
        check.fail("/view/type", "must be modal")
    check.text(view, "title", "/view", 24, plain=True)
    check.text(view, "close", "/view", 24, plain=True, required=False)
    blocks = view.get("blocks")
    has_input = isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    check.text(view, "submit", "/view", 24, plain=True, required=has_input)
    check.string(view, "callback_id", "/view", 255)
    check.string(view, "private_metadata", "/view", 3000)
    check.string(view, "external_id", "/view", 255)
    problems = check.errors + validate_blocks(blocks if blocks is not None else [], "modal", "/view/blocks")
    if problems:
        raise SlackError("invalid_arguments", *problems)
    return view | {"blocks": fill_ids(view.get("blocks") or [], secrets.token_hex(4))}


def _view_arg(args: dict[str, Any]) -> JSON:
    view = object_arg(args, "view", "invalid_arguments")
    if view is None:
        raise SlackError("invalid_arguments", "[ERROR] missing required field: view")
    return check_view(view)


def take_trigger(ws: Workspace, args: dict[str, Any]) -> Trigger:
    trigger_id = text_arg(args, "trigger_id") or text_arg(args, "interactivity_pointer")
    if not trigger_id:
        raise SlackError("invalid_arguments", "[ERROR] missing required field: trigger_id")
    trigger = ws.triggers.get(trigger_id)
    if trigger is None:
        raise SlackError("invalid_trigger_id")
    if trigger.used:
        raise SlackError("exchanged_trigger_id")
    if ws.clock.now() - trigger.issued_at > TRIGGER_LIFETIME:
        raise SlackError("expired_trigger_id")
    return trigger


def _new_view(ws: Workspace, user: str, spec: JSON, root: str | None, previous: str | None) -> View:
    external_id = spec.get("external_id") or None
    if external_id is not None and any(v.external_id == external_id for v in ws.views.values()):
        raise SlackError("duplicate_external_id")
    view_id = ws.new_id("V")
    view = View(view_id, user, spec, secrets.token_hex(8), root or view_id, previous, external_id)
    ws.views[view_id] = view
    ws.notify()
    return view


def stack(ws: Workspace, root_view_id: str) -> list[View]:
    return [v for v in ws.views.values() if v.root_view_id == root_view_id and v.status == "open"]


def open_view(call: Call) -> JSON:
    ws = call.ws
    trigger = take_trigger(ws, call.args)
    spec = _view_arg(call.args)
    view = _new_view(ws, trigger.user, spec, None, None)
    trigger.used = True
    return {"view": _shown(ws, view)}


def push_view(call: Call) -> JSON:
    ws = call.ws
    trigger = take_trigger(ws, call.args)
    spec = _view_arg(call.args)
    view = push(ws, trigger.user, trigger.view_id, spec)
    trigger.used = True
    return {"view": _shown(ws, view)}


def push(ws: Workspace, user: str, from_view: str | None, spec: JSON) -> View:
    below = ws.views.get(from_view or "")
    if below is None or below.status != "open":
        # views.push only works from an interaction inside an open modal.
        raise SlackError("not_found")
    current = stack(ws, below.root_view_id)
    if len(current) >= MAX_STACK:
        raise SlackError("push_limit_reached")
    return _new_view(ws, user, spec, below.root_view_id, current[-1].id)


def update_view(call: Call) -> JSON:
    ws, args = call.ws, call.args
    view_id, external_id = text_arg(args, "view_id"), text_arg(args, "external_id")
    if view_id:
        view = ws.views.get(view_id)
    elif external_id:
        view = next((v for v in ws.views.values() if v.external_id == external_id), None)
    else:
        raise SlackError("invalid_arguments", "[ERROR] one of view_id or external_id is required")
    if view is None or view.status != "open":
        raise SlackError("not_found")
    expected = text_arg(args, "hash")
    if expected and expected != view.hash:
        raise SlackError("hash_conflict")
    replace(ws, view, _view_arg(args), "views.update")
    return {"view": _shown(ws, view)}


def replace(ws: Workspace, view: View, spec: JSON, source: str) -> None:
    """Swap a view's content; input values survive where block_id and action_id stay the same."""
    view.history.append({"spec": view.spec, "hash": view.hash, "replaced_by": source})
    kept: dict[str, dict[str, JSON]] = {}
    for block in spec.get("blocks", []):
        element = block.get("element") if isinstance(block, dict) else None
        block_values = view.values.get(str(block.get("block_id"))) if isinstance(element, dict) else None
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if block_values is not None and action_id in block_values:
            kept[str(block["block_id"])] = {str(action_id): block_values[str(action_id)]}
    view.spec, view.values, view.hash, view.errors = spec, kept, secrets.token_hex(8), {}
    if spec.get("external_id"):
        view.external_id = str(spec["external_id"])
    ws.notify()


def close(ws: Workspace, view: View, *, everything: bool) -> None:
    closing = stack(ws, view.root_view_id) if everything else [view]
    for each in closing:
        each.status = "closed"
    ws.notify()


def _shown(ws: Workspace, view: View) -> JSON:
    config = ws.config
    return view.to_slack(config.team_id, config.api_app_id, config.bot_id)
