"""Slack send budgets shared by every replica: token buckets and Retry-After blocks in Redis, timed by Redis' clock.

Every replica reads one clock, Redis' ``TIME``, inside the scripts: the replicas' own monotonic clocks cannot be
compared across processes, and their wall clocks may drift apart. Our own scripts rather than the ``limits``
package: a post must take from its channel's and the workspace's bucket in one step or from neither, the outbox
needs the wait until the next token, and a 429 must block a budget for everyone — ``limits`` hits one window-based
limit at a time.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.errors import StoreUnavailable
from bot.store import keys

T = TypeVar("T")

# Takes for several calls at once, in order (the outbox asks for its most urgent lanes first): each call takes one
# token from every one of its buckets or from none. KEYS: per call, its n buckets then their n block flags. ARGV: the
# number of calls, then per call n and, per bucket, refill per ms, burst, ttl ms. Answers per call {0, 0} when taken,
# else {ms to wait, 1-based index of the bucket that said no}. A bucket two calls share is refilled once and each
# takes from what the other left.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local a, k = 2, 1
local levels, ttls, out = {}, {}, {}
for call = 1, tonumber(ARGV[1]) do
  local n = tonumber(ARGV[a])
  local wait, denied = 0, 0
  for i = 1, n do
    local left = redis.call('PTTL', KEYS[k + n + i - 1])
    if left > wait then wait, denied = left, i end
  end
  if wait == 0 then
    for i = 1, n do
      local key, rate, burst = KEYS[k + i - 1], tonumber(ARGV[a + 3 * i - 2]), tonumber(ARGV[a + 3 * i - 1])
      if levels[key] == nil then
        local state = redis.call('HMGET', key, 'tokens', 'at')
        local tokens, at = tonumber(state[1]), tonumber(state[2])
        if tokens == nil or at == nil then tokens, at = burst, now end
        levels[key] = math.min(burst, tokens + math.max(0, now - at) * rate)
      end
      if levels[key] < 1 then
        local need = math.ceil((1 - levels[key]) / rate)
        if need > wait then wait, denied = need, i end
      end
    end
  end
  if wait == 0 then
    for i = 1, n do
      local key = KEYS[k + i - 1]
      levels[key], ttls[key] = levels[key] - 1, ARGV[a + 3 * i]
    end
  end
  out[#out + 1], out[#out + 2] = wait, denied
  a, k = a + 1 + 3 * n, k + 2 * n
end
for key, ttl in pairs(ttls) do
  redis.call('HSET', key, 'tokens', tostring(levels[key]), 'at', tostring(now))
  redis.call('PEXPIRE', key, ttl)
end
return out
"""
# KEYS: the block flag, its bucket. ARGV: block ms, bucket ttl ms. Keeps the longer of two blocks, and empties the
# bucket: Slack's own bucket is empty when it answers 429, so ours must not burst again the moment the block ends.
_BLOCK = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
local t = redis.call('TIME')
redis.call('HSET', KEYS[2], 'tokens', '0', 'at', tostring(tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000))
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""


@dataclass(frozen=True)
class Rate:
    """``per_second`` calls on average, ``burst`` of them at once after a quiet spell."""

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if not (self.per_second > 0 and math.isfinite(self.per_second)):
            raise ValueError(f"a rate needs a positive, finite number of calls per second, not {self.per_second!r}")
        if self.burst < 1:
            raise ValueError(f"a rate needs a burst of at least 1 call, not {self.burst!r}")

    @property
    def refill_ms(self) -> int:
        """Milliseconds an empty bucket takes to fill up again."""
        return math.ceil(self.burst / self.per_second * 1000)


@dataclass(frozen=True)
class Limit:
    """One token bucket: ``method`` calls in ``scope`` (a channel id, or "workspace") at ``rate``."""

    method: str
    scope: str
    rate: Rate


@dataclass(frozen=True)
class Denied:
    """Not now: ``limit`` has no token (or is blocked) for another ``wait`` seconds."""

    wait: float
    limit: Limit


class SendBudgets:
    """Token buckets in Redis, shared by every replica. Redis failures surface as StoreUnavailable."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._take = redis.register_script(_TAKE)
        self._block = redis.register_script(_BLOCK)

    async def _call(self, operation: Awaitable[T]) -> T:
        # Any Redis error, not only a lost connection: a replica that turned read-only after a failover answers
        # with an error too, and the outbox must then keep sending on its local budgets.
        try:
            return await operation
        except (RedisError, OSError) as exc:
            raise StoreUnavailable("the state store (Redis) is unavailable") from exc

    async def take(self, limits: Sequence[Limit]) -> Denied | None:
        """One token from every bucket in ``limits`` (all or none); None when taken."""
        [answer] = await self.take_each([limits])
        return answer

    async def take_each(self, calls: Sequence[Sequence[Limit]]) -> list[Denied | None]:
        """``take`` for each call, in order, in one round trip."""
        names: list[str] = []
        args: list[str | float | int] = [len(calls)]
        for limits in calls:
            names += [keys.send_bucket(limit.method, limit.scope) for limit in limits]
            names += [keys.send_blocked(limit.method, limit.scope) for limit in limits]
            args.append(len(limits))
            for limit in limits:
                rate = limit.rate
                args += [rate.per_second / 1000, rate.burst, rate.refill_ms + keys.SEND_BUCKET_MARGIN_MS]
        flat = await self._call(self._take(keys=names, args=args)) if calls else []
        answers: list[Denied | None] = []
        for limits, wait_ms, denied in zip(calls, flat[::2], flat[1::2], strict=True):
            answers.append(None if int(denied) == 0 else Denied(int(wait_ms) / 1000, limits[int(denied) - 1]))
        return answers

    async def block(self, limit: Limit, seconds: float) -> None:
        """Nobody takes from ``limit`` for ``seconds`` (Slack's Retry-After), and its bucket starts again empty."""
        block_ms = max(1, math.ceil(seconds * 1000))
        ttl_ms = block_ms + limit.rate.refill_ms + keys.SEND_BUCKET_MARGIN_MS
        flags = [keys.send_blocked(limit.method, limit.scope), keys.send_bucket(limit.method, limit.scope)]
        await self._call(self._block(keys=flags, args=[block_ms, ttl_ms]))
