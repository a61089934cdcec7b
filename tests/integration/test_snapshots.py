"""Snapshots of an organization's running deployments, read from the emulator over HTTP: when they are taken,
what they cost in calls, what they answer, and what happens when the list fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from bot.pulumi import CreateDeploymentRequest, JobStatus, PulumiClient, PulumiOperation, RetryPolicy, StackRef
from bot.snapshots import Snapshots
from tests.pulumi_sandbox import PulumiSandbox

INTERVAL, MAX_AGE = 2.0, 0.5  # a refresh costs pages x 4 per interval; it pays when the polls are twice that
ORG_LIST = "/api/orgs/acme/deployments"
UPDATE = CreateDeploymentRequest(operation=PulumiOperation.UPDATE)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Told(list[set[str]]):
    """The changes each snapshot reported, in order (the watcher's on_change)."""

    async def __call__(self, deployment_ids: set[str]) -> None:
        self.append(deployment_ids)


@pytest.fixture
async def client(pulumi_sandbox: PulumiSandbox) -> AsyncIterator[PulumiClient]:
    retry = RetryPolicy(attempts=1, base=0.01, cap=0.02, max_retry_after=5)
    async with PulumiClient(SecretStr(pulumi_sandbox.token), base_url=pulumi_sandbox.url, retry=retry) as pulumi:
        yield pulumi


async def start(sandbox: PulumiSandbox, pulumi: PulumiClient, count: int, *, queued: int = 0) -> list[str]:
    """``count`` running deployments on as many stacks, then ``queued`` more that wait (the org's slots are full)."""
    names = await sandbox.create_stacks(*(f"svc{n}/dev" for n in range(count + queued)))
    await sandbox.set_concurrency("acme", count)
    ids = []
    for name in names:
        created = await pulumi.create_deployment(StackRef.parse(name), UPDATE)
        ids.append(created.id)
    await sandbox.advance(2)
    return ids


async def org_lists(sandbox: PulumiSandbox) -> list[dict[str, object]]:
    return [entry for entry in await sandbox.requests() if entry["path"] == ORG_LIST]


async def a_busy_interval(snapshots: Snapshots, clock: Clock, ids: list[str]) -> None:
    """Every deployment polled once (read alone: no demand measured yet), then the next interval begins."""
    assert [await snapshots.find("acme", i) for i in ids] == [None] * len(ids)
    clock.now += INTERVAL


async def test_many_polls_share_one_listing_of_every_page(pulumi_sandbox: PulumiSandbox, client: PulumiClient) -> None:
    ids = await start(pulumi_sandbox, client, 130, queued=1)
    running, waiting = ids[:130], ids[130]
    clock = Clock()
    snapshots = Snapshots(client, interval=INTERVAL, max_age=MAX_AGE, clock=clock)
    await a_busy_interval(snapshots, clock, ids)
    await pulumi_sandbox.clear_requests()

    found = await asyncio.gather(*(snapshots.find("acme", i) for i in running))
    assert [d.id if d else None for d in found] == running
    lists = await org_lists(pulumi_sandbox)
    assert len(lists) == 2  # pages of 100, read once for all 130 polls
    assert all(entry["query"]["status"] == "running" for entry in lists)  # type: ignore[index]
    alone = await client.get_deployment(StackRef.parse("acme/svc7/dev"), running[7])
    # What the watcher reports from is the same as reading it alone (a list entry has no configuration, wire ref §3.6).
    shown = {"id", "status", "version", "modified", "jobs", "requested_by", "pulumi_operation", "initiator", "updates"}
    assert found[7] is not None
    assert found[7].model_dump(include=shown) == alone.model_dump(include=shown)
    assert found[7].status is JobStatus.RUNNING
    assert found[7].jobs
    assert await snapshots.find("acme", waiting) is None  # not running: the caller reads it alone

    clock.now += MAX_AGE / 2
    await snapshots.find("acme", running[0])
    assert len(await org_lists(pulumi_sandbox)) == 2  # still fresh
    clock.now += MAX_AGE
    await snapshots.find("acme", running[0])
    assert len(await org_lists(pulumi_sandbox)) == 4  # stale: read again, both pages


async def test_a_few_polls_read_alone(pulumi_sandbox: PulumiSandbox, client: PulumiClient) -> None:
    ids = await start(pulumi_sandbox, client, 7)  # 7 polls an interval < 2 x 4 refreshes x 1 page
    clock = Clock()
    snapshots = Snapshots(client, interval=INTERVAL, max_age=MAX_AGE, clock=clock)
    for _ in range(3):
        await a_busy_interval(snapshots, clock, ids)
    assert await org_lists(pulumi_sandbox) == []


async def test_a_quiet_spell_forgets_the_demand(pulumi_sandbox: PulumiSandbox, client: PulumiClient) -> None:
    ids = await start(pulumi_sandbox, client, 20)
    clock = Clock()
    snapshots = Snapshots(client, interval=INTERVAL, max_age=MAX_AGE, clock=clock)
    await a_busy_interval(snapshots, clock, ids)
    clock.now += 10 * INTERVAL  # nothing polled for a long while: the old demand says nothing about now
    assert await snapshots.find("acme", ids[0]) is None
    assert await org_lists(pulumi_sandbox) == []


async def test_a_failed_listing_falls_back_to_reading_alone_then_retries(
    pulumi_sandbox: PulumiSandbox, client: PulumiClient
) -> None:
    ids = await start(pulumi_sandbox, client, 20)
    clock = Clock()
    snapshots = Snapshots(client, interval=INTERVAL, max_age=MAX_AGE, clock=clock)
    await a_busy_interval(snapshots, clock, ids)
    await pulumi_sandbox.add_fault(method="GET", path=f"{ORG_LIST}$", status=500, count=1)
    assert await snapshots.find("acme", ids[0]) is None
    assert await snapshots.find("acme", ids[1]) is None  # not asked again at once
    assert [e["status"] for e in await org_lists(pulumi_sandbox)] == [500]
    clock.now += MAX_AGE * 1.1
    found = await snapshots.find("acme", ids[1])
    assert found is not None
    assert found.id == ids[1]


async def test_a_cancelled_poll_does_not_cancel_the_read_others_wait_for(
    pulumi_sandbox: PulumiSandbox, client: PulumiClient
) -> None:
    ids = await start(pulumi_sandbox, client, 20)
    clock = Clock()
    snapshots = Snapshots(client, interval=INTERVAL, max_age=MAX_AGE, clock=clock)
    await a_busy_interval(snapshots, clock, ids)
    await pulumi_sandbox.add_fault(method="GET", path=f"{ORG_LIST}$", delay=0.3, count=1)
    first = asyncio.create_task(snapshots.find("acme", ids[0]))
    second = asyncio.create_task(snapshots.find("acme", ids[1]))
    await asyncio.sleep(0.1)
    first.cancel()
    found = await second
    assert found is not None
    assert found.id == ids[1]
    assert len(await org_lists(pulumi_sandbox)) == 1


async def test_each_snapshot_tells_what_changed_since_the_last(
    pulumi_sandbox: PulumiSandbox, client: PulumiClient
) -> None:
    ids = await start(pulumi_sandbox, client, 20, queued=1)
    told = Told()
    clock = Clock()
    snapshots = Snapshots(client, interval=INTERVAL, max_age=MAX_AGE, on_change=told, clock=clock)
    await a_busy_interval(snapshots, clock, ids)
    await snapshots.find("acme", ids[0])
    assert told == []  # a first snapshot has nothing to compare with
    clock.now += MAX_AGE * 1.1
    await snapshots.find("acme", ids[0])
    assert told == []  # nothing moved in the emulator
    await pulumi_sandbox.advance()  # every running deployment finishes a step
    clock.now += MAX_AGE * 1.1
    await snapshots.find("acme", ids[0])
    assert told == [set(ids[:20])]
    await client.cancel_deployment(StackRef.parse("acme/svc3/dev"), ids[3])
    left = joined = False  # svc3 leaves the running list; svc20 takes its slot and joins it
    for _ in range(6):
        await pulumi_sandbox.advance()
        clock.now += MAX_AGE * 1.1
        cancelled_gone = await snapshots.find("acme", ids[3]) is None
        queued_running = await snapshots.find("acme", ids[20]) is not None
        if cancelled_gone and not left:
            assert ids[3] in told[-1]
        if queued_running and not joined:
            assert ids[20] in told[-1]
        left, joined = left or cancelled_gone, joined or queued_running
    assert left
    assert joined


async def test_a_failed_read_tells_no_changes_before_or_after(
    pulumi_sandbox: PulumiSandbox, client: PulumiClient
) -> None:
    ids = await start(pulumi_sandbox, client, 20)
    told = Told()
    clock = Clock()
    snapshots = Snapshots(client, interval=INTERVAL, max_age=MAX_AGE, on_change=told, clock=clock)
    await a_busy_interval(snapshots, clock, ids)
    await snapshots.find("acme", ids[0])
    await pulumi_sandbox.add_fault(method="GET", path=f"{ORG_LIST}$", status=500, count=1)
    clock.now += MAX_AGE * 1.1
    await snapshots.find("acme", ids[0])  # fails: empty, and no "everything left the list"
    clock.now += MAX_AGE * 1.1
    await snapshots.find("acme", ids[0])  # works again: no "everything is new" either
    assert told == []


async def test_refresh_reads_a_short_running_list_for_the_queue_at_most_every_max_age(
    pulumi_sandbox: PulumiSandbox, client: PulumiClient
) -> None:
    ids = await start(pulumi_sandbox, client, 1, queued=1)
    told = Told()
    clock = Clock()
    snapshots = Snapshots(client, interval=INTERVAL, max_age=MAX_AGE, on_change=told, clock=clock)
    await snapshots.refresh("acme")  # no polls asked for it: the queue watch alone reads it
    await snapshots.refresh("acme")  # too soon: not read again
    assert len(await org_lists(pulumi_sandbox)) == 1
    for _ in range(20):  # svc0 runs to its end and svc1 takes the org's one slot
        if (await client.get_deployment(StackRef.parse("acme/svc1/dev"), ids[1])).status == JobStatus.RUNNING:
            break
        await pulumi_sandbox.advance()
    else:
        raise AssertionError("the queued deployment never started")
    clock.now += MAX_AGE * 1.1
    await snapshots.refresh("acme")
    assert ids[1] in told[-1]  # the queued one started: it joined the running list


async def test_refresh_leaves_a_long_running_list_alone(pulumi_sandbox: PulumiSandbox, client: PulumiClient) -> None:
    ids = await start(pulumi_sandbox, client, 250, queued=1)  # three pages
    clock = Clock()
    snapshots = Snapshots(client, interval=INTERVAL, max_age=MAX_AGE, clock=clock)
    await a_busy_interval(snapshots, clock, ids)
    await snapshots.find("acme", ids[0])  # the polls' own snapshot: three pages
    clock.now += MAX_AGE * 1.1
    await snapshots.refresh("acme")  # a queued deployment alone would not pay for them
    assert len(await org_lists(pulumi_sandbox)) == 3
