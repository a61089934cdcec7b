"""The audit trail as a Slack answer: one compact line per entry, newest first, with mentions and date tokens."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot.audit import Action, AuditEntry
from bot.render.message import Message, section, text_message
from bot.render.text import SECTION_TEXT, date_token, escape

_DONE: dict[Action, str] = {
    "requested": "📝 requested",
    "approved": "✅ approved",
    "denied": "✗ denied",
    "withdrawn": "↩ withdrew",
    "deployment_created": "🚀 started",
    "cancelled": "⏹ cancelled",
    "paused": "⏸ paused",
    "resumed": "▶ resumed",
    "settings_changed": "⚙ changed the settings of",
    "settings_cleared": "⚙ cleared the settings of",
    "subscribed": "🔔 subscribed to",
    "unsubscribed": "🔕 unsubscribed from",
}
_EXPIRED = "⌛ request expired:"  # nobody acted: the entry's user is the requester


def _line(entry: AuditEntry) -> str:
    what = f"`{entry.stack}`" if entry.stack else ""  # stack names are letters, digits, '-', '_', '.' and '/'
    if entry.version is not None:
        what += f" #{entry.version}"
    if entry.action == "expired":
        parts = [date_token(entry.at), _EXPIRED, what, f"(<@{entry.user}>)"]
    else:
        parts = [date_token(entry.at), f"<@{entry.user}>", _DONE[entry.action], what]
    line = " ".join(part for part in parts if part)
    if entry.detail:
        line += " — " + escape(entry.detail)
    return "• " + line


def audit_message(entries: Sequence[AuditEntry], stack: str | None = None) -> Message:
    """``entries`` as a list, newest first (whatever order they came in), under a heading naming ``stack``."""
    where = f" for `{escape(stack).replace('`', '')}`" if stack else ""
    if not entries:
        return text_message(f"No audit entries{where} yet.")
    newest_first = sorted(entries, key=lambda entry: entry.at, reverse=True)
    blocks: list[Block] = [section(f"*Audit trail{where}* — the latest {len(entries)}, newest first")]
    # Several sections when one would pass the section limit; a line (under 2,300 characters even with
    # every character of the detail escaped) is never split.
    chunk: list[str] = []
    for line in map(_line, newest_first):
        if chunk and sum(len(x) + 1 for x in chunk) + len(line) > SECTION_TEXT:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    blocks.append(section("\n".join(chunk)))
    plural = "entry" if len(entries) == 1 else "entries"
    return Message(text=f"Audit trail{where.replace('`', '')}: {len(entries)} {plural}", blocks=blocks)
