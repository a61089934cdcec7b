"""The Redis store against a real Redis: dedupe across replicas, records with TTLs, one winner per confirmation."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from bot.errors import StoreUnavailable
from bot.store import Confirmation, DeploymentRecord, Store, ViewState, open_store
from tests.conftest import free_port


async def test_a_delivery_is_handled_once_even_by_two_replicas(redis: aioredis.Redis, redis_url: str) -> None:
    async with open_store(redis_url) as other_replica:
        store = Store(redis)
        results = await asyncio.gather(*(s.first_delivery("trigger", "t-1") for s in [store, other_replica] * 5))
    assert sorted(results) == [False] * 9 + [True]
    assert await Store(redis).first_delivery("trigger", "t-2") is True
    assert await Store(redis).first_delivery("event", "t-1") is True  # kinds do not collide
    assert 0 < await redis.ttl("deploybot:seen:trigger:t-1") <= 24 * 3600


async def test_deployment_records_round_trip_and_expire(redis: aioredis.Redis) -> None:
    store = Store(redis)
    record = DeploymentRecord(
        deployment_id="d-1", stack="acme/web/dev", operation="update", version=3, requested_by="U1", channel="C1"
    )
    await store.save_deployment(record)
    assert await store.deployment("d-1") == record
    assert await store.deployment("d-2") is None
    assert await redis.ttl("deploybot:deployment:d-1") > 29 * 24 * 3600


async def test_views_are_kept_for_the_life_of_a_response_url(redis: aioredis.Redis) -> None:
    store = Store(redis)
    view_id = await store.save_view(ViewState(kind="list", user="U1", params={"stack": "acme/web/dev", "page": 2}))
    view = await store.view(view_id)
    assert view is not None
    assert view.params == {"stack": "acme/web/dev", "page": 2}
    assert 0 < await redis.ttl(f"deploybot:view:{view_id}") <= 30 * 60


async def test_of_twenty_concurrent_confirms_exactly_one_wins(redis: aioredis.Redis) -> None:
    store = Store(redis)
    confirm_id = await store.save_confirmation(
        Confirmation(action="cancel", user="U1", channel="C1", stack="acme/web/dev", deployment_id="d-1")
    )
    taken = await asyncio.gather(*(store.take_confirmation(confirm_id) for _ in range(20)))
    winners = [c for c in taken if c is not None]
    assert len(winners) == 1
    assert winners[0].deployment_id == "d-1"


async def test_redis_down_is_store_unavailable() -> None:
    async with open_store(f"redis://127.0.0.1:{free_port()}/0") as store:
        with pytest.raises(StoreUnavailable, match="unavailable"):
            await store.first_delivery("trigger", "t-1")
