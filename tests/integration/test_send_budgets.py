"""The outbox's shared budgets in a real Redis: atomic across replicas, all-or-nothing, 429 blocks, keys expire,
and the fall-back to local budgets while Redis is away."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis.asyncio as aioredis

from bot.errors import StoreUnavailable
from bot.outbox import Budgets
from bot.outbox.budget import REDIS_RETRY_SECONDS, BudgetKeeper
from bot.outbox.queue import Call, Priority
from bot.render.message import Message
from bot.store import keys
from bot.store.budgets import Limit, Rate, SendBudgets
from tests.conftest import free_port
from tests.integration.redis_server import RedisServer

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


async def test_several_calls_asked_at_once_are_served_in_order_and_share_their_buckets(redis: aioredis.Redis) -> None:
    budgets = SendBudgets(redis)
    other = Limit("chat.postMessage", "C2", Rate(100.0, 100))
    update = Limit("chat.update", "workspace", Rate(1.0, 1))
    calls = [[CHANNEL, WORKSPACE]] * 4 + [[other, WORKSPACE]] * 18 + [[update], [update]]
    answers = await budgets.take_each(calls)
    # C1's burst of 3 goes to the first three; the fourth is refused by C1 and takes nothing from the workspace,
    # so 17 of C2's calls fit in the workspace's 20; the first update takes the only token, the second waits.
    assert [a is None for a in answers[:4]] == [True, True, True, False]
    assert answers[3] is not None
    assert answers[3].limit == CHANNEL
    assert [a is None for a in answers[4:22]] == [True] * 17 + [False]
    assert answers[21] is not None
    assert answers[21].limit == WORKSPACE
    assert [a is None for a in answers[22:]] == [True, False]
    assert await budgets.take([CHANNEL]) is not None  # what the batch took is gone for the next caller too
    assert await budgets.take_each([]) == []


async def test_unbounded_budgets_let_a_whole_batch_into_one_channel(redis: aioredis.Redis) -> None:
    """``DEPLOYBOT_SLACK_BUDGETS=off``: every post of a batch into one channel is taken in the one round trip (with
    the shipped burst of 3, only 3 are), and so are edits; yet a 429's block still holds its bucket."""
    budgets, unbounded = SendBudgets(redis), Budgets.unbounded()
    post = Call("chat.postMessage", "C1", Message("hi"), Priority.PROGRESS, 0, thread_ts="1.1")
    edit = Call("chat.update", "C1", Message("hi"), Priority.PROGRESS, 1, ts="1.1")
    assert await budgets.take_each([unbounded.limits(post)] * 500 + [unbounded.limits(edit)] * 500) == [None] * 1000
    await budgets.block(unbounded.limits(post)[0], 5)
    assert await budgets.take(unbounded.limits(post)) is not None


async def test_a_blocked_budget_refuses_its_calls_in_a_batch_and_not_the_others(redis: aioredis.Redis) -> None:
    budgets = SendBudgets(redis)
    await budgets.block(CHANNEL, 5)
    other = Limit("chat.postMessage", "C2", Rate(1.0, 3))
    answers = await budgets.take_each([[CHANNEL, WORKSPACE], [other, WORKSPACE]])
    assert answers[0] is not None
    assert answers[0].limit == CHANNEL
    assert 4 < answers[0].wait <= 5
    assert answers[1] is None


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


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_keeper_goes_local_while_redis_is_away_and_back_when_it_returns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    server = RedisServer(free_port())
    client = aioredis.Redis.from_url(server.url, socket_connect_timeout=1, socket_timeout=1)
    keeper = BudgetKeeper(client, clock)
    try:
        with caplog.at_level(logging.INFO, logger="bot.outbox.budget"):
            # No Redis yet: the local bucket starts empty and refills by the injected clock.
            assert await keeper.take([CHANNEL]) is not None
            assert not keeper.shared
            clock.now += 3.0
            assert [await keeper.take([CHANNEL]) for _ in range(4)].count(None) == 3
            assert not keeper.shared

            await server.start()
            # Redis is not asked again before its retry time: the answer is local (a bucket this process never
            # used starts empty), where Redis, with no bucket yet, would have said yes.
            assert await keeper.take([WORKSPACE]) is not None
            assert not keeper.shared
            clock.now += REDIS_RETRY_SECONDS
            assert await keeper.take([WORKSPACE]) is None  # then it is, and answers
            assert keeper.shared
            assert await client.exists(keys.send_bucket("chat.postMessage", "workspace"))
    finally:
        await client.aclose()
        await server.stop()
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "Redis is unreachable: the Slack outbox keeps sending on this replica's own budgets",
        "Redis is back: the Slack outbox shares its budgets with the other replicas again",
    ]
