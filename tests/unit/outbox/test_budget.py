"""The outbox's in-process budgets (used while Redis is down) and the Budgets configuration."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.outbox import Budgets, Rate
from bot.outbox.budget import LocalBudgets
from bot.outbox.queue import Call, Priority
from bot.render.message import Message
from bot.store.budgets import Limit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


rates = st.builds(Rate, st.floats(0.1, 50), st.integers(1, 10))


@settings(max_examples=200, deadline=None)
@given(rate=rates, steps=st.lists(st.tuples(st.floats(0, 2), st.integers(1, 6)), max_size=40))
def test_no_window_gets_more_than_the_burst_plus_the_refill(rate: Rate, steps: list[tuple[float, int]]) -> None:
    clock = Clock()
    budgets = LocalBudgets(clock)
    limit = Limit("chat.postMessage", "C1", rate)
    granted: list[float] = []
    for advance, attempts in steps:
        clock.now += advance
        for _ in range(attempts):
            denied = budgets.take([limit])
            if denied is None:
                granted.append(clock.now)
            else:
                assert denied.wait > 0
                assert denied.limit == limit
    for i, start in enumerate(granted):
        for j in range(i, len(granted)):
            assert j - i + 1 <= rate.burst + rate.per_second * (granted[j] - start) + 1e-6
    # A bucket this process never used starts empty: what Redis knew about spent tokens is gone with it.
    assert all(rate.per_second * t >= n + 1 - 1e-6 for n, t in enumerate(granted[: rate.burst]))


@settings(max_examples=100, deadline=None)
@given(rate=rates, advance=st.floats(0, 5))
def test_waiting_as_long_as_told_is_enough(rate: Rate, advance: float) -> None:
    clock = Clock()
    budgets = LocalBudgets(clock)
    limit = Limit("chat.update", "workspace", rate)
    clock.now += advance
    while (denied := budgets.take([limit])) is None:
        pass
    clock.now += denied.wait
    assert budgets.take([limit]) is None


def test_a_call_takes_from_every_bucket_or_from_none() -> None:
    clock = Clock()
    budgets = LocalBudgets(clock)
    channel = Limit("chat.postMessage", "C1", Rate(1.0, 3))
    workspace = Limit("chat.postMessage", "workspace", Rate(10.0, 20))
    assert budgets.take([channel, workspace]) is not None  # unknown buckets start empty...
    clock.now = 100.0  # ...and fill up
    for _ in range(3):
        assert budgets.take([channel, workspace]) is None
    denied = budgets.take([channel, workspace])
    assert denied is not None
    assert denied.limit == channel
    assert denied.wait == pytest.approx(1.0)
    # The refused call took nothing from the workspace bucket: 17 of its 20 tokens are left.
    assert sum(budgets.take([workspace]) is None for _ in range(20)) == 17


def test_a_block_holds_until_retry_after_and_leaves_the_bucket_empty() -> None:
    clock = Clock()
    budgets = LocalBudgets(clock)
    limit = Limit("chat.postMessage", "C1", Rate(2.0, 3))
    budgets.take([limit])
    clock.now = 100.0
    budgets.block(limit, 4.0)
    budgets.block(limit, 1.0)  # a shorter block does not shorten the longer one
    clock.now += 3.0
    denied = budgets.take([limit])
    assert denied is not None
    assert denied.wait == pytest.approx(1.0)
    clock.now += 1.0
    granted = sum(budgets.take([limit]) is None for _ in range(10))
    assert granted == 3  # 4 s of refill since the block, capped at the burst


def test_budgets_are_validated_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="positive, finite number of calls per second"):
        Rate(0, 3)
    with pytest.raises(ValueError, match="positive, finite number of calls per second"):
        Rate(float("inf"), 3)
    with pytest.raises(ValueError, match="burst of at least 1"):
        Rate(1.0, 0)
    with pytest.raises(ValueError, match="scale factor must be positive"):
        Budgets().scaled(0)


def test_posts_take_from_their_channel_and_the_workspace_edits_from_the_workspace() -> None:
    budgets = Budgets().scaled(10)
    assert budgets.post_per_channel == Rate(10.0, 3)
    post = Call("chat.postMessage", "C1", Message("hi"), Priority.PROGRESS, 0, thread_ts="1.1")
    edit = Call("chat.update", "C1", Message("hi"), Priority.PROGRESS, 1, ts="1.1")
    assert [(limit.method, limit.scope) for limit in budgets.limits(post)] == [
        ("chat.postMessage", "C1"),
        ("chat.postMessage", "workspace"),
    ]
    assert [(limit.method, limit.scope) for limit in budgets.limits(edit)] == [("chat.update", "workspace")]
    # The defaults stay under Slack's published limits: 1 post/s per channel, Tier 3 (50/min) for edits.
    defaults = Budgets()
    assert defaults.post_per_channel.per_second <= 1.0
    assert defaults.update_per_workspace.per_second * 60 < 50


def test_unbounded_budgets_never_make_a_call_wait_but_a_429_still_blocks() -> None:
    """``DEPLOYBOT_SLACK_BUDGETS=off``: a burst far beyond any Slack limit goes out at once; a 429 is still kept."""
    now = 0.0
    local = LocalBudgets(lambda: now)
    budgets = Budgets.unbounded()
    post = Call("chat.postMessage", "C1", Message("hi"), Priority.PROGRESS, 0, thread_ts="1.1")
    edit = Call("chat.update", "C1", Message("hi"), Priority.PROGRESS, 1, ts="1.1")
    for call in (post, edit):  # a local bucket starts empty when first used; a microsecond fills one token
        denied = local.take(budgets.limits(call))
        assert denied is not None
        assert denied.wait <= 1e-6
    now = 1.0
    assert all(local.take(budgets.limits(call)) is None for _ in range(100_000) for call in (post, edit))
    local.block(budgets.limits(post)[0], 2.0)
    denied = local.take(budgets.limits(post))
    assert denied is not None
    assert denied.wait == pytest.approx(2.0)
