"""Answers to queries: deployment lists with paging, pause metadata, settings with secrets hidden, log excerpts."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, PlainTextObject

from bot import ids
from bot.pulumi.models import (
    Deployment,
    DeploymentPage,
    DeploymentSettings,
    OrgDeploymentsMetadata,
    StackDeploymentsMetadata,
)
from bot.pulumi.stack import StackRef
from bot.render.deployment import duration, status_text
from bot.render.message import Message, context, section, text_message
from bot.render.text import SECTION_TEXT, code_block, escape, truncate
from bot.store.subscriptions import Subscription

SECRET_SHOWN = "🔒 hidden"
_SECRET_KEYS = {"secret", "ciphertext", "plaintext", "isSecret", "value"}


def _button(text: str, action_id: str, value: str) -> ButtonElement:
    return ButtonElement(text=PlainTextObject(text=text), action_id=action_id, value=value)


def _age(deployment: Deployment, now: datetime) -> str:
    return duration((now - deployment.created).total_seconds()) + " ago"


def _row(deployment: Deployment, now: datetime, *, with_stack: bool) -> str:
    operation = str(deployment.pulumi_operation or "?")
    who = deployment.requested_by.name if deployment.requested_by else ""
    where = f"{deployment.project_name}/{deployment.stack_name}  " if with_stack else ""
    status = status_text(deployment.status)
    return f"#{deployment.version:<5} {where}{operation:<8} {status:<13} {_age(deployment, now):<12} {who}"


def list_message(
    page: DeploymentPage,
    title: str,
    page_number: int,
    now: datetime,
    *,
    with_stack: bool,
    view_id: str | None = None,
    shown: list[Deployment] | None = None,
) -> Message:
    """A page of deployments as a compact table, with Previous/Next buttons that page in place.

    ``shown`` is what remains after filtering on our side (the service may ignore a status filter).
    """
    rows = shown if shown is not None else page.deployments
    size = max(page.items_per_page, 1)
    pages = max((page.total + size - 1) // size, 1)
    blocks: list[Block] = [section(f"*{escape(title)}* — page {page_number} of {pages} ({page.total} in all)")]
    if rows:
        lines = [_row(d, now, with_stack=with_stack) for d in rows]
        # Several code blocks when one would pass the section limit; newest first as the service sent them.
        chunk: list[str] = []
        for line in lines:
            if sum(len(x) + 1 for x in chunk) + len(line) > SECTION_TEXT - 200:
                blocks.append(section(code_block(chunk)))
                chunk = []
            chunk.append(line)
        blocks.append(section(code_block(chunk)))
    else:
        blocks.append(section("_No deployments on this page._"))
    buttons = []
    if view_id and page_number > 1:
        buttons.append(_button("◀ Previous", ids.LIST_PREVIOUS, f"{view_id}:{page_number - 1}"))
    if view_id and page_number < pages:
        buttons.append(_button("Next ▶", ids.LIST_NEXT, f"{view_id}:{page_number + 1}"))
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return Message(text=f"{title}: page {page_number} of {pages}", blocks=blocks)


def stack_metadata_message(stack: StackRef, meta: StackDeploymentsMetadata) -> Message:
    if meta.stack_paused and meta.organization_paused:
        state = "⏸ paused (the stack and its organization)"
    elif meta.stack_paused:
        state = "⏸ paused"
    elif meta.organization_paused:
        state = "⏸ paused (its organization is paused)"
    else:
        state = "▶ running deployments"
    lines = [f"*Deployments for* `{escape(str(stack))}`: {state}"]
    lines.append("Schedules: " + ("yes" if meta.has_schedules else "none"))
    if meta.drift is not None:
        lines.append("Drift: " + ("detected" if meta.drift.drift_detected else "none detected"))
    return Message(text=f"{stack}: {state}", blocks=[section("\n".join(lines))])


def org_metadata_message(org: str, meta: OrgDeploymentsMetadata) -> Message:
    counts = meta.deployment_counts
    state = "⏸ paused" if meta.paused else "▶ running deployments"
    lines = [
        f"*Deployments in* `{escape(org)}`: {state}",
        f"Concurrency: {meta.concurrency if meta.concurrency is not None else 'unknown'}",
        f"Queued {counts.not_started} · starting {counts.accepted} · running {counts.running} · "
        f"succeeded {counts.succeeded} · failed {counts.failed} · skipped {counts.skipped} · total {counts.total}",
    ]
    if meta.paused_stacks:
        lines.append("Paused stacks: " + ", ".join(f"`{escape(s)}`" for s in meta.paused_stacks[:50]))
    return Message(text=f"{org}: {state}", blocks=[section("\n".join(lines))])


def hide_secrets(value: Any) -> Any:
    """Settings as JSON with every secret value replaced by a marker; ciphertext is never shown either."""
    if isinstance(value, dict):
        is_secret = "secret" in value or "ciphertext" in value or value.get("isSecret") is True
        if value and set(value) <= _SECRET_KEYS and is_secret:
            return SECRET_SHOWN
        return {key: hide_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [hide_secrets(item) for item in value]
    return value


def settings_message(stack: StackRef, settings: DeploymentSettings, *, title: str = "Deployment settings") -> Message:
    document = hide_secrets(settings.to_wire())
    text = json.dumps(document, indent=2, ensure_ascii=False) if document else "{}"
    return Message(
        text=f"{title} for {stack}",
        blocks=[section(f"*{escape(title)} for* `{escape(str(stack))}`"), section(code_block(text.splitlines()))],
    )


def logs_message(
    heading: str,
    lines: list[str],
    *,
    note: str | None = None,
    more: tuple[str, str] | None = None,
) -> Message:
    """Log lines in a code block (the newest kept when they do not fit), with an optional "More" button."""
    blocks: list[Block] = [section(heading), section(code_block(lines))]
    if note:
        blocks.append(context(note))
    if more is not None:
        view_id, offset = more
        blocks.append(ActionsBlock(elements=[_button("More", ids.LOGS_MORE, f"{view_id}:{offset}")]))
    return Message(text=truncate(heading, 200), blocks=blocks)


def subscriptions_message(subscriptions: list[Subscription]) -> Message:
    if not subscriptions:
        return text_message("This channel has no subscriptions. `/deploy subscribe acme/*/prod` adds one.")
    lines = [f"• `{escape(s.pattern)}` — {escape(', '.join(s.events))}" for s in subscriptions[:100]]
    return Message(text="Subscriptions", blocks=[section("*This channel hears about:*\n" + "\n".join(lines))])
