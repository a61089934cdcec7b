"""Watches: what has been reported of each deployment, and when it is next due — shared by every bot replica.

A due watch is claimed with a lease: a key only the claimer's token opens, with a TTL of a few poll intervals.
Others skip it while the lease lives; a dead replica's watches are taken over when its leases expire. Every write
the claimer makes is fenced by the token, so a replica that overslept its lease cannot overwrite the newer state of
the replica that took over. A webhook can *poke* a watch: it becomes due now, or right after the current poll.
(Redis Cluster is not supported: the scripts touch keys they compute.)
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Literal

import redis.asyncio as aioredis
from pydantic import Field

from bot.store import keys
from bot.store.core import Record, redis_call

# KEYS: schedule. ARGV: now ms, lease ms, token prefix, lease key prefix, limit, then ids (none: the first ``limit``
# due ones). Leases each of those watches that is due and free; returns id, token pairs.
_CLAIM = """
local ids = {}
for i = 6, #ARGV do ids[#ids + 1] = ARGV[i] end
if #ids == 0 then
  ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[5]))
end
local out = {}
for n, id in ipairs(ids) do
  local due = redis.call('ZSCORE', KEYS[1], id)
  local token = ARGV[3] .. ':' .. n
  if due and tonumber(due) <= tonumber(ARGV[1])
      and redis.call('SET', ARGV[4] .. id, token, 'NX', 'PX', tonumber(ARGV[2])) then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), id)
    out[#out + 1] = id
    out[#out + 1] = token
  end
end
return out
"""
# KEYS: schedule. ARGV: now ms, poke ttl ms, lease and poke key prefixes, then ids. Each followed id is due now;
# one being polled (leased) is poked instead, without overwriting a webhook's poke: its poll's reschedule makes it
# due at once. (Making a leased watch due now would put it ahead of the due ones a claim can take, and a claim's
# LIMIT would stop at it.)
_HURRY = """
for i = 5, #ARGV do
  local id = ARGV[i]
  if redis.call('ZSCORE', KEYS[1], id) then
    if redis.call('EXISTS', ARGV[3] .. id) == 1 then
      redis.call('SET', ARGV[4] .. id, 's', 'NX', 'PX', tonumber(ARGV[2]))
    else
      redis.call('ZADD', KEYS[1], 'LT', ARGV[1], id)
    end
  end
end
return 0
"""
# KEYS: schedule, lease, watch, poke. ARGV: id, token, watch json ('' = unchanged), ttl s, action, due ms, lease ms.
# action: keep (save only) | renew (extend the lease) | due (release, next poll at ARGV[6]) | retire (release, done)
# Returns 0 when the lease is not ARGV[2]'s; for 'due', 2 when it found a webhook's poke, 3 when it found a
# snapshot's (either way the watch is due at once); else 1.
_FENCED = """
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
if ARGV[3] ~= '' then redis.call('SET', KEYS[3], ARGV[3], 'EX', tonumber(ARGV[4])) end
if ARGV[5] == 'renew' then
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[7]))
  redis.call('ZADD', KEYS[1], ARGV[6], ARGV[1])
elseif ARGV[5] == 'due' then
  local poke = redis.call('GET', KEYS[4])
  redis.call('DEL', KEYS[2], KEYS[4])
  redis.call('ZADD', KEYS[1], poke and '0' or ARGV[6], ARGV[1])
  if poke == 's' then return 3 end
  if poke then return 2 end
elseif ARGV[5] == 'retire' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('DEL', KEYS[2], KEYS[4])
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
    seen: datetime | None = None  # the deployment's ``modified`` when the thread last changed
    since: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Lost(Exception):
    """The lease ran out and another replica owns the watch now; stop working on it."""


