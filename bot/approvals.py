"""Approval requests: their state machine, kept in Redis so every replica sees one truth.

    pending ──approve (enough)──▶ creating ──created──▶ running
       │  ╲──deny──▶ denied          │
       │   ╲─withdraw─▶ withdrawn    └──create failed──▶ failed ──retry──▶ creating
       └──expire──▶ expired
    previewing ──preview succeeded──▶ pending      (preview_first; a failed preview, or one naming no commit, ends
                                                    the request: failed)
    creating ──stuck past CREATING_GRACE──▶ (reclaimed by one replica's chore) ──▶ running or failed

A request does not stay in ``creating``: a create that fails, or whose outcome cannot be checked, moves it to
``failed`` with the reason (Retry looks for the deployment before creating another). Should a replica die mid-create,
the request stays in the expiry set, due ``CREATING_GRACE`` after the move, and the expiry chore resolves it then.

Every transition is a compare-and-set on the request's key (Redis WATCH/MULTI), so twenty approvers clicking at once,
duplicate deliveries and several replicas still move a request once: exactly one caller wins the move to
``creating`` and creates the deployment. Button values carry only the request id; everything is re-read here.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import redis.asyncio as aioredis
from pydantic import Field
from redis.exceptions import WatchError

from bot.errors import Refused
from bot.store import keys
from bot.store.core import Record, redis_call

State = Literal["previewing", "pending", "creating", "running", "denied", "withdrawn", "expired", "failed"]
OPEN: frozenset[State] = frozenset({"previewing", "pending"})
REQUEST_ID_ENV = "DEPLOYBOT_REQUEST_ID"
# How long a request may stay in ``creating`` before the expiry chore resolves it. A create (with the client's
# retries and the adoption check) takes seconds; minutes mean the replica that was creating it is gone.
CREATING_GRACE = timedelta(minutes=5)
UNPINNABLE = "the preview reported no commit, so an approval could not be pinned to what was previewed"


class Approval(Record):
    user: str
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Preview(Record):
    """The preview deployment a ``preview_first`` request ran, and what it found."""

    deployment_id: str
    version: int
    status: str = "not-started"
    commit: str | None = None  # the exact commit previewed; the approved update is pinned to it
    changes: dict[str, int] = Field(default_factory=dict)  # create/update/replace/delete … counts


class ApprovalRequest(Record):
    id: str
    stack: str  # org/project/stack
    operation: str
    requested_by: str
    channel: str
    request: dict[str, Any]  # the create request (secrets only as ciphertext), carrying DEPLOYBOT_REQUEST_ID
    needed: int
    expires_at: datetime
    state: State = "pending"
    message_ts: str | None = None  # the approval message; it becomes the deployment's parent
    message: str | None = None  # --message
    approvals: list[Approval] = Field(default_factory=list)
    preview: Preview | None = None
    deployment_id: str | None = None
    version: int | None = None
    creating_since: datetime | None = None  # when it last moved to ``creating`` (or was reclaimed there)
    closed_by: str | None = None  # who denied or withdrew
    reason: str | None = None  # the deny reason, or why it failed
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def approvers(self) -> list[str]:
        return [a.user for a in self.approvals]

    @property
    def due_at(self) -> datetime:
        """When the expiry chore should look at it: its expiry while open, ``CREATING_GRACE`` after it started
        being created while in ``creating``."""
        if self.state == "creating":
            return (self.creating_since or self.created_at) + CREATING_GRACE
        return self.expires_at


def new_request_id() -> str:
    return "r-" + secrets.token_hex(8)


class Requests:
    """Approval requests in Redis; ``change`` is the only way a request's state moves."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def create(self, request: ApprovalRequest) -> None:
        ttl = keys.REQUEST_TTL
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.request(request.id), request.model_dump_json(), ex=ttl)
            pipe.zadd(keys.REQUESTS_EXPIRING, {request.id: request.due_at.timestamp() * 1000})
            pipe.sadd(keys.requests_of(request.channel), request.id)
            await redis_call(pipe.execute())

    async def get(self, request_id: str) -> ApprovalRequest | None:
        if not request_id.startswith("r-") or len(request_id) > 64:
            return None  # not one of ours: a tampered or foreign button value
        raw = await redis_call(self.redis.get(keys.request(request_id)))
        return None if raw is None else ApprovalRequest.model_validate_json(raw)

    async def change(
        self, request_id: str, move: Callable[[ApprovalRequest], ApprovalRequest]
    ) -> tuple[ApprovalRequest, ApprovalRequest]:
        """Apply ``move`` atomically; returns (before, after). ``move`` raises Refused to leave it unchanged.

        Concurrent changes are retried on the fresh state, so ``move`` must decide from its argument alone.
        """
        key = keys.request(request_id)
        while True:
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
                    await redis_call(pipe.watch(key))
                    raw = await redis_call(pipe.get(key))
                    if raw is None:
                        raise Refused("this request no longer exists (it expired a while ago)")
                    before = ApprovalRequest.model_validate_json(raw)
                    after = move(before)
                    pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
                    pipe.set(key, after.model_dump_json(), keepttl=True)
                    if after.state == "creating":  # stays due, so a create that never finishes is resolved
                        pipe.zadd(keys.REQUESTS_EXPIRING, {request_id: after.due_at.timestamp() * 1000})
                    elif after.state not in OPEN:
                        pipe.zrem(keys.REQUESTS_EXPIRING, request_id)
                    if after.state not in OPEN:
                        pipe.srem(keys.requests_of(after.channel), request_id)
                    await redis_call(pipe.execute())
                    return before, after
            except WatchError:
                continue  # someone else moved it first: decide again on what they left

    async def expiring(self, now: datetime, limit: int = 100) -> list[str]:
        """Ids of requests due: open ones whose time is up, and ones in ``creating`` past ``CREATING_GRACE``."""
        due = await redis_call(self.redis.zrangebyscore(keys.REQUESTS_EXPIRING, 0, now.timestamp() * 1000, 0, limit))
        return [d.decode() if isinstance(d, bytes) else str(d) for d in due]

    async def pending(self) -> int:
        """How many requests are open (all channels), counting those being created (normally for a moment)."""
        return int(await redis_call(self.redis.zcard(keys.REQUESTS_EXPIRING)))

    async def open_in(self, channel: str) -> list[ApprovalRequest]:
        ids = await redis_call(self.redis.smembers(keys.requests_of(channel)))
        found = []
        for request_id in sorted(i.decode() if isinstance(i, bytes) else i for i in ids):
            request = await self.get(request_id)
            if request is not None and request.state in OPEN:
                found.append(request)
        return sorted(found, key=lambda r: r.created_at)


