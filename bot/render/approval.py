"""Approval requests in Slack: the request message (what, who asked, with which overrides, who may approve, until
when, how far along) with buttons by state, and the short notes sent to the requester."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, PlainTextObject

from bot import ids
from bot.approvals import REQUEST_ID_ENV, ApprovalRequest
from bot.render.message import Message, context, section
from bot.render.query import SECRET_SHOWN, hide_secrets
from bot.render.text import SECTION_TEXT, code_block, date_token, escape, truncate, truncate_escaped

_CLOSED = {
    "denied": "✗ Denied",
    "withdrawn": "↩ Withdrawn",
    "expired": "⌛ Expired",
    "failed": "✗ Could not start",
}


_SECRET = object()  # where a secret value sits in a flattened request: shown as hidden, never as its ciphertext
_WORDS_BUDGET = 1500  # characters of the "With …" line; variables beyond it go to the list below
_FIELD_LINE = 240  # characters of one "path = value" line in that list
_FIELDS_BUDGET = SECTION_TEXT - 200  # characters of the list, escaped; more fields are counted, not shown


def _flatten(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every leaf of a request with its path; a secret object (``{"ciphertext": …}``) is one leaf, ``_SECRET``."""
    if isinstance(value, dict):
        if isinstance(hide_secrets(value), str):
            yield path, _SECRET
        elif not value:
            yield path, value
        else:
            for key, item in value.items():
                yield from _flatten(item, (*path, str(key)))
    else:
        yield path, value


def _plain(*texts: Any) -> bool:
    """Whether each can be shown as inline code exactly: a non-empty one-line string without a backtick (which
    would close the code early). Anything else is listed as JSON in the code block, where it shows as it is."""
    return all(isinstance(t, str) and t and t.isprintable() and "`" not in t for t in texts)


def _code(text: str, limit: int) -> str:
    """Inline code for a ``_plain`` text: escaped, cut with a visible "…"."""
    return "`" + truncate_escaped(text, limit) + "`"


def _field_line(path: tuple[str, ...], value: Any) -> str:
    """``path = value`` as plain text (a code block escapes it): keys that are not plain words quoted, the value as
    JSON, a secret hidden."""
    name = ".".join(key if key.isprintable() and key.strip() == key and key else json.dumps(key) for key in path)
    shown = SECRET_SHOWN if value is _SECRET else json.dumps(value, ensure_ascii=False, default=str)
    return truncate(f"{name} = {shown}", _FIELD_LINE)


def _in_words(path: tuple[str, ...], value: Any) -> tuple[str, str] | None:
    """How an override reads in words, as (group, text): "own" phrases stand alone, "env" and "options" items are
    joined into one phrase each; ("", "") leaves it out (the default, or the bot's own request id); None lists it."""
    match path:
        case ("inheritSettings",) if value is True or value is None:
            return "", ""  # the default: the stack's settings apply
        case ("inheritSettings",) if value is False:
            return "own", "without the stack's settings"
        case ("sourceContext", "git", "commit") if _plain(value):
            return "own", f"commit {_code(value[:12], 12)}"
        case ("sourceContext", "git", "branch") if _plain(value):
            return "own", f"branch {_code(value, 120)}"
        case ("operationContext", "environmentVariables", name) if name == REQUEST_ID_ENV:
            return "", ""
        case ("operationContext", "environmentVariables", name) if value is _SECRET and _plain(name):
            return "env", f"{_code(name, 60)}={SECRET_SHOWN}"
        case ("operationContext", "environmentVariables", name) if _plain(name, value):
            return "env", f"{_code(name, 60)}={_code(value, 60)}"
        case ("operationContext", "options", name) if value is True and _plain(name):
            return "options", _code(name, 60)
    return None


def _listed(leaves: list[tuple[tuple[str, ...], Any]]) -> list[str]:
    """``path = value`` lines within the list's budget; the ones that do not fit are counted in a last line."""
    lines: list[str] = []
    used = 0
    for count, (path, value) in enumerate(leaves):
        line = _field_line(path, value)
        if used + len(escape(line)) + 1 > _FIELDS_BUDGET:
            lines.append(f"… and {len(leaves) - count} more fields not shown here")
            break
        lines.append(line)
        used += len(escape(line)) + 1
    return lines


