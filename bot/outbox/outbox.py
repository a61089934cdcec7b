"""The Outbox: one owned task that sends queued Slack calls as the budgets allow, most urgent first, and backs off
when Slack answers 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from types import TracebackType

import redis.asyncio as aioredis

from bot.chat import Chat
from bot.errors import NotSent, SlackError, SlackRateLimited
from bot.outbox.budget import BudgetKeeper, Budgets
from bot.outbox.queue import Call, Lane, Priority, Queue
from bot.render.message import Message
from bot.store.budgets import Limit

log = logging.getLogger(__name__)

# A progress call answered 429 this often is given up (its caller gets SlackRateLimited); finals retry until sent.
PROGRESS_ATTEMPTS = 3
# stop() lets calls already on the wire finish for this long; the HTTP client's own timeout bounds them anyway.
STOP_GRACE_SECONDS = 10.0
# After an unexpected error in a round, the dispatcher tries again after this long instead of spinning.
ROUND_RETRY_SECONDS = 1.0
TAKE_BATCH = 50  # lanes whose budgets are asked for in one Redis round trip


class Outbox:
    """Every Slack call of the watcher, within Slack's rate limits; see the package docstring for the rules.

    ``post``/``update`` return once Slack confirmed the call, so a caller records "reported" only for what was sent.
    Edits of one message merge while they wait: every caller of a merged edit returns when the merged (newest)
    content is shown, and all of them get its error if it fails. A caller with ``patience`` gets NotSent instead
    when its call is still waiting after that many seconds: the call is withdrawn (a merged edit stays for the
    callers still waiting for it), so news that has gone stale does not hold the budget that newer news needs.
    """

    def __init__(
        self,
        chat: Chat,
        redis: aioredis.Redis,
        *,
        budgets: Budgets | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._chat = chat
        self._budgets = budgets if budgets is not None else Budgets()
        self._keeper = BudgetKeeper(redis, clock)
        self._clock = clock
        self._queue = Queue()
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        # (method, scope) -> when its budget has a token again, as last heard: spares Redis a question per lane
        self._not_before: dict[tuple[str, str], float] = {}
        self._dispatcher: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._stopped = False

    # -- what callers use -------------------------------------------------------------------------------------

    async def post(
        self,
        channel: str,
        message: Message,
        *,
        thread_ts: str | None = None,
        broadcast: bool = False,
        priority: Priority = Priority.PROGRESS,
        patience: float | None = None,
    ) -> str:
        """Post in ``channel`` (or a thread of it) once the budgets allow; returns the new message's ``ts``.

        Raises SlackError (NotInChannel, …) for what retrying cannot fix, SlackRateLimited when a progress
        post was refused with 429 ``PROGRESS_ATTEMPTS`` times (final posts are retried after every Retry-After),
        and NotSent when the post still waited after ``patience`` seconds (then it was not sent and will not be).
        """
        _require("channel", channel)
        if broadcast and not thread_ts:
            raise ValueError("broadcast=True needs a thread_ts: only a thread reply can be sent to the channel too")
        return await self._submit(
            Call(
                "chat.postMessage",
                channel,
                message,
                priority,
                next(self._seq),
                thread_ts=thread_ts or None,
                broadcast=broadcast,
            ),
            patience,
        )

    async def update(
        self,
        channel: str,
        ts: str,
        message: Message,
        *,
        priority: Priority = Priority.PROGRESS,
        patience: float | None = None,
    ) -> None:
        """Edit the message ``ts`` once the budgets allow; merged with this message's other waiting edits. Raises
        as ``post`` does."""
        _require("channel", channel)
        _require("ts", ts)
        await self._submit(Call("chat.update", channel, message, priority, next(self._seq), ts=ts), patience)

    def depth(self) -> int:
        """Calls not yet confirmed sent (merged edits count once)."""
        return self._queue.depth()

    # -- lifecycle --------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the dispatcher task (calls queued before this wait for it)."""
        if self._stopped:
            raise RuntimeError("a stopped Outbox cannot start again; build a new one")
        if self._dispatcher is None:
            self._dispatcher = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        """Stop sending. Calls on the wire get a moment to finish; every caller still waiting gets
        SlackError("outbox_stopped") — nothing was recorded as reported for them, so a restart reports again."""
        self._stopped = True
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)  # still cancellable itself
        if self._sending:
            _, late = await asyncio.wait(self._sending, timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        for call in self._queue.drain():
            _settle(call, error=SlackError("outbox_stopped", call.method))

    async def __aenter__(self) -> Outbox:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- the dispatcher ---------------------------------------------------------------------------------------

    async def _submit(self, call: Call, patience: float | None) -> str:
        if self._stopped:
            raise SlackError("outbox_stopped", call.method)
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        call.waiters.append(waiter)
        queued = self._queue.put(call)  # the call this one was merged into, if it was
        self._wake.set()
        if patience is None:
            return await waiter
        try:
            done, _ = await asyncio.wait({waiter}, timeout=patience)  # unlike wait_for, leaves the waiter be
        except asyncio.CancelledError:
            waiter.cancel()  # as without patience: a call nobody waits for any more is not sent
            raise
        if not done and self._queue.withdraw(queued, waiter):
            waiter.cancel()
            raise NotSent(call.method)
        return await waiter  # sent, or on the wire already: Slack's answer decides

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                delay = await self._round()
            except Exception:  # the loop must outlive a bug in one round; the log has the traceback
                log.exception("the Slack outbox failed to dispatch; trying again")
                delay = ROUND_RETRY_SECONDS
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    async def _round(self) -> float | None:
        """Start every call whose budgets have a token, most urgent lane first; seconds until the next may go
        (None: nothing waits for a budget, only for news). Budgets are asked for ``TAKE_BATCH`` lanes at a time, in
        one Redis round trip: one each made the dispatcher the bottleneck with hundreds of calls a second."""
        lanes = self._queue.ready()
        soonest: float | None = None
        start = 0
        while start < len(lanes):
            now = self._clock()
            self._not_before = {scope: at for scope, at in self._not_before.items() if at > now}
            asking: list[tuple[Lane, list[Limit]]] = []
            while start < len(lanes) and len(asking) < TAKE_BATCH:
                lane, start = lanes[start], start + 1
                if lane.busy or not lane.calls:
                    continue
                limits = self._budgets.limits(lane.calls[0])
                # A budget known to be empty is not asked again: later lanes behind it wait without a round trip.
                wait = max(self._not_before.get((limit.method, limit.scope), 0.0) for limit in limits) - now
                if wait <= 0:
                    asking.append((lane, limits))
                else:
                    soonest = wait if soonest is None else min(soonest, wait)
            if not asking:
                continue
            answers = await self._keeper.take_each([limits for _, limits in asking])
            for (lane, _), denied in zip(asking, answers, strict=True):
                if denied is None:
                    if not lane.busy and lane.calls:  # else it changed while the budgets were asked: a token unused
                        self._send(lane)
                    continue
                wait = max(denied.wait, 0.001)
                self._not_before[(denied.limit.method, denied.limit.scope)] = self._clock() + wait
                soonest = wait if soonest is None else min(soonest, wait)
        return soonest

    def _send(self, lane: Lane) -> None:
        task = asyncio.create_task(self._deliver(lane, self._queue.take(lane)))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _deliver(self, lane: Lane, call: Call) -> None:
        retry: Call | None = None
        try:
            ts = await self._call_slack(call)
        except SlackRateLimited as limited:
            retry = await self._rate_limited(call, limited)
        except SlackError as error:
            _settle(call, error=error)
        except Exception as error:  # a bug reaches the caller instead of silently ending this task
            log.exception("the Slack outbox failed to send", extra={"method": call.method})
            _settle(call, error=error)
        else:
            _settle(call, ts)
        finally:
            # Nobody may be left waiting. Callers answered above are skipped; only a cancellation by stop()
            # arrives here with callers unanswered.
            if retry is None:
                _settle(call, error=SlackError("outbox_stopped", call.method))
            self._queue.finish(lane, retry)
            self._wake.set()

    async def _call_slack(self, call: Call) -> str:
        if call.method == "chat.update":
            assert call.ts is not None  # update() requires it
            await self._chat.update(call.channel, call.ts, call.message)
            return call.ts
        return await self._chat.post(call.channel, call.message, thread_ts=call.thread_ts, broadcast=call.broadcast)

    async def _rate_limited(self, call: Call, limited: SlackRateLimited) -> Call | None:
        """Block the narrowest budget for every replica; the call goes again after Retry-After, or is given up."""
        narrowest = self._budgets.limits(call)[0]
        self._not_before[(narrowest.method, narrowest.scope)] = self._clock() + limited.retry_after
        await self._keeper.block(narrowest, limited.retry_after)
        call.attempts += 1
        log.warning(
            "Slack answered 429",
            extra={"method": call.method, "scope": narrowest.scope, "retry_after": limited.retry_after},
        )
        if call.priority == Priority.FINAL or call.attempts < PROGRESS_ATTEMPTS:
            return call
        _settle(call, error=limited)
        return None


def _require(name: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty Slack id, not {value!r}")


def _settle(call: Call, ts: str | None = None, *, error: BaseException | None = None) -> None:
    for waiter in call.waiters:
        if waiter.done():  # its caller was cancelled
            continue
        if error is not None:
            waiter.set_exception(error)
        else:
            assert ts is not None
            waiter.set_result(ts)
