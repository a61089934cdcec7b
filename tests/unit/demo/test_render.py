"""Block Kit as terminal text: the bot's own messages read as a person would read them, buttons keep their numbers
when a message is reprinted, and no block the console cannot draw stops it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.approvals import ApprovalRequest
from bot.demo.buttons import ButtonBoard, Where
from bot.demo.mrkdwn import Names
from bot.demo.render import Renderer, find_button, inputs
from bot.render.approval import approval_message

NOW = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
RENDERER = Renderer(Names(users={"U_CARA": "cara", "U_BEN": "ben"}, tz=UTC), now=NOW)
HERE = Where("message", "1700000000.000100", "C_DEPLOYS")


def request(**changes: Any) -> ApprovalRequest:
    return ApprovalRequest(
        id="r-0123456789abcdef", stack="acme/web/dev", operation="update", requested_by="U_CARA", channel="C_DEPLOYS",
        request={"operation": "update"}, needed=1, expires_at=NOW + timedelta(hours=4),
    ).model_copy(update=changes)  # fmt: skip


def test_the_bots_approval_request_reads_plainly_with_numbered_buttons() -> None:
    record = approval_message(request(), "anyone but <@U_CARA>").payload()
    board = ButtonBoard()
    assert RENDERER.message(record, board.numberer(HERE)) == [
        "🔐 @cara asks to run update `acme/web/dev`",
        "0 of 1 · approvers: anyone but @cara · open until tomorrow 02:00",
        "[1 Approve] [2 Deny] [3 Withdraw]",
    ]
    shown = board.get(1)
    assert shown is not None
    assert (shown.button.action_id, shown.button.value, shown.where) == ("approval.approve", "r-0123456789abcdef", HERE)


def test_a_reprinted_message_keeps_its_button_numbers_and_new_buttons_get_new_ones() -> None:
    board = ButtonBoard()
    first = approval_message(request(), "anyone").payload()
    RENDERER.message(first, board.numberer(HERE))
    other = Where("message", "1700000000.000200", "C_DEPLOYS")
    RENDERER.message(approval_message(request(id="r-fedcba9876543210"), "anyone").payload(), board.numberer(other))
    again = RENDERER.message(first, board.numberer(HERE))  # e.g. the message was edited: same buttons
    assert again[-1] == "[1 Approve] [2 Deny] [3 Withdraw]"
    assert [s.number for s in board.labelled("approve")] == [4, 1]  # newest first


def text(kind: str, words: str) -> dict[str, str]:
    return {"type": kind, "text": words}


def test_sections_fields_headers_dividers_context_inputs_and_dialogs() -> None:
    dialog = {
        "title": text("plain_text", "Sure?"),
        "text": text("mrkdwn", "*Really*"),
        "confirm": text("plain_text", "Yes"),
        "deny": text("plain_text", "No"),
    }
    more = {
        "type": "button",
        "action_id": "a.more",
        "value": "7",
        "text": text("plain_text", "More"),
        "confirm": dialog,
    }
    reason = {"type": "plain_text_input", "action_id": "approval.reason", "placeholder": text("plain_text", "why not")}
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": text("plain_text", "Deny request")},
        {
            "type": "section",
            "text": text("mrkdwn", "Log:\n```\nline &lt;1&gt;\nline 2\n```\ndone"),
            "fields": [text("mrkdwn", "*Stack*\n`web/dev`")],
            "accessory": more,
        },
        {"type": "divider"},
        {"type": "context", "elements": [text("plain_text", "a <b> & c"), {"type": "image", "alt_text": "logo"}]},
        {
            "type": "input",
            "block_id": "b.reason",
            "label": text("plain_text", "Reason"),
            "optional": True,
            "element": reason,
        },
        {"type": "actions", "elements": [{"type": "static_select", "placeholder": text("plain_text", "Pick one")}]},
        {"type": "video"},
    ]
    board = ButtonBoard()
    lines = RENDERER.blocks(blocks, board.numberer(HERE))
    assert lines == [
        "DENY REQUEST",
        "Log:",
        "│ line <1>",
        "│ line 2",
        "done",
        "• Stack",
        "• `web/dev`",
        "[1 More]",
        "─" * 40,
        "a <b> & c · [logo]",
        "✎ Reason (optional) — why not",
        "[Pick one — not usable from the console]",
        "(video block)",
    ]
    shown = board.get(1)
    assert shown is not None
    assert shown.button.confirm is not None
    assert (shown.button.confirm.title, shown.button.confirm.text, shown.button.confirm.ok) == (
        "Sure?",
        "Really",
        "Yes",
    )
    assert inputs({"blocks": blocks}) == [("b.reason", "approval.reason", "Reason")]


def test_find_button_names_the_block_a_click_must_carry() -> None:
    # As the fake Slack stores it: every block has an id.
    blocks = [
        b | {"block_id": f"b{n}"} for n, b in enumerate(approval_message(request(), "anyone").payload()["blocks"])
    ]
    assert find_button(blocks, "approval.deny", "r-0123456789abcdef") == f"b{len(blocks) - 1}"
    assert find_button(blocks, "approval.deny", "r-another") is None
    assert find_button(blocks, "deployment.cancel", "r-0123456789abcdef") is None


TEXT = st.fixed_dictionaries({"type": st.sampled_from(["mrkdwn", "plain_text"]), "text": st.text(max_size=50)})
BUTTON = st.fixed_dictionaries(
    {"type": st.just("button"), "action_id": st.text(min_size=1, max_size=10), "text": TEXT},
    optional={"value": st.text(max_size=10), "url": st.just("https://example.com")},
)
BLOCK = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("section"), "text": TEXT}, optional={"accessory": BUTTON, "fields": st.lists(TEXT)}
    ),
    st.fixed_dictionaries({"type": st.just("actions"), "elements": st.lists(BUTTON, max_size=5)}),
    st.fixed_dictionaries({"type": st.just("context"), "elements": st.lists(TEXT, max_size=5)}),
    st.fixed_dictionaries({"type": st.sampled_from(["divider", "header", "image", "rich_text", "anything"])}),
)


@given(st.lists(BLOCK, max_size=12))
def test_any_blocks_render_and_every_button_is_numbered_once(blocks: list[dict[str, Any]]) -> None:
    board = ButtonBoard()
    text = "\n".join(RENDERER.blocks(blocks, board.numberer(HERE)))
    keys = {(e["action_id"], e.get("value")) for b in blocks for e in [*b.get("elements", []), b.get("accessory") or {}]
            if e.get("type") == "button"}  # fmt: skip
    numbers = range(1, len(keys) + 1)
    assert board.get(len(keys) + 1) is None
    for number in numbers:
        shown = board.get(number)
        assert shown is not None
        assert f"[{number} " in text
