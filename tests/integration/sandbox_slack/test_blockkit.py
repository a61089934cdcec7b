"""Block Kit limits as chat.postMessage enforces them: random valid blocks pass, one oversized field fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sandbox.slack.blockkit import fill_ids
from tests.integration.sandbox_slack.threaded import ThreadedSlack

Block = dict[str, Any]


def _text(max_size: int, kind: str = "mrkdwn") -> st.SearchStrategy[Block]:
    return st.builds(lambda t: {"type": kind, "text": t}, st.text("abc *_~", min_size=1, max_size=max_size))


def _button(action_id: str) -> st.SearchStrategy[Block]:
    return st.builds(
        lambda text, value: {"type": "button", "action_id": action_id, "text": text, "value": value},
        _text(75, "plain_text"),
        st.text("v", max_size=2000),
    )


_blocks: st.SearchStrategy[Block] = st.one_of(
    st.builds(lambda t: {"type": "section", "text": t}, _text(3000)),
    st.builds(lambda f: {"type": "section", "fields": f}, st.lists(_text(2000), min_size=1, max_size=10)),
    st.builds(lambda t: {"type": "header", "text": t}, _text(150, "plain_text")),
    st.builds(lambda e: {"type": "context", "elements": e}, st.lists(_text(300), min_size=1, max_size=10)),
    st.integers(1, 25).flatmap(
        lambda n: st.tuples(*[_button(f"a{i}") for i in range(n)]).map(
            lambda buttons: {"type": "actions", "elements": list(buttons)}
        )
    ),
    st.just({"type": "divider"}),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(blocks=st.lists(_blocks, min_size=1, max_size=50))
def test_blocks_within_the_limits_are_accepted(threaded_slack: ThreadedSlack, blocks: list[Block]) -> None:
    answer = threaded_slack.post(blocks)

    assert answer["ok"], answer
    assert [b["type"] for b in answer["message"]["blocks"]] == [b["type"] for b in blocks]
    assert len({b["block_id"] for b in answer["message"]["blocks"]}) == len(blocks)  # Slack fills in block_ids


def _too_long(limit: int) -> st.SearchStrategy[str]:
    return st.integers(limit + 1, limit + 50).map(lambda n: "x" * n)


def _oversized(make: Callable[[str], Block], limit: int, pointer: str) -> st.SearchStrategy[tuple[Block, str]]:
    return _too_long(limit).map(lambda text: (make(text), pointer))


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": text}


_OVERSIZED = st.one_of(
    _oversized(lambda t: {"type": "section", "text": {"type": "mrkdwn", "text": t}}, 3000, "/text/text"),
    # slack_sdk does not check a field's 2000 characters; Slack does.
    _oversized(lambda t: {"type": "section", "fields": [{"type": "mrkdwn", "text": t}]}, 2000, "/fields/0/text"),
    _oversized(lambda t: {"type": "header", "text": _plain(t)}, 150, "/text/text"),
    _oversized(
        lambda t: {"type": "actions", "elements": [{"type": "button", "text": _plain(t)}]}, 75, "/elements/0/text/text"
    ),
    _oversized(
        lambda v: {"type": "actions", "elements": [{"type": "button", "text": _plain("ok"), "value": v}]},
        2000,
        "/elements/0/value",
    ),
    _oversized(
        lambda t: {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": _plain("ok"),
                    "confirm": {"title": _plain(t), "text": _plain("?"), "confirm": _plain("y"), "deny": _plain("n")},
                }
            ],
        },
        100,
        "/elements/0/confirm/title/text",
    ),
    _oversized(lambda b: {"type": "divider", "block_id": b}, 255, "/block_id"),
    _oversized(lambda t: {"type": "markdown", "text": t}, 12_000, "/text"),
    _oversized(lambda a: {"type": "image", "image_url": "https://x/y.png", "alt_text": a}, 2000, "/alt_text"),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(valid=st.lists(_blocks, min_size=0, max_size=10), bad=_OVERSIZED, position=st.integers(0, 10))
def test_one_oversized_field_rejects_the_message(
    threaded_slack: ThreadedSlack, valid: list[Block], bad: tuple[Block, str], position: int
) -> None:
    block, pointer = bad
    index = min(position, len(valid))
    blocks = [*valid[:index], block, *valid[index:]]

    answer = threaded_slack.post(blocks)

    assert answer["error"] == "invalid_blocks"
    assert any(m.endswith(f"[json-pointer:/blocks/{index}{pointer}]") for m in answer["response_metadata"]["messages"])


def test_fifty_one_blocks_are_too_many(threaded_slack: ThreadedSlack) -> None:
    answer = threaded_slack.post([{"type": "divider"}] * 51)

    assert answer["error"] == "invalid_blocks"
    assert answer["response_metadata"]["messages"] == ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"]


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        ([{"type": "divider", "block_id": "a"}, {"type": "divider", "block_id": "a"}], "duplicate block_id 'a'"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "no more than 10 items allowed"),
        ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}], "no more than 10 items allowed"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "must be one of plain_text"),
        ([{"type": "section"}], "must provide either text or fields"),
        ([{"type": "carousel"}], "unsupported block type 'carousel'"),
        ([{"type": "input", "label": _plain("l"), "element": {"type": "plain_text_input"}}], "only allowed in modals"),
        (
            [{"type": "actions", "elements": [{"type": "button", "text": _plain("b"), "style": "loud"}]}],
            "must be one of primary, danger",
        ),
        (
            [{"type": "actions", "elements": [{"type": "overflow", "action_id": "o", "options": []}]}],
            "must provide at least 1 items",
        ),
        ([{"type": "rich_text", "elements": [{"type": "rich_text_blob", "elements": []}]}], "must be one of"),
    ],
)
def test_structural_mistakes_are_named(threaded_slack: ThreadedSlack, blocks: list[Block], message: str) -> None:
    answer = threaded_slack.post(blocks)

    assert answer["error"] == "invalid_blocks"
    assert any(message in m for m in answer["response_metadata"]["messages"]), answer


def test_filled_in_block_ids_never_collide_even_when_the_hash_would() -> None:
    # 5 hex digits of sha1: among 2,000 blocks some seeds share a prefix; every filled-in id must still be unique.
    blocks = [{"type": "divider"} for _ in range(2000)]
    ids = [block["block_id"] for block in fill_ids(blocks, "salt")]
    assert len(set(ids)) == len(ids)
    taken = fill_ids([{"type": "divider"}], "s")[0]["block_id"]  # what the first block would get
    given = fill_ids([{"type": "divider"}, {"type": "divider", "block_id": taken}], "s")
    assert given[0]["block_id"] != taken  # an id the app chose is not handed out again