class Watches:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._claim = redis.register_script(_CLAIM)
        self._fenced_script = redis.register_script(_FENCED)
        self._hurry = redis.register_script(_HURRY)

    async def add(self, watch: Watch, due_ms: float) -> bool:
        """Start following a deployment (due at ``due_ms``); False when it is followed already."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.watch(watch.deployment_id), watch.model_dump_json(), ex=keys.WATCH_TTL, nx=True)
            pipe.zadd(keys.WATCHES, {watch.deployment_id: due_ms}, nx=True)
            pipe.set(keys.watch_version(watch.stack, watch.version), watch.deployment_id, ex=keys.WATCH_TTL)
            created, _, _ = await redis_call(pipe.execute())
        return bool(created)

    async def find(self, stack: str, version: int) -> str | None:
        """The id of a watched deployment, by its stack (org/project/stack) and version — what a webhook names."""
        [found] = await self.find_each([(stack, version)])
        return found

    async def find_each(self, versions: list[tuple[str, int]]) -> list[str | None]:
        """``find`` for each (stack, version), in one round trip."""
        if not versions:
            return []
        raws = await redis_call(self.redis.mget([keys.watch_version(stack, version) for stack, version in versions]))
        return [None if raw is None else _text(raw) for raw in raws]

    async def get(self, deployment_id: str) -> Watch | None:
        raw = await redis_call(self.redis.get(keys.watch(deployment_id)))
        return None if raw is None else Watch.model_validate_json(raw)

    async def claim(self, now_ms: float, lease_ms: float, limit: int) -> list[tuple[Watch, str]]:
        """Up to ``limit`` due watches, each with the token of the lease this replica now holds on it."""
        args: list[str | int | float] = [now_ms, int(lease_ms), secrets.token_hex(6), keys.lease(""), limit]
        return await self._leased(await redis_call(self._claim(keys=[keys.WATCHES], args=args)))

    async def claim_due(
        self, deployment_ids: Collection[str], now_ms: float, lease_ms: float
    ) -> list[tuple[Watch, str]]:
        """Lease those of these watches that are due and that nobody holds (poked watches, polled at once), in one
        round trip; each with its token."""
        if not deployment_ids:
            return []
        args: list[str | int | float] = [now_ms, int(lease_ms), secrets.token_hex(6), keys.lease(""), 0]
        args += deployment_ids
        return await self._leased(await redis_call(self._claim(keys=[keys.WATCHES], args=args)))

    async def _leased(self, flat: list[bytes | str]) -> list[tuple[Watch, str]]:
        """The watches a claim script leased (id, token pairs), read; one that expired meanwhile is retired."""
        pairs = [(_text(flat[i]), _text(flat[i + 1])) for i in range(0, len(flat), 2)]
        if not pairs:
            return []
        raws = await redis_call(self.redis.mget([keys.watch(i) for i, _ in pairs]))
        claimed = []
        for (deployment_id, token), raw in zip(pairs, raws, strict=True):
            if raw is None:  # expired or dropped: nothing left to report
                await self.retire(deployment_id, token)
                continue
            claimed.append((Watch.model_validate_json(raw), token))
        return claimed

    async def save(self, watch: Watch, token: str, *, finished: bool = False) -> None:
        """Record what was reported, keeping the lease. Raises Lost if the lease is no longer ours."""
        ttl = keys.FINISHED_WATCH_TTL if finished else keys.WATCH_TTL
        await self._fenced(watch.deployment_id, token, "keep", body=watch.model_dump_json(), ttl=ttl)

    async def reschedule(
        self, deployment_id: str, token: str, due_ms: float, *, watch: Watch | None = None
    ) -> Literal["poke", "snapshot"] | None:
        """Release the lease (recording ``watch`` too, when given, in the same call); the next poll is due at
        ``due_ms`` — or at once if it was poked meanwhile, and then this says by what: a webhook (``"poke"``) or a
        snapshot that saw it change (``"snapshot"``)."""
        body = watch.model_dump_json() if watch is not None else ""
        outcome = await self._fenced(deployment_id, token, "due", body=body, ttl=keys.WATCH_TTL, due_ms=due_ms)
        return "poke" if outcome == 2 else "snapshot" if outcome == 3 else None

    async def retire(self, deployment_id: str, token: str, *, watch: Watch | None = None) -> None:
        """Stop polling a finished deployment, recording ``watch`` too when given; its record stays for a day
        (buttons still find it)."""
        body = watch.model_dump_json() if watch is not None else ""
        await self._fenced(deployment_id, token, "retire", body=body, ttl=keys.FINISHED_WATCH_TTL)

    async def renew(self, deployment_id: str, token: str, now_ms: float, lease_ms: float) -> None:
        """Extend the lease of a long poll."""
        await self._fenced(deployment_id, token, "renew", due_ms=now_ms + lease_ms, lease_ms=lease_ms)

    async def poke(self, deployment_id: str, now_ms: float) -> bool:
        """Make a watch due now (a webhook said it changed); False when the deployment is not followed."""
        return deployment_id in await self.poke_each([deployment_id], now_ms)

    async def poke_each(self, deployment_ids: Collection[str], now_ms: float) -> set[str]:
        """``poke`` for each, in one round trip (two when some are not followed); the ones that are followed."""
        if not deployment_ids:
            return set()
        ids = list(deployment_ids)
        async with self.redis.pipeline(transaction=True) as pipe:
            for deployment_id in ids:
                pipe.zadd(keys.WATCHES, {deployment_id: now_ms}, xx=True, lt=True)
                pipe.zscore(keys.WATCHES, deployment_id)
                pipe.set(keys.poke(deployment_id), "1", px=keys.POKE_TTL_MS)
            answers = await redis_call(pipe.execute())
        scores = answers[1::3]
        unknown = [keys.poke(i) for i, score in zip(ids, scores, strict=True) if score is None]
        if unknown:
            await redis_call(self.redis.delete(*unknown))
        return {i for i, score in zip(ids, scores, strict=True) if score is not None}

    async def bring_forward(self, deployment_ids: Collection[str], due_ms: float) -> None:
        """Make followed deployments due at ``due_ms`` at the latest (those due sooner stay so); others are left
        alone. One being polled is rescheduled by its poll as usual."""
        if deployment_ids:
            await redis_call(self.redis.zadd(keys.WATCHES, dict.fromkeys(deployment_ids, due_ms), xx=True, lt=True))

    async def hurry(self, deployment_ids: Collection[str], now_ms: float) -> None:
        """Make followed deployments due now (a snapshot saw them change); others are left alone. One being polled
        keeps its lease, and its poll's reschedule makes it due at once again: that poll may have read the
        deployment before the change."""
        if deployment_ids:
            args: list[str | int | float] = [now_ms, keys.POKE_TTL_MS, keys.lease(""), keys.poke(""), *deployment_ids]
            await redis_call(self._hurry(keys=[keys.WATCHES], args=args))

    async def _fenced(
        self, deployment_id: str, token: str, action: str, *, body: str = "", ttl: int = 0, due_ms: float = 0,
        lease_ms: float = 0,
    ) -> int:  # fmt: skip
        names = [keys.WATCHES, keys.lease(deployment_id), keys.watch(deployment_id), keys.poke(deployment_id)]
        args: list[str | int | float] = [deployment_id, token, body, ttl, action, due_ms, int(lease_ms)]
        outcome = int(await redis_call(self._fenced_script(keys=names, args=args)))
        if not outcome:
            raise Lost(deployment_id)
        return outcome

    async def pending(self) -> int:
        """How many deployments are being followed."""
        return int(await redis_call(self.redis.zcard(keys.WATCHES)))

    async def next_due_ms(self) -> float | None:
        first = await redis_call(self.redis.zrange(keys.WATCHES, 0, 0, withscores=True))
        return float(first[0][1]) if first else None

    async def beat(self, replica: str, ttl_seconds: float) -> None:
        """This replica's watcher finished a round; the key lapses if it stops finishing them."""
        await redis_call(self.redis.set(keys.watcher_heartbeat(replica), "1", px=max(int(ttl_seconds * 1000), 1)))

    async def alive(self, replica: str) -> bool:
        return bool(await redis_call(self.redis.exists(keys.watcher_heartbeat(replica))))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
