"""What waits to be sent to Slack, in lanes: one per thread (replies keep their order) and one per edited message
(a newer edit replaces a pending one). The most urgent lane goes first. No I/O here.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal

from bot.render.message import Message

Method = Literal["chat.postMessage", "chat.update"]
LaneKey = tuple[Method, str, str]  # (method, channel, thread ts for posts | edited ts for updates)


class Priority(IntEnum):
    """Lower goes first. Final outcomes and failures share the front; progress waits behind them."""

    FINAL = 0
    FAILURE = 0  # an alias of FINAL: a failure is a deployment's final word too
    PROGRESS = 1


@dataclass(eq=False)
class Call:
    """One Slack call waiting to be sent, and everyone waiting for it (several, once edits were merged)."""

    method: Method
    channel: str
    message: Message
    priority: Priority
    seq: int  # enqueue order across the whole outbox
    thread_ts: str | None = None  # chat.postMessage: the thread replied in, None for a channel message
    ts: str | None = None  # chat.update: the message edited
    broadcast: bool = False
    waiters: list[asyncio.Future[str]] = field(default_factory=list)
    attempts: int = 0  # answered 429 this often

    @property
    def lane(self) -> LaneKey:
        if self.method == "chat.update":
            assert self.ts is not None  # Outbox.update always passes one
            return (self.method, self.channel, self.ts)
        return (self.method, self.channel, self.thread_ts or "")

    @property
    def abandoned(self) -> bool:
        """Every caller gave up (was cancelled) before the call went out: sending it would help no one."""
        return bool(self.waiters) and all(waiter.cancelled() for waiter in self.waiters)

    def absorb(self, newer: Call) -> None:
        """Merge a newer edit of the same message into this one: its content wins, the more urgent priority wins."""
        self.message = newer.message
        self.priority = min(self.priority, newer.priority)
        self.seq = min(self.seq, newer.seq)
        self.waiters += newer.waiters


class Lane:
    """Calls that must go out one at a time, in order: a thread's posts, or one message's edits."""

    def __init__(self, key: LaneKey) -> None:
        self.key = key
        self.calls: deque[Call] = deque()
        self.busy = False  # a call of this lane is on the wire

    def rank(self) -> tuple[int, int]:
        """Most urgent first: the lane's best priority, then the age of its oldest call of that priority.

        A final reply behind progress replies lifts its whole thread: the replies before it must go first anyway.
        """
        best = min(call.priority for call in self.calls)
        return best, next(call.seq for call in self.calls if call.priority == best)


class Queue:
    """Every lane with calls waiting or on the wire."""

    def __init__(self) -> None:
        self._lanes: dict[LaneKey, Lane] = {}
        self._on_the_wire = 0

    def put(self, call: Call) -> Call:
        """Queue ``call``; an edit of a message with an edit already waiting is merged into that one (returned)."""
        lane = self._lanes.get(call.lane)
        if lane is None:
            lane = self._lanes[call.lane] = Lane(call.lane)
        if call.method == "chat.update" and lane.calls:
            waiting = lane.calls[-1]  # an edit lane holds at most one waiting call: every later one merges
            waiting.absorb(call)
            return waiting
        lane.calls.append(call)
        return call

    def withdraw(self, call: Call, waiter: asyncio.Future[str]) -> bool:
        """Take ``waiter`` off ``call`` if the call still waits (it is not on the wire); a call nobody waits for
        any more leaves its lane. False: the call is on the wire (or done), and its outcome is the waiter's."""
        lane = self._lanes.get(call.lane)
        if lane is None or call not in lane.calls:
            return False
        call.waiters.remove(waiter)
        if not call.waiters:
            lane.calls.remove(call)
            self._forget_if_idle(lane)
        return True

    def ready(self) -> list[Lane]:
        """Lanes whose next call may go now (none of theirs on the wire), most urgent first."""
        for lane in list(self._lanes.values()):
            while lane.calls and lane.calls[0].abandoned:
                lane.calls.popleft()
            self._forget_if_idle(lane)
        return sorted((lane for lane in self._lanes.values() if lane.calls and not lane.busy), key=Lane.rank)

    def take(self, lane: Lane) -> Call:
        """The lane's next call, now on the wire; the lane waits until ``finish``."""
        lane.busy = True
        self._on_the_wire += 1
        return lane.calls.popleft()

    def finish(self, lane: Lane, retry: Call | None = None) -> None:
        """The lane's call came back; ``retry`` goes to the front of its lane to be sent again."""
        lane.busy = False
        self._on_the_wire -= 1
        if retry is not None:
            if retry.method == "chat.update" and lane.calls:
                retry.absorb(lane.calls.popleft())  # a newer edit arrived meanwhile: one call, its content
            lane.calls.appendleft(retry)
        self._forget_if_idle(lane)

    def drain(self) -> list[Call]:
        """Remove and return every waiting call (not those on the wire)."""
        calls = [call for lane in self._lanes.values() for call in lane.calls]
        for lane in self._lanes.values():
            lane.calls.clear()
        self._lanes = {key: lane for key, lane in self._lanes.items() if lane.busy}
        return calls

    def depth(self) -> int:
        """Calls not yet confirmed sent: waiting (merged edits count once) or on the wire."""
        return self._on_the_wire + sum(len(lane.calls) for lane in self._lanes.values())

    def _forget_if_idle(self, lane: Lane) -> None:
        if not lane.calls and not lane.busy:
            self._lanes.pop(lane.key, None)
