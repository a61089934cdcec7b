"""Approval requests in a real Redis: every transition is atomic, so concurrent clicks and replicas move a request
once, and exactly one approver's click creates the deployment."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from bot.approvals import (
    ApprovalRequest,
    Preview,
    Requests,
    approve,
    deny,
    expire,
    new_request_id,
    previewed,
    withdraw,
)
from bot.errors import Refused

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def request(needed: int = 1, **changes: object) -> ApprovalRequest:
    return ApprovalRequest(
        id=new_request_id(), stack="acme/web/prod", operation="update", requested_by="U_REQ", channel="C1",
        request={"operation": "update"}, needed=needed, expires_at=NOW + timedelta(hours=4),
    ).model_copy(update=changes)  # fmt: skip


async def test_twenty_concurrent_approvals_move_it_once(redis: aioredis.Redis, redis_url: str) -> None:
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(5)]
    stored = request(needed=1)
    await Requests(redis).create(stored)

    async def click(n: int) -> ApprovalRequest | None:
        requests = Requests(clients[n % 5])
        move = approve(f"U{n}", NOW, may_approve=True, self_approval=False)
        try:
            before, after = await requests.change(stored.id, move)
        except Refused:
            return None
        return after if before.state == "pending" and after.state == "creating" else None

    winners = [w for w in await asyncio.gather(*(click(n) for n in range(20))) if w is not None]
    assert len(winners) == 1
    final = await Requests(redis).get(stored.id)
    assert final is not None
    assert final.state == "creating"
    assert len(final.approvals) == 1
    for client in clients:
        await client.aclose()


async def test_two_of_three_and_no_one_approves_twice_or_their_own(redis: aioredis.Redis) -> None:
    requests = Requests(redis)
    stored = request(needed=2)
    await requests.create(stored)
    with pytest.raises(Refused, match="someone else"):
        await requests.change(stored.id, approve("U_REQ", NOW, may_approve=True, self_approval=False))
    with pytest.raises(Refused, match="not one of"):
        await requests.change(stored.id, approve("U_X", NOW, may_approve=False, self_approval=False))
    _, after = await requests.change(stored.id, approve("U_A", NOW, may_approve=True, self_approval=False))
    assert after.state == "pending"
    with pytest.raises(Refused, match="already"):
        await requests.change(stored.id, approve("U_A", NOW, may_approve=True, self_approval=False))
    _, after = await requests.change(stored.id, approve("U_B", NOW, may_approve=True, self_approval=False))
    assert after.state == "creating"
    assert after.approvers == ["U_A", "U_B"]


async def test_deny_withdraw_and_expiry_close_it(redis: aioredis.Redis) -> None:
    requests = Requests(redis)
    first, second, third = request(), request(), request()
    for stored in (first, second, third):
        await requests.create(stored)
    assert {r.id for r in await requests.open_in("C1")} == {first.id, second.id, third.id}
    _, denied = await requests.change(first.id, deny("U_A", NOW, "not on a Friday", may_approve=True))
    assert (denied.state, denied.reason) == ("denied", "not on a Friday")
    with pytest.raises(Refused, match="only the person who asked"):
        await requests.change(second.id, withdraw("U_A", NOW))
    await requests.change(second.id, withdraw("U_REQ", NOW))
    later = NOW + timedelta(hours=5)
    assert await requests.expiring(later) == [third.id]
    await requests.change(third.id, expire(later))
    assert await requests.open_in("C1") == []
    assert await requests.expiring(later) == []
    with pytest.raises(Refused, match="expired"):
        await requests.change(third.id, approve("U_A", later, may_approve=True, self_approval=False))


async def test_a_preview_must_succeed_before_anyone_approves(redis: aioredis.Redis) -> None:
    requests = Requests(redis)
    stored = request(state="previewing")
    await requests.create(stored)
    with pytest.raises(Refused, match="preview has not succeeded"):
        await requests.change(stored.id, approve("U_A", NOW, may_approve=True, self_approval=False))
    preview = Preview(deployment_id="d-1", version=3, status="succeeded", commit="abc123", changes={"update": 2})
    _, opened = await requests.change(stored.id, previewed(preview))
    assert opened.state == "pending"
    assert opened.preview is not None
    assert opened.preview.commit == "abc123"


async def test_tampered_ids_find_nothing(redis: aioredis.Redis) -> None:
    requests = Requests(redis)
    for forged in ("", "x", "r-" + "a" * 100, "../etc", "deploybot:seen:x"):
        assert await requests.get(forged) is None
