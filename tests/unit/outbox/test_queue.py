"""The outbox's queue under any mix of posts, edits, sends, retries, cancellations and withdrawals: thread order is
kept, edits merge with the newest content winning, no caller is told about older content than its own, finals go
first, and a withdrawn post never goes out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.outbox.queue import Call, Lane, Priority, Queue
from bot.render.message import Message

THREADS = ["", "1.0001", "1.0002"]  # "" = channel messages
EDITED = ["2.0001", "2.0002"]

priorities = st.sampled_from([Priority.PROGRESS, Priority.PROGRESS, Priority.FINAL])
operations = st.lists(
    st.one_of(
        st.tuples(st.just("post"), st.integers(0, len(THREADS) - 1), priorities),
        st.tuples(st.just("update"), st.integers(0, len(EDITED) - 1), priorities),
        st.tuples(st.just("send"), st.just(0), st.just(Priority.PROGRESS)),
        st.tuples(st.just("finish"), st.integers(0, 5), st.sampled_from(["ok", "429"])),
        st.tuples(st.just("cancel"), st.integers(0, 80), st.just(Priority.PROGRESS)),
        st.tuples(st.just("withdraw"), st.integers(0, 80), st.just(Priority.PROGRESS)),
    ),
    max_size=80,
)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """Futures for the callers; nothing runs on this loop, the queue is plain data."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@dataclass
class Put:
    n: int  # also the content: Message(str(n))
    lane: tuple[str, str, str]
    waiter: asyncio.Future[str]
    queued: Call  # the call it waits for: its own, or the edit it was merged into


@dataclass
class Run:
    """Plays the outbox's part against a bare Queue and records what reached "Slack"."""

    loop: asyncio.AbstractEventLoop
    queue: Queue = field(default_factory=Queue)
    puts: list[Put] = field(default_factory=list)
    wire: list[tuple[Lane, Call, str]] = field(default_factory=list)  # lane, call, content as sent
    shown: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)  # lane -> contents Slack showed
    withdrawn: set[int] = field(default_factory=set)

    def put(self, call: Call) -> None:
        waiter: asyncio.Future[str] = self.loop.create_future()
        call.waiters.append(waiter)
        self.puts.append(Put(call.seq, call.lane, waiter, self.queue.put(call)))

    def withdraw(self, put: Put) -> None:
        """What the outbox does when a caller's patience runs out."""
        if not put.waiter.done() and self.queue.withdraw(put.queued, put.waiter):
            put.waiter.cancel()
            self.withdrawn.add(put.n)

    def send(self) -> None:
        ready = self.queue.ready()
        if not ready:
            return
        lane = ready[0]
        if any(call.priority == Priority.FINAL for other in ready for call in other.calls):
            assert any(call.priority == Priority.FINAL for call in lane.calls), "a final waited behind progress"
        call = self.queue.take(lane)
        assert not call.abandoned
        self.wire.append((lane, call, call.message.text))

    def finish(self, index: int, outcome: str) -> None:
        if not self.wire:
            return
        lane, call, sent = self.wire.pop(index % len(self.wire))
        if outcome == "429":
            self.queue.finish(lane, call)
            return
        self.shown.setdefault(lane.key, []).append(int(sent))
        for waiter in call.waiters:
            if not waiter.done():
                waiter.set_result(sent)
        self.queue.finish(lane)

    def run_dry(self) -> None:
        while self.queue.depth():
            self.send()
            self.finish(0, "ok")


