"""Watches in a real Redis: one claimer at a time across replicas, takeover after a lease runs out, fenced writes,
and pokes that are never lost."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from bot.store import keys
from bot.store.watches import Lost, Watch, Watches


def watch(n: int = 1) -> Watch:
    return Watch(deployment_id=f"d-{n}", stack="acme/web/dev", version=n)


async def test_each_due_watch_is_claimed_by_exactly_one_replica(redis: aioredis.Redis, redis_url: str) -> None:
    replicas = [Watches(aioredis.Redis.from_url(redis_url)) for _ in range(4)]
    for n in range(50):
        await replicas[0].add(watch(n), due_ms=1000)
    claims = await asyncio.gather(*(r.claim(now_ms=2000, lease_ms=30_000, limit=20) for r in replicas * 3))
    claimed = [w.deployment_id for batch in claims for w, _ in batch]
    assert sorted(claimed) == sorted(f"d-{n}" for n in range(50))
    for replica in replicas:
        await replica.redis.aclose()


async def test_nothing_is_claimed_before_it_is_due_or_while_leased(redis: aioredis.Redis) -> None:
    watches = Watches(redis)
    await watches.add(watch(), due_ms=5000)
    assert await watches.claim(now_ms=4999, lease_ms=30_000, limit=10) == []
    [(claimed, _)] = await watches.claim(now_ms=5000, lease_ms=30_000, limit=10)
    assert claimed.deployment_id == "d-1"
    assert await watches.claim(now_ms=6000, lease_ms=30_000, limit=10) == []


async def test_a_dead_replicas_watch_is_taken_over_and_its_late_writes_are_refused(redis: aioredis.Redis) -> None:
    watches = Watches(redis)
    await watches.add(watch(), due_ms=0)
    [(_, old_token)] = await watches.claim(now_ms=1, lease_ms=50, limit=10)  # the replica that will "die"
    await asyncio.sleep(0.08)  # the lease (a Redis TTL) runs out
    [(_, new_token)] = await watches.claim(now_ms=100, lease_ms=30_000, limit=10)
    with pytest.raises(Lost):
        await watches.save(watch().model_copy(update={"final": True}), old_token)
    await watches.save(watch().model_copy(update={"status": "running"}), new_token)
    stored = await watches.get("d-1")
    assert stored is not None
    assert stored.status == "running"
    assert stored.final is False


async def test_a_renewed_lease_outlives_its_first_term(redis: aioredis.Redis) -> None:
    watches = Watches(redis)
    await watches.add(watch(), due_ms=0)
    [(_, token)] = await watches.claim(now_ms=1, lease_ms=60, limit=10)
    await watches.renew("d-1", token, now_ms=2, lease_ms=30_000)
    await asyncio.sleep(0.1)
    assert await watches.claim(now_ms=200, lease_ms=30_000, limit=10) == []
    await watches.save(watch(), token)  # still ours


async def test_reschedule_releases_and_retire_forgets(redis: aioredis.Redis) -> None:
    watches = Watches(redis)
    await watches.add(watch(), due_ms=0)
    [(_, token)] = await watches.claim(now_ms=1, lease_ms=30_000, limit=10)
    assert await watches.reschedule("d-1", token, due_ms=10) is None  # not poked
    [(_, token)] = await watches.claim(now_ms=10, lease_ms=30_000, limit=10)
    await watches.retire("d-1", token)
    assert await watches.claim(now_ms=10**13, lease_ms=30_000, limit=10) == []
    assert await watches.pending() == 0
    assert await watches.get("d-1") is not None  # kept for the buttons, with a TTL
    assert await redis.ttl("deploybot:watch:d-1") > 0


async def test_reschedule_and_retire_record_what_a_poll_reported_in_the_same_call(redis: aioredis.Redis) -> None:
    watches = Watches(redis)
    await watches.add(watch(), due_ms=0)
    [(_, token)] = await watches.claim(now_ms=1, lease_ms=30_000, limit=10)
    await watches.reschedule("d-1", token, due_ms=10, watch=watch().model_copy(update={"status": "running"}))
    stored = await watches.get("d-1")
    assert stored is not None
    assert stored.status == "running"
    [(_, token)] = await watches.claim(now_ms=10, lease_ms=30_000, limit=10)
    with pytest.raises(Lost):  # a lease that is not ours records nothing
        await watches.retire("d-1", "stale", watch=watch().model_copy(update={"final": True}))
    await watches.retire("d-1", token, watch=watch().model_copy(update={"status": "succeeded", "final": True}))
    stored = await watches.get("d-1")
    assert stored is not None
    assert (stored.status, stored.final) == ("succeeded", True)
    assert await watches.pending() == 0
    assert 0 < await redis.ttl("deploybot:watch:d-1") <= keys.FINISHED_WATCH_TTL


async def test_a_poke_makes_a_watch_due_now_even_while_it_is_being_polled(redis: aioredis.Redis) -> None:
    watches = Watches(redis)
    await watches.add(watch(), due_ms=0)
    [(_, token)] = await watches.claim(now_ms=1, lease_ms=30_000, limit=10)
    assert await watches.poke("d-1", now_ms=2) is True  # arrives mid-poll
    assert await watches.reschedule("d-1", token, due_ms=10**12) == "poke"  # the poller asks for a later poll…
    assert [w.deployment_id for w, _ in await watches.claim(now_ms=3, lease_ms=30_000, limit=10)] == ["d-1"]  # …no
    assert await watches.poke("d-404", now_ms=2) is False


async def test_a_snapshots_hurry_makes_idle_watches_due_and_marks_the_ones_being_polled(
    redis: aioredis.Redis,
) -> None:
    watches = Watches(redis)
    for name in ("d-1", "d-2"):
        await watches.add(watch().model_copy(update={"deployment_id": name}), due_ms=0)
    [(_, token)] = await watches.claim(now_ms=1, lease_ms=30_000, limit=1)  # d-1 is being polled
    await watches.reschedule("d-2", (await watches.claim(now_ms=1, lease_ms=30_000, limit=1))[0][1], due_ms=10**12)
    await watches.hurry({"d-1", "d-2", "d-404"}, now_ms=5)
    # d-2 is due now; d-1 keeps its lease and is not at the head of the schedule (a claim would stop at it)...
    assert [w.deployment_id for w, _ in await watches.claim(now_ms=5, lease_ms=30_000, limit=1)] == ["d-2"]
    # ...and its poll's reschedule makes it due at once, telling the poller a snapshot asked.
    assert await watches.reschedule("d-1", token, due_ms=10**12) == "snapshot"
    assert [w.deployment_id for w, _ in await watches.claim(now_ms=6, lease_ms=30_000, limit=10)] == ["d-1"]
    assert await redis.exists("deploybot:watch:d-404") == 0  # an unfollowed deployment is left alone
    assert await watches.pending() == 2


async def test_a_webhooks_poke_is_not_overwritten_by_a_snapshots(redis: aioredis.Redis) -> None:
    watches = Watches(redis)
    await watches.add(watch(), due_ms=0)
    [(_, token)] = await watches.claim(now_ms=1, lease_ms=30_000, limit=10)
    await watches.poke("d-1", now_ms=2)
    await watches.hurry({"d-1"}, now_ms=3)
    assert await watches.reschedule("d-1", token, due_ms=10**12) == "poke"  # still read alone, as a poke is


async def test_adding_twice_keeps_the_first(redis: aioredis.Redis) -> None:
    watches = Watches(redis)
    assert await watches.add(watch(), due_ms=0) is True
    assert await watches.add(watch().model_copy(update={"mode": "notify"}), due_ms=0) is False
    stored = await watches.get("d-1")
    assert stored is not None
    assert stored.mode == "thread"


async def test_poked_watches_are_claimed_only_when_due_and_free(redis: aioredis.Redis) -> None:
    watches = Watches(redis)
    await watches.add(watch(), due_ms=5000)
    await watches.add(watch(2), due_ms=1000)
    assert await watches.claim_due(["d-1"], now_ms=4999, lease_ms=30_000) == []  # not due
    assert await watches.claim_due(["d-404"], now_ms=9999, lease_ms=30_000) == []  # not followed
    assert await watches.claim_due([], now_ms=9999, lease_ms=30_000) == []
    both = await watches.claim_due(["d-404", "d-1", "d-2", "d-1"], now_ms=5000, lease_ms=30_000)
    assert sorted(w.deployment_id for w, _ in both) == ["d-1", "d-2"]  # one round trip; d-1 leased once
    assert len({token for _, token in both}) == 2
    claimed = next(c for c in both if c[0].deployment_id == "d-1")
    assert await watches.poke("d-1", now_ms=5001) is True
    assert await watches.claim_due(["d-1"], now_ms=5002, lease_ms=30_000) == []  # leased: its holder polls again
    assert await watches.claim(now_ms=5002, lease_ms=30_000, limit=10) == []
    await watches.save(watch().model_copy(update={"status": "running"}), claimed[1])  # the token is the lease's


async def test_a_watch_is_found_by_its_stack_and_version(redis: aioredis.Redis) -> None:
    watches = Watches(redis)
    await watches.add(watch(7), due_ms=0)
    assert await watches.find("acme/web/dev", 7) == "d-7"
    assert await watches.find("acme/web/dev", 8) is None
    assert await watches.find("acme/web/prod", 7) is None
    assert await redis.ttl("deploybot:version:acme/web/dev:7") > 0
    await watches.add(watch(8), due_ms=0)
    many = [("acme/web/dev", 8), ("acme/web/prod", 7), ("acme/web/dev", 7)]
    assert await watches.find_each(many) == ["d-8", None, "d-7"]  # in order, one round trip
    assert await watches.find_each([]) == []


async def test_a_burst_of_pokes_takes_one_round_trip_and_names_the_followed(redis: aioredis.Redis) -> None:
    watches = Watches(redis)
    for n in (1, 2):
        await watches.add(watch(n), due_ms=10_000)
    assert await watches.poke_each(["d-1", "d-404", "d-2"], now_ms=5) == {"d-1", "d-2"}
    assert await watches.poke_each([], now_ms=5) == set()
    assert await redis.exists(keys.poke("d-404")) == 0  # nothing left behind for what is not followed
    assert {w.deployment_id for w, _ in await watches.claim(now_ms=5, lease_ms=1000, limit=10)} == {"d-1", "d-2"}
