"""How fast the outbox may call Slack (``Budgets``), and taking from those budgets: in Redis, shared by every replica,
or in this process alone while Redis is unreachable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace

import redis.asyncio as aioredis

from bot.errors import StoreUnavailable
from bot.outbox.queue import Call
from bot.store.budgets import Denied, Limit, Rate, SendBudgets

log = logging.getLogger(__name__)

WORKSPACE = "workspace"
# While Redis is unreachable, the outbox asks it again this often; in between it does not wait for a timeout.
REDIS_RETRY_SECONDS = 5.0
# Float noise: waiting exactly the wait a refusal named must be enough for the next token.
_ROUNDING = 1e-9


# "About one message per second per channel", short bursts tolerated; Slack names no burst size.
POST_PER_CHANNEL = Rate(1.0, 3)
# "Several hundred messages per minute" for the workspace: 300 a minute.
POST_PER_WORKSPACE = Rate(5.0, 20)
# chat.update is Tier 3, "50+ per minute": 40 leaves room for the handlers' own edits by the same app.
UPDATE_PER_WORKSPACE = Rate(40 / 60, 5)


@dataclass(frozen=True)
class Budgets:
    """Rates the outbox keeps to; the defaults stay under Slack's published limits (reference §5) with a margin."""

    post_per_channel: Rate = POST_PER_CHANNEL
    post_per_workspace: Rate = POST_PER_WORKSPACE
    update_per_workspace: Rate = UPDATE_PER_WORKSPACE

    def scaled(self, factor: float) -> Budgets:
        """Every rate ``factor`` times as fast; tests mirror the fake Slack's ``rate_limit_scale`` (= 1 / factor)."""
        if not factor > 0:
            raise ValueError(f"the scale factor must be positive, not {factor!r}")
        changes = {f.name: _faster(getattr(self, f.name), factor) for f in fields(self)}
        return replace(self, **changes)

    @classmethod
    def unbounded(cls) -> Budgets:
        """Buckets that never run dry in practice (a million calls a second, a million at once): only for a fake
        Slack with its rate limits off, e.g. benchmarks of the bot's own speed. ``scaled`` cannot stand in: it
        keeps the bursts (as the fake Slack does), and a burst of 3 lets only 3 posts into a channel per round trip
        to Redis. 429s are honoured all the same."""
        unbounded = Rate(1_000_000.0, 1_000_000)
        return cls(unbounded, unbounded, unbounded)

    def limits(self, call: Call) -> list[Limit]:
        """The buckets ``call`` takes from, narrowest first (a 429 blocks the narrowest)."""
        if call.method == "chat.update":
            return [Limit(call.method, WORKSPACE, self.update_per_workspace)]
        return [
            Limit(call.method, call.channel, self.post_per_channel),
            Limit(call.method, WORKSPACE, self.post_per_workspace),
        ]


def _faster(rate: Rate, factor: float) -> Rate:
    return Rate(rate.per_second * factor, rate.burst)


class LocalBudgets:
    """The same token buckets as ``SendBudgets``, for this process only: used while Redis cannot be reached.

    Written here rather than taken from a library: it must answer like the Redis script (all-or-nothing over
    several buckets, and how long to wait), and it is a dozen lines. One difference: a bucket this process has not
    used yet starts empty, not full — when Redis just went away, the burst may already be spent at Slack.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._levels: dict[tuple[str, str], tuple[float, float]] = {}  # (method, scope) -> (tokens, at)
        self._blocked: dict[tuple[str, str], float] = {}  # (method, scope) -> until

    def take(self, limits: Sequence[Limit]) -> Denied | None:
        now = self._clock()
        denied: Denied | None = None
        levels = []
        for limit in limits:
            key = (limit.method, limit.scope)
            wait = self._blocked.get(key, now) - now
            tokens, at = self._levels.setdefault(key, (0.0, now))
            tokens = min(float(limit.rate.burst), tokens + max(0.0, now - at) * limit.rate.per_second)
            levels.append(tokens)
            if tokens < 1 - _ROUNDING:
                wait = max(wait, (1 - tokens) / limit.rate.per_second)
            if wait > 0 and (denied is None or wait > denied.wait):
                denied = Denied(wait, limit)
        if denied is not None:
            return denied
        for limit, tokens in zip(limits, levels, strict=True):
            self._levels[(limit.method, limit.scope)] = (tokens - 1, now)
        return None

    def block(self, limit: Limit, seconds: float) -> None:
        key, now = (limit.method, limit.scope), self._clock()
        self._blocked[key] = max(self._blocked.get(key, now), now + seconds)
        self._levels[key] = (0.0, now)


class BudgetKeeper:
    """Takes from the shared budgets in Redis; while Redis is unreachable, from local ones, so sending never stops."""

    def __init__(self, redis: aioredis.Redis, clock: Callable[[], float]) -> None:
        self._shared = SendBudgets(redis)
        self._local = LocalBudgets(clock)
        self._clock = clock
        self._retry_redis_at: float | None = None  # set while Redis is down

    @property
    def shared(self) -> bool:
        """Whether the last answer came from Redis."""
        return self._retry_redis_at is None

    async def take(self, limits: Sequence[Limit]) -> Denied | None:
        """None when one token was taken from every bucket of ``limits``, else how long to wait and for which."""
        [answer] = await self.take_each([limits])
        return answer

    async def take_each(self, calls: Sequence[Sequence[Limit]]) -> list[Denied | None]:
        """``take`` for each call, in order: one Redis round trip for all of them."""
        if self._redis_worth_trying():
            try:
                answers = await self._shared.take_each(calls)
            except StoreUnavailable:
                self._redis_down()
            else:
                self._redis_up()
                return answers
        return [self._local.take(limits) for limits in calls]

    async def block(self, limit: Limit, seconds: float) -> None:
        """Slack said 429: nobody takes from ``limit`` for ``seconds``."""
        self._local.block(limit, seconds)  # also kept locally, in case Redis goes away during the wait
        if self._redis_worth_trying():
            try:
                await self._shared.block(limit, seconds)
            except StoreUnavailable:
                self._redis_down()
            else:
                self._redis_up()

    def _redis_worth_trying(self) -> bool:
        return self._retry_redis_at is None or self._clock() >= self._retry_redis_at

    def _redis_down(self) -> None:
        if self._retry_redis_at is None:
            log.warning("Redis is unreachable: the Slack outbox keeps sending on this replica's own budgets")
        self._retry_redis_at = self._clock() + REDIS_RETRY_SECONDS

    def _redis_up(self) -> None:
        if self._retry_redis_at is not None:
            log.info("Redis is back: the Slack outbox shares its budgets with the other replicas again")
            self._retry_redis_at = None