@settings(max_examples=300, deadline=None)
@given(ops=operations)
def test_order_merging_and_urgency_hold_for_any_interleaving(loop: asyncio.AbstractEventLoop, ops: list) -> None:
    run = Run(loop)
    for n, (kind, arg, extra) in enumerate(ops):
        if kind == "post":
            run.put(Call("chat.postMessage", "C1", Message(str(n)), extra, n, thread_ts=THREADS[arg] or None))
        elif kind == "update":
            run.put(Call("chat.update", "C1", Message(str(n)), extra, n, ts=EDITED[arg]))
        elif kind == "send":
            run.send()  # asserts urgency
        elif kind == "finish":
            run.finish(arg, extra)
        elif kind == "cancel" and run.puts:
            run.puts[arg % len(run.puts)].waiter.cancel()
        elif kind == "withdraw" and run.puts:
            run.withdraw(run.puts[arg % len(run.puts)])
    run.run_dry()

    assert run.queue.depth() == 0
    answered = [put for put in run.puts if not put.waiter.cancelled()]
    assert all(put.waiter.done() for put in answered)
    for put in answered:
        if put.lane[0] == "chat.postMessage":
            assert put.waiter.result() == str(put.n)  # posts never merge: each caller's own message was posted
        else:
            shown = int(put.waiter.result())
            assert shown >= put.n, "an edit's caller was answered with older content than its own"
            assert any(other.n == shown and other.lane == put.lane for other in run.puts)
    posts = {put.n for put in run.puts if put.lane[0] == "chat.postMessage"}
    delivered = {n for lane, shown in run.shown.items() if lane[0] == "chat.postMessage" for n in shown}
    assert not run.withdrawn & posts & delivered, "a withdrawn post went out"  # (a 429'd one may be withdrawn)
    for lane, shown in run.shown.items():
        # One call per lane at a time: posts stay in thread order, and an edited message never goes back in time.
        assert shown == sorted(set(shown)), f"{lane} shown out of order or twice: {shown}"
        if lane[0] == "chat.update":
            edits = [put for put in run.puts if put.lane == lane]
            assert len(shown) <= len(edits)
            assert shown[-1] >= max((put.n for put in edits if not put.waiter.cancelled()), default=-1)


def test_waiting_edits_of_one_message_become_one_call_with_the_newest_content() -> None:
    queue = Queue()
    calls = [Call("chat.update", "C1", Message(f"state {n}"), Priority.PROGRESS, n, ts="1.0001") for n in range(50)]
    calls[7].priority = Priority.FINAL
    kept = {id(queue.put(call)) for call in calls}
    assert len(kept) == 1
    assert queue.depth() == 1
    (lane,) = queue.ready()
    merged = queue.take(lane)
    assert merged.message.text == "state 49"
    assert merged.priority == Priority.FINAL  # the most urgent of the merged edits


def test_a_final_lifts_its_thread_ahead_of_older_progress_elsewhere_but_not_ahead_of_its_own_replies() -> None:
    queue = Queue()
    for n in range(3):
        queue.put(Call("chat.postMessage", "C1", Message(f"a{n}"), Priority.PROGRESS, n, thread_ts="1.1"))
    queue.put(Call("chat.postMessage", "C1", Message("b0"), Priority.PROGRESS, 3, thread_ts="1.2"))
    queue.put(Call("chat.postMessage", "C1", Message("b-final"), Priority.FINAL, 4, thread_ts="1.2"))
    order = []
    while queue.depth():
        lane = queue.ready()[0]
        order.append(queue.take(lane).message.text)
        queue.finish(lane)
    assert order == ["b0", "b-final", "a0", "a1", "a2"]


def test_a_withdrawn_call_leaves_its_lane_unless_it_is_on_the_wire_or_others_wait_for_it() -> None:
    loop = asyncio.new_event_loop()
    try:
        queue = Queue()
        first, second = loop.create_future(), loop.create_future()
        post = Call("chat.postMessage", "C1", Message("step 1"), Priority.PROGRESS, 0, thread_ts="1.1", waiters=[first])
        queue.put(post)
        assert queue.withdraw(post, first)
        assert queue.depth() == 0

        edit = Call("chat.update", "C1", Message("running"), Priority.PROGRESS, 1, ts="1.1", waiters=[first])
        newer = Call("chat.update", "C1", Message("step 2"), Priority.PROGRESS, 2, ts="1.1", waiters=[second])
        merged = queue.put(edit)
        assert queue.put(newer) is merged
        assert queue.withdraw(merged, second)  # the other caller still waits: the edit stays, with the newest content
        (lane,) = queue.ready()
        taken = queue.take(lane)
        assert (taken.message.text, taken.waiters) == ("step 2", [first])
        assert not queue.withdraw(taken, first)  # on the wire: Slack's answer decides
        queue.finish(lane)
        assert queue.depth() == 0
    finally:
        loop.close()