# The moves. Each decides from the request it is given (``change`` may call it again on a fresher one).

Move = Callable[[ApprovalRequest], ApprovalRequest]


def _still_open(request: ApprovalRequest, now: datetime) -> None:
    if request.state not in OPEN:
        raise Refused(f"this request is {request.state} already")
    if now >= request.expires_at:
        raise Refused("this request has expired")


def approve(user: str, now: datetime, *, may_approve: bool, self_approval: bool) -> Move:
    def move(request: ApprovalRequest) -> ApprovalRequest:
        _still_open(request, now)
        if request.state == "previewing":
            raise Refused("the preview has not succeeded yet; approve once it has")
        if user in request.approvers:
            raise Refused("you have approved this already")
        if user == request.requested_by and not self_approval:
            raise Refused("you asked for this one: someone else has to approve it")
        if not may_approve:
            raise Refused("you are not one of this stack's approvers")
        approvals = [*request.approvals, Approval(user=user, at=now)]
        if len(approvals) >= request.needed:
            return request.model_copy(update={"approvals": approvals, "state": "creating", "creating_since": now})
        return request.model_copy(update={"approvals": approvals})

    return move


def deny(user: str, now: datetime, reason: str | None, *, may_approve: bool) -> Move:
    def move(request: ApprovalRequest) -> ApprovalRequest:
        _still_open(request, now)
        if not may_approve:
            raise Refused("only this stack's approvers can deny it")
        return request.model_copy(update={"state": "denied", "closed_by": user, "reason": reason})

    return move


def withdraw(user: str, now: datetime) -> Move:
    def move(request: ApprovalRequest) -> ApprovalRequest:
        _still_open(request, now)
        if user != request.requested_by:
            raise Refused("only the person who asked can withdraw a request")
        return request.model_copy(update={"state": "withdrawn", "closed_by": user})

    return move


def expire(now: datetime) -> Move:
    def move(request: ApprovalRequest) -> ApprovalRequest:
        if request.state not in OPEN or now < request.expires_at:
            raise Refused("not expired")
        return request.model_copy(update={"state": "expired"})

    return move


def created(deployment_id: str, version: int) -> Move:
    def move(request: ApprovalRequest) -> ApprovalRequest:
        if request.state != "creating":
            raise Refused(f"the request is {request.state}, not being created")
        return request.model_copy(update={"state": "running", "deployment_id": deployment_id, "version": version})

    return move


def failed(reason: str) -> Move:
    def move(request: ApprovalRequest) -> ApprovalRequest:
        if request.state not in ("creating", "previewing"):
            raise Refused(f"the request is {request.state}")
        return request.model_copy(update={"state": "failed", "reason": reason})

    return move


def retry(user: str, now: datetime) -> Move:
    """Try the create again after it failed (the approvals still stand)."""

    def move(request: ApprovalRequest) -> ApprovalRequest:
        if request.state != "failed" or len(request.approvals) < request.needed:  # a failed preview is not retried
            raise Refused("only a request whose deployment could not be created can be retried")
        return request.model_copy(update={"state": "creating", "reason": None, "creating_since": now})

    return move


def reclaim(now: datetime) -> Move:
    """Take over a request left in ``creating`` past ``CREATING_GRACE`` (its replica died, or its create never
    returned). Restarting the grace period is the claim: other replicas' chores leave it alone meanwhile."""

    def move(request: ApprovalRequest) -> ApprovalRequest:
        if request.state != "creating" or now < request.due_at:
            raise Refused(f"the request is {request.state}, not stuck being created")
        return request.model_copy(update={"creating_since": now})

    return move


def previewed(preview: Preview) -> Move:
    """The preview finished: a success opens the request for approval (pinned to its commit), a failure ends it.

    A success that names no commit ends it too, in this same move: were it opened first and closed by a second
    move, an approval landing in between would create an update that is not pinned to what was previewed."""

    def move(request: ApprovalRequest) -> ApprovalRequest:
        if request.state != "previewing":
            raise Refused(f"the request is {request.state}, not previewing")
        if preview.status != "succeeded":
            return request.model_copy(update={"state": "failed", "preview": preview, "reason": "the preview failed"})
        if not preview.commit:
            return request.model_copy(update={"state": "failed", "preview": preview, "reason": UNPINNABLE})
        return request.model_copy(update={"state": "pending", "preview": preview})

    return move


def preview_started(preview: Preview) -> Move:
    def move(request: ApprovalRequest) -> ApprovalRequest:
        if request.state != "previewing":
            raise Refused(f"the request is {request.state}, not previewing")
        return request.model_copy(update={"preview": preview})

    return move