def overrides(request: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Everything the request sets, so approvers see all of what they approve: the usual overrides in words (mrkdwn:
    commit, branch, environment variables, option flags, not inheriting the stack's settings), and every other field
    as a ``path = value`` line (plain text, for a code block) — ``--set``/``--json`` fields such as
    ``sourceContext.git.repoUrl`` or ``operationContext.preRunCommands``. Secret values are hidden (they are
    ciphertext anyway); the operation and the bot's own request id are left out. Words beyond their budget are
    listed instead, and lines that do not fit Slack's limits are counted in a last line, never dropped silently."""
    groups: dict[str, list[str]] = {"own": [], "env": [], "options": []}
    listed: list[tuple[tuple[str, ...], Any]] = []
    room = _WORDS_BUDGET
    leaves = (leaf for key, item in request.items() if key != "operation" for leaf in _flatten(item, (str(key),)))
    for path, value in leaves:
        said = _in_words(path, value)
        if said is not None and not said[0]:
            continue
        if said is None or len(said[1]) + 2 > room:
            listed.append((path, value))
        else:
            groups[said[0]].append(said[1])
            room -= len(said[1]) + 2
    words = groups["own"]
    if groups["env"]:
        words.append("env " + ", ".join(groups["env"]))
    if groups["options"]:
        words.append("options " + ", ".join(groups["options"]))
    return words, _listed(listed)


def approval_message(request: ApprovalRequest, approvers: str) -> Message:
    """``approvers`` is mrkdwn naming who may approve (user and group mentions)."""
    what = f"*{escape(request.operation)}* `{escape(request.stack)}`"
    lines = [f"🔐 <@{request.requested_by}> asks to run {what}"]
    if request.message:
        lines.append(f"> {truncate_escaped(request.message, 500)}")
    words, fields = overrides(request.request)
    if words:
        lines.append("With " + "; ".join(words))
    blocks: list[Block] = [section("\n".join(lines))]
    if fields:
        blocks.append(section("It also sets:\n" + code_block(fields, SECTION_TEXT - 100)))
    if request.preview is not None:
        blocks.append(section(preview_text(request)))
    elif request.state == "previewing":
        blocks.append(section("⟳ Running a preview first; approval opens when it has succeeded."))
    blocks.append(context(status_text(request, approvers)))
    buttons = _buttons(request)
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return Message(text=f"{request.operation} {request.stack}: approval {request.state}", blocks=blocks)


def preview_text(request: ApprovalRequest) -> str:
    preview = request.preview
    assert preview is not None  # only called with a preview
    if request.state == "previewing":
        return f"⟳ Preview #{preview.version} is running (steps in the thread); approval opens when it succeeds."
    commit = f" at commit `{escape(preview.commit[:12])}`" if preview.commit else ""
    if preview.status != "succeeded":
        return f"✗ The preview (#{preview.version}) {escape(preview.status)}{commit}: see the thread."
    counts = ", ".join(f"{n} to {escape(kind)}" for kind, n in preview.changes.items() if n and kind != "same")
    found = counts or "no changes"
    pinned = " The update will run exactly that commit." if preview.commit else ""
    return f"✓ Preview #{preview.version}{commit}: {found}.{pinned}"


def status_text(request: ApprovalRequest, approvers: str) -> str:
    done = ", ".join(f"<@{user}>" for user in request.approvers)
    if request.state in _CLOSED:
        by = f" by <@{request.closed_by}>" if request.closed_by else ""
        why = f": {truncate_escaped(request.reason, 300)}" if request.reason else ""
        return f"{_CLOSED[request.state]}{by}{why}"
    if request.state in ("creating", "running"):
        return f"✓ Approved by {done}" if done else "✓ Approved"
    progress = f"{len(request.approvals)} of {request.needed}" + (f": approved by {done}" if done else "")
    return f"{progress} · approvers: {approvers} · open until {date_token(request.expires_at)}"


def _buttons(request: ApprovalRequest) -> list[ButtonElement]:
    def button(text: str, action: str, style: str | None = None) -> ButtonElement:
        return ButtonElement(text=PlainTextObject(text=text), action_id=action, value=request.id, style=style)

    if request.state == "pending":
        return [
            button("Approve", ids.APPROVAL_APPROVE, "primary"),
            button("Deny", ids.APPROVAL_DENY, "danger"),
            button("Withdraw", ids.APPROVAL_WITHDRAW),
        ]
    if request.state == "previewing":
        return [button("Deny", ids.APPROVAL_DENY, "danger"), button("Withdraw", ids.APPROVAL_WITHDRAW)]
    if request.state == "failed" and len(request.approvals) >= request.needed:
        return [button("Retry", ids.APPROVAL_RETRY)]
    return []


def requester_note(request: ApprovalRequest, approvers: str) -> Message:
    """Told to the requester alone, before anything runs."""
    needed = "one approval" if request.needed == 1 else f"{request.needed} approvals"
    return Message(
        text="Approval needed",
        blocks=[
            section(
                f"*{escape(request.operation)}* `{escape(request.stack)}` needs {needed} before it runs, from "
                f"{approvers}. It is open until {date_token(request.expires_at)}; withdraw it from the message."
            )
        ],
    )


def closed_note(request: ApprovalRequest) -> Message:
    """Told to the requester when the request ends without running."""
    what = f"Your request to run *{escape(request.operation)}* `{escape(request.stack)}`"
    return Message(text="Request closed", blocks=[section(f"{what}: {status_text(request, '')}")])


def approvals_message(requests: list[ApprovalRequest], links: dict[str, str]) -> Message:
    """The channel's open requests, oldest first, each linking to its message."""
    if not requests:
        return Message(text="No open requests", blocks=[section("No requests are waiting for approval here.")])
    lines = []
    for request in requests[:40]:
        what = f"*{escape(request.operation)}* `{escape(request.stack)}` by <@{request.requested_by}>"
        state = "previewing" if request.state == "previewing" else f"{len(request.approvals)} of {request.needed}"
        link = links.get(request.id)
        goto = f" · <{link}|open the request>" if link else ""  # a mention inside a link's label would not render
        lines.append(f"• {what} — {state}, open until {date_token(request.expires_at)}{goto}")
    return Message(text="Open requests", blocks=[section("*Waiting for approval:*\n" + "\n".join(lines))])
