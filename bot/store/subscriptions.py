"""Channel subscriptions (``/deploy subscribe``) and where discovery left off in each organization's deployments."""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.store import keys
from bot.store.core import redis_call


@dataclass(frozen=True)
class Subscription:
    channel: str
    pattern: str  # org/project/stack with fnmatch globs
    events: tuple[str, ...]

    def matches(self, stack: str) -> bool:
        return fnmatch.fnmatchcase(stack, self.pattern)

    @property
    def org(self) -> str | None:
        """The organization the pattern names literally (None when it is a glob)."""
        org = self.pattern.split("/", 1)[0]
        return None if any(c in org for c in "*?[") else org


@dataclass(frozen=True)
class Mark:
    """Discovery's place in an organization's deployment list: the newest ``created`` seen and the ids seen then."""

    created: str
    ids: tuple[str, ...]


class Subscriptions:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def add(self, subscription: Subscription) -> bool:
        """Subscribe (or change the events of an existing subscription); True when it is new."""
        field = f"{subscription.channel}\t{subscription.pattern}"
        created = await redis_call(self.redis.hset(keys.SUBSCRIPTIONS, field, ",".join(subscription.events)))
        return bool(created)

    async def remove(self, channel: str, pattern: str) -> bool:
        return bool(await redis_call(self.redis.hdel(keys.SUBSCRIPTIONS, f"{channel}\t{pattern}")))

    async def all(self) -> list[Subscription]:
        raw = await redis_call(self.redis.hgetall(keys.SUBSCRIPTIONS))
        found = []
        for field, events in raw.items():
            channel, _, pattern = _text(field).partition("\t")
            found.append(Subscription(channel, pattern, tuple(_text(events).split(","))))
        return sorted(found, key=lambda s: (s.channel, s.pattern))

    async def of_channel(self, channel: str) -> list[Subscription]:
        return [s for s in await self.all() if s.channel == channel]

    async def mark(self, org: str) -> Mark | None:
        raw = await redis_call(self.redis.get(keys.discovery(org)))
        if raw is None:
            return None
        data = json.loads(raw)
        return Mark(created=str(data["created"]), ids=tuple(data["ids"]))

    async def set_mark(self, org: str, mark: Mark) -> None:
        body = json.dumps({"created": mark.created, "ids": list(mark.ids)})
        await redis_call(self.redis.set(keys.discovery(org), body))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
