"""Approval requests in Slack: the request message (what, who asked, with which overrides, who may approve, until
when, how far along) with buttons by state, and the short notes sent to the requester."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, PlainTextObject

from bot import ids
from bot.approvals import ApprovalRequest
from bot.render.message import Message, context, section
from bot.render.query import hide_secrets
from bot.render.text import date_token, escape, truncate_escaped

_CLOSED = {
    "denied": "✗ Denied",
    "withdrawn": "↩ Withdrawn",
    "expired": "⌛ Expired",
    "failed": "✗ Could not start",
}


def overrides(request: dict[str, Any]) -> list[str]:
    """What the request changes compared to the stack's settings, secrets hidden (they are ciphertext anyway)."""
    lines = []
    git = ((request.get("sourceContext") or {}).get("git")) or {}
    if git.get("commit"):
        lines.append(f"commit `{escape(str(git['commit'])[:12])}`")
    elif git.get("branch"):
        lines.append(f"branch `{escape(str(git['branch']))}`")
    env = ((request.get("operationContext") or {}).get("environmentVariables")) or {}
    shown = hide_secrets(env)
    visible = [
        f"`{escape(k)}`={'🔒 hidden' if v == '🔒 hidden' else '`' + truncate_escaped(str(v), 60) + '`'}"
        for k, v in shown.items()
        if k != "DEPLOYBOT_REQUEST_ID"
    ]
    if visible:
        lines.append("env " + ", ".join(visible[:20]))
    options = ((request.get("operationContext") or {}).get("options")) or {}
    flags = [escape(name) for name, on in options.items() if on]
    if flags:
        lines.append("options " + ", ".join(flags))
    if request.get("inheritSettings") is False:
        lines.append("without the stack's settings")
    return lines


def approval_message(request: ApprovalRequest, approvers: str) -> Message:
    """``approvers`` is mrkdwn naming who may approve (user and group mentions)."""
    what = f"*{escape(request.operation)}* `{escape(request.stack)}`"
    lines = [f"🔐 <@{request.requested_by}> asks to run {what}"]
    if request.message:
        lines.append(f"> {truncate_escaped(request.message, 500)}")
    changes = overrides(request.request)
    if changes:
        lines.append("With " + "; ".join(changes))
    blocks: list[Block] = [section("\n".join(lines))]
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
