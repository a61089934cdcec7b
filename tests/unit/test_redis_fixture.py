"""The Redis fixture gives every test a real, empty database."""

from __future__ import annotations

import redis.asyncio as aioredis


async def test_redis_is_real_and_starts_empty(redis: aioredis.Redis) -> None:
    assert await redis.dbsize() == 0
    await redis.set("deploybot:probe", "1", ex=30)
    assert await redis.get("deploybot:probe") == b"1"
    assert await redis.ttl("deploybot:probe") > 0


async def test_the_next_test_sees_no_keys_from_the_last(redis: aioredis.Redis) -> None:
    assert await redis.get("deploybot:probe") is None
