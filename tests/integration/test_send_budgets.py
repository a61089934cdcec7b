"""The outbox's shared budgets in a real Redis: atomic across replicas, all-or-nothing, 429 blocks, keys expire."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from bot.errors import StoreUnavailable
from bot.store import keys
from bot.store.budgets import Limit, Rate, SendBudgets
from tests.conftest import free_port

CHANNEL = Limit("chat.postMessage", "C1", Rate(1.0, 3))
WORKSPACE = Limit("chat.postMessage", "workspace", Rate(5.0, 20))


async def test_replicas_racing_for_one_bucket_get_exactly_its_burst(redis: aioredis.Redis, redis_url: str) -> None:
    other = aioredis.Redis.from_url(redis_url)
    try:
        replicas = [SendBudgets(redis), SendBudgets(other)]
        answers = await asyncio.gather(*(replicas[n % 2].take([CHANNEL]) for n in range(40)))
    finally:
        await other.aclose()
    refusals = [answer for answer in answers if answer is not None]
    assert len(answers) - len(refusals) == 3
    assert all(denied.limit == CHANNEL and 0 < denied.wait <= 1.0 for denied in refusals)


async def test_a_refused_call_takes_nothing_from_the_other_buckets(redis: aioredis.Redis) -> None:
    budgets = SendBudgets(redis)
    for _ in range(3):
        assert await budgets.take([CHANNEL, WORKSPACE]) is None
    denied = await budgets.take([CHANNEL, WORKSPACE])
    assert denied is not None
    assert denied.limit == CHANNEL
    other_channel = Limit("chat.postMessage", "C2", Rate(100.0, 100))
    granted = [await budgets.take([other_channel, WORKSPACE]) for _ in range(20)]
    assert granted.count(None) == 17  # 20 - the 3 posts in C1; the refused fourth took nothing


async def test_a_block_refuses_everyone_for_retry_after_then_the_bucket_refills_from_empty(
    redis: aioredis.Redis,
) -> None:
    budgets = SendBudgets(redis)
    await budgets.block(CHANNEL, 0.2)
    await budgets.block(CHANNEL, 0.05)  # a shorter block does not shorten the longer one
    denied = await budgets.take([CHANNEL, WORKSPACE])
    assert denied is not None
    assert denied.limit == CHANNEL
    assert 0.1 < denied.wait <= 0.2
    assert await budgets.take([WORKSPACE]) is None  # only the blocked scope waits
    await asyncio.sleep(denied.wait)  # what the budget says
    after = await budgets.take([CHANNEL])
    assert after is not None  # Slack's bucket is empty after a 429: ours starts again from empty, not full
    assert 0.5 < after.wait <= 1.0


async def test_budget_keys_expire(redis: aioredis.Redis) -> None:
    budgets = SendBudgets(redis)
    await budgets.take([CHANNEL])
    bucket = keys.send_bucket("chat.postMessage", "C1")
    assert 0 < await redis.pttl(bucket) <= CHANNEL.rate.refill_ms + keys.SEND_BUCKET_MARGIN_MS
    await budgets.block(CHANNEL, 2)
    assert 1000 < await redis.pttl(keys.send_blocked("chat.postMessage", "C1")) <= 2000
    assert await redis.pttl(bucket) > 2000


async def test_redis_down_is_store_unavailable() -> None:
    nowhere = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    try:
        with pytest.raises(StoreUnavailable, match="unavailable"):
            await SendBudgets(nowhere).take([CHANNEL])
    finally:
        await nowhere.aclose()
