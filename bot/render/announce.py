"""What the channel is told when someone changes something: a deployment asked for, a cancel, a pause, settings."""

from __future__ import annotations

import json
from typing import Any

from bot.command import OrgTarget, Target
from bot.pulumi.stack import StackRef
from bot.render.message import Message, text_message
from bot.render.query import hide_secrets
from bot.render.text import escape, truncate

_MAX_CHANGES = 20


def _target(target: Target) -> str:
    return f"organization `{escape(target.org)}`" if isinstance(target, OrgTarget) else f"`{escape(str(target))}`"


def cancelled(user: str, operation: str, stack: StackRef, version: int) -> Message:
    return text_message(f"🛑 <@{user}> cancelled *{escape(operation)}* `{escape(str(stack))}` #{version}.")


def paused(user: str, target: Target, *, resume: bool) -> Message:
    if resume:
        return text_message(f"▶ <@{user}> resumed deployments for {_target(target)}; queued deployments will run.")
    return text_message(
        f"⏸ <@{user}> paused deployments for {_target(target)}: new ones wait in the queue until resumed; "
        "running ones finish."
    )


def flatten(patch: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``{"a": {"b": 1}}`` → ``[("a.b", 1)]``; secrets were replaced before, so values are safe to show."""
    pairs: list[tuple[str, Any]] = []
    for key, value in patch.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            pairs.extend(flatten(value, path))
        else:
            pairs.append((path, value))
    return pairs


def settings_changed(user: str, stack: StackRef, patch: dict[str, Any]) -> Message:
    changes = flatten(hide_secrets(patch))
    lines = []
    for path, value in changes[:_MAX_CHANGES]:
        shown = "removed" if value is None else f"→ `{escape(truncate(json.dumps(value, ensure_ascii=False), 200))}`"
        lines.append(f"• `{escape(path)}` {shown}")
    if len(changes) > _MAX_CHANGES:
        lines.append(f"…and {len(changes) - _MAX_CHANGES} more")
    header = f"⚙ <@{user}> changed the deployment settings of `{escape(str(stack))}`:"
    return text_message("\n".join([header, *lines]))


def settings_cleared(user: str, stack: StackRef) -> Message:
    return text_message(f"⚙ <@{user}> cleared the deployment settings of `{escape(str(stack))}`.")


def subscribed(user: str, pattern: str, events: str) -> Message:
    return text_message(
        f"🔔 <@{user}> subscribed this channel to `{escape(pattern)}`: it will hear about {escape(events)} "
        "deployments of matching stacks, whoever starts them."
    )


def unsubscribed(user: str, pattern: str) -> Message:
    return text_message(f"🔕 <@{user}> unsubscribed this channel from `{escape(pattern)}`.")
