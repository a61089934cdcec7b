"""Watches: what has been reported of each deployment, and when it is next due — shared by every bot replica.

A watch is claimed with a lease: the claim moves its due time to the end of the lease, a *token* only the claimer
knows. Others skip it until the lease runs out (then it is due again: a dead replica's watches are taken over).
Every write the claimer makes is fenced by that token, so a replica that overslept its lease cannot overwrite the
newer state of the replica that took over.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Literal, TypeVar

import redis.asyncio as aioredis
from pydantic import Field
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.errors import StoreUnavailable
from bot.store import keys
from bot.store.core import Record

T = TypeVar("T")

# Returns the due ids and moves each to its lease end (+ a random fraction: the token) in one step.
_CLAIM = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local token = tostring(tonumber(ARGV[2]) + math.random(0, 999) / 1000)
  redis.call('ZADD', KEYS[1], token, id)
  table.insert(out, id)
  table.insert(out, token)
end
return out
"""
# ARGV: id, token, watch json, ttl seconds, next score ("" keeps the lease; "retire" removes it from the schedule)
_SAVE = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3], 'EX', tonumber(ARGV[4])) end
if ARGV[5] == 'retire' then
  redis.call('ZREM', KEYS[1], ARGV[1])
elseif ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[1], ARGV[5], ARGV[1])
end
return 1
"""


class Watch(Record):
    """A deployment being followed, and what its followers have been told."""

    deployment_id: str
    stack: str  # org/project/stack
    version: int
    operation: str = "deployment"
    mode: Literal["thread", "notify"] = "thread"  # thread: a parent message in a channel; notify: subscriptions only
    status: str | None = None  # the status last shown
    steps: dict[str, str] = Field(default_factory=dict)  # "job.step" -> status last reported in the thread
    final: bool = False  # the outcome has been reported
    notified: dict[str, list[str]] = Field(default_factory=dict)  # channel -> events already sent there
    since: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Lost(Exception):
    """The lease ran out and another replica owns the watch now; stop working on it."""


class Watches:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._claim = redis.register_script(_CLAIM)
        self._save = redis.register_script(_SAVE)

    async def _call(self, operation: Awaitable[T]) -> T:
        try:
            return await operation
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise StoreUnavailable("the state store (Redis) is unavailable") from exc

    async def add(self, watch: Watch, due_ms: float) -> bool:
        """Start following a deployment (due at ``due_ms``); False when it is followed already."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.watch(watch.deployment_id), watch.model_dump_json(), ex=keys.WATCH_TTL, nx=True)
            pipe.zadd(keys.WATCHES, {watch.deployment_id: due_ms}, nx=True)
            created, _ = await self._call(pipe.execute())
        return bool(created)

    async def get(self, deployment_id: str) -> Watch | None:
        raw = await self._call(self.redis.get(keys.watch(deployment_id)))
        return None if raw is None else Watch.model_validate_json(raw)

    async def claim(self, now_ms: float, lease_ms: float, limit: int) -> list[tuple[Watch, str]]:
        """Up to ``limit`` due watches with their lease tokens; each is hidden from other replicas for the lease."""
        flat = await self._call(self._claim(keys=[keys.WATCHES], args=[now_ms, now_ms + lease_ms, limit]))
        pairs = [(_text(flat[i]), _text(flat[i + 1])) for i in range(0, len(flat), 2)]
        if not pairs:
            return []
        raws = await self._call(self.redis.mget([keys.watch(i) for i, _ in pairs]))
        claimed = []
        for (deployment_id, token), raw in zip(pairs, raws, strict=True):
            if raw is None:  # expired or dropped: nothing left to report
                await self._call(self.redis.zrem(keys.WATCHES, deployment_id))
                continue
            claimed.append((Watch.model_validate_json(raw), token))
        return claimed

    async def save(self, watch: Watch, token: str, *, finished: bool = False) -> None:
        """Record what was reported, keeping the lease. Raises Lost if the lease is no longer ours."""
        ttl = keys.FINISHED_WATCH_TTL if finished else keys.WATCH_TTL
        await self._fenced(watch.deployment_id, token, watch.model_dump_json(), ttl, "")

    async def reschedule(self, deployment_id: str, token: str, due_ms: float) -> None:
        await self._fenced(deployment_id, token, "", 0, repr(due_ms))

    async def retire(self, deployment_id: str, token: str) -> None:
        """Stop polling a finished deployment; its record stays for a day (buttons still find it)."""
        await self._fenced(deployment_id, token, "", 0, "retire")

    async def renew(self, deployment_id: str, token: str, lease_until_ms: float) -> str:
        """Extend the lease of a long poll; returns the new token."""
        new_token = repr(lease_until_ms + random.randrange(1000) / 1000)
        await self._fenced(deployment_id, token, "", 0, new_token)
        return new_token

    async def _fenced(self, deployment_id: str, token: str, body: str, ttl: int, score: str) -> None:
        args: list[str | int] = [deployment_id, token, body, ttl, score]
        if not await self._call(self._save(keys=[keys.WATCHES, keys.watch(deployment_id)], args=args)):
            raise Lost(deployment_id)

    async def pending(self) -> int:
        """How many deployments are being followed."""
        return int(await self._call(self.redis.zcard(keys.WATCHES)))

    async def next_due_ms(self) -> float | None:
        first = await self._call(self.redis.zrange(keys.WATCHES, 0, 0, withscores=True))
        return float(first[0][1]) if first else None

    async def beat(self, replica: str, ttl_seconds: float) -> None:
        """This replica's watcher finished a round; the key lapses if it stops finishing them."""
        await self._call(self.redis.set(keys.watcher_heartbeat(replica), "1", px=max(int(ttl_seconds * 1000), 1)))

    async def alive(self, replica: str) -> bool:
        return bool(await self._call(self.redis.exists(keys.watcher_heartbeat(replica))))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
