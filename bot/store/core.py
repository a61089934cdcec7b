"""The bot's own records in Redis: deliveries seen, deployments it started, paging views, confirmations."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict, Field
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.errors import StoreUnavailable
from bot.store import keys
from bot.store.keys import CONFIRM_TTL, DEPLOYMENT_TTL, SEEN_TTL, VIEW_TTL

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


# Redis connections one process opens at most. A poll, a Slack request or a send holds one only for a command; one
# that finds none free waits up to the socket timeout (redis-py's default pool fails at once when it runs out).
REDIS_CONNECTIONS = 64
REDIS_TIMEOUT = 5.0


async def redis_call(operation: Awaitable[T]) -> T:
    """What a Redis command returns; a Redis that is unreachable or too slow surfaces as StoreUnavailable, which
    every caller turns into "state store unavailable, try again"."""
    try:
        return await operation
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise StoreUnavailable("the state store (Redis) is unavailable") from exc


def redis_client(url: str, **options: Any) -> aioredis.Redis:
    """A client on its own pool of ``REDIS_CONNECTIONS`` (closed with the client), with the bot's timeouts."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_CONNECTIONS,
        timeout=REDIS_TIMEOUT,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        **options,
    )
    return aioredis.Redis.from_pool(pool)


def new_id() -> str:
    """A short random id for views and confirmations (URL- and button-value-safe)."""
    return secrets.token_urlsafe(12)


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class DeploymentRecord(Record):
    """What Pulumi does not know about a deployment the bot created: the Slack side of it."""

    deployment_id: str
    stack: str  # org/project/stack
    operation: str
    version: int
    requested_by: str  # Slack user id
    channel: str
    message_ts: str | None = None  # the channel message announcing it (the watcher's parent)
    message: str | None = None  # --message
    console_url: str | None = None
    cancelled_by: str | None = None  # Slack user id of whoever cancelled it from Slack
    request: dict[str, Any] | None = None  # the create request as sent (secrets only as ciphertext), for Retry
    request_id: str | None = None  # the approval request it came from (its message is the parent)
    preview_for: str | None = None  # set on the preview a preview_first request ran: that request's id
    approved_by: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class ViewState(Record):
    """An ephemeral answer's query, so its paging buttons carry only this id."""

    kind: Literal["list", "logs"]
    user: str
    params: dict[str, Any]


class Confirmation(Record):
    """A state-changing action asked for with a command, waiting for the asker to confirm."""

    action: Literal["cancel", "settings-clear"]
    user: str
    channel: str
    stack: str
    deployment_id: str | None = None


class Store:
    """Typed access to Deploybot's Redis keys. Redis failures surface as StoreUnavailable."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def first_delivery(self, kind: str, delivery_id: str) -> bool:
        """True the first time ``delivery_id`` is seen (across every replica), False for a resend."""
        created = await redis_call(self.redis.set(keys.seen(kind, delivery_id), b"1", nx=True, ex=SEEN_TTL))
        return bool(created)

    async def _put(self, key: str, record: Record, ttl: int) -> None:
        await redis_call(self.redis.set(key, record.model_dump_json(), ex=ttl))

    async def _get(self, key: str, model: type[M]) -> M | None:
        raw = await redis_call(self.redis.get(key))
        return None if raw is None else model.model_validate_json(raw)

    async def save_deployment(self, record: DeploymentRecord) -> None:
        await self._put(keys.deployment(record.deployment_id), record, DEPLOYMENT_TTL)

    async def deployment(self, deployment_id: str) -> DeploymentRecord | None:
        return await self._get(keys.deployment(deployment_id), DeploymentRecord)

    async def save_view(self, view: ViewState) -> str:
        view_id = new_id()
        await self._put(keys.view(view_id), view, VIEW_TTL)
        return view_id

    async def view(self, view_id: str) -> ViewState | None:
        return await self._get(keys.view(view_id), ViewState)

    async def save_confirmation(self, confirmation: Confirmation) -> str:
        confirm_id = new_id()
        await self._put(keys.confirm(confirm_id), confirmation, CONFIRM_TTL)
        return confirm_id

    async def confirmation(self, confirm_id: str) -> Confirmation | None:
        return await self._get(keys.confirm(confirm_id), Confirmation)

    async def take_confirmation(self, confirm_id: str) -> Confirmation | None:
        """Remove and return a confirmation: of two concurrent clicks, exactly one gets it."""
        raw = await redis_call(self.redis.getdel(keys.confirm(confirm_id)))
        return None if raw is None else Confirmation.model_validate_json(raw)

    async def remember_name(self, user: str, name: str | None) -> None:
        if name:
            await redis_call(self.redis.set(keys.name(user), name[:100], ex=keys.NAME_TTL))

    async def name_of(self, user: str) -> str | None:
        raw = await redis_call(self.redis.get(keys.name(user)))
        return None if raw is None else raw.decode() if isinstance(raw, bytes) else str(raw)

    async def ping(self) -> bool:
        return bool(await redis_call(self.redis.ping()))


@asynccontextmanager
async def open_store(url: str) -> AsyncIterator[Store]:
    """A Store on a fresh connection pool, closed on exit."""
    client = redis_client(url, health_check_interval=30)
    try:
        yield Store(client)
    finally:
        await client.aclose()
