"""Who a principal in an approval policy is: a Slack user id stands for itself, a user-group handle (``@sre``) for
the group's current members. Handles and members come from Slack and are cached in Redis for at most a minute;
a cache that is down costs a Slack call, never a decision.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

import aiohttp
import redis.asyncio as aioredis
from pydantic import BaseModel, ValidationError
from redis.exceptions import RedisError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.chat import _retry_after  # one reading of Slack's Retry-After for every caller
from bot.errors import SlackError, SlackRateLimited
from bot.render.text import escape
from bot.store import keys

log = logging.getLogger(__name__)

# U… for workspace users, W… for Enterprise Grid ones; the fake Slack spells them U_ANA, hence the underscore.
# Handles are lowercase in Slack, so an upper-case id cannot be mistaken for a handle given without its "@".
_USER_ID = re.compile(r"[UW][A-Z0-9_]+")


def _user_id(principal: str) -> str | None:
    """The user id a principal names, or None when it names a user group."""
    text = principal.strip()
    return text if _USER_ID.fullmatch(text) else None


def _handle(principal: str) -> str:
    """A group handle as Slack stores it: ``@SRE``, ``sre`` and `` @sre `` are all ``sre``."""
    return principal.strip().removeprefix("@").lower()


# -- what Slack answers (the translation boundary: nothing else reads these payloads) ----------------------------


class _Group(BaseModel):
    id: str
    handle: str
    date_delete: int = 0  # non-zero once the group was disabled


class _GroupList(BaseModel):
    usergroups: list[_Group]


class _GroupUsers(BaseModel):
    users: list[str]


# -- what the cache holds -----------------------------------------------------------------------------------------


class _Cached(BaseModel):
    at: float  # the injected clock when Slack was asked: freshness is judged by it, so tests can drive expiry


class _Handles(_Cached):
    ids: dict[str, str]  # lowercase handle -> group id, enabled groups only


class _Members(_Cached):
    users: list[str]


C = TypeVar("C", bound=_Cached)
R = TypeVar("R", bound=BaseModel)


class Directory:
    """Resolves approval principals against Slack, through a Redis cache shared by every replica.

    Each answer is at most ``ttl_seconds`` old (judged by ``clock``; Redis also drops the key after that long,
    so a replica with a skewed clock still never sees older data). Slack failures raise ``SlackError``
    (``SlackRateLimited`` for a 429); Redis failures are logged once per outage and answered from Slack.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        redis: aioredis.Redis,
        *,
        ttl_seconds: float = keys.DIRECTORY_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < ttl_seconds <= keys.DIRECTORY_TTL:
            raise ValueError(f"ttl_seconds must be more than 0 and at most {keys.DIRECTORY_TTL:g}, not {ttl_seconds}")
        self._client = client
        self._redis = redis
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache_up = True

    async def members(self, principal: str) -> frozenset[str]:
        """``"U1"`` -> {"U1"}; ``"@sre"`` -> its members; empty for an unknown or disabled group."""
        user = _user_id(principal)
        if user is not None:
            return frozenset({user})
        group = await self.group_id(principal)
        return frozenset() if group is None else await self._members(group)

    async def is_in(self, user: str, principals: Iterable[str]) -> bool:
        """Whether ``user`` is one of the ids or a member of one of the groups (asks Slack only for groups)."""
        handles = []
        for principal in principals:
            named = _user_id(principal)
            if named is None:
                handles.append(_handle(principal))
            elif named == user:
                return True
        if not user or not any(handles):
            return False
        ids = await self._handles()
        for handle in handles:
            group = ids.get(handle)
            if group is not None and user in await self._members(group):
                return True
        return False

    async def group_id(self, handle: str) -> str | None:
        """``"@sre"`` (any case, ``@`` optional) -> ``"S123"``; None when no enabled group has that handle."""
        wanted = _handle(handle)
        return (await self._handles()).get(wanted) if wanted else None

    async def display(self, principals: Iterable[str]) -> str:
        """mrkdwn mentions in the given order, duplicates dropped: ``"<@U1>, <!subteam^S123>"``.

        A handle no enabled group has is shown as escaped text (``@nope``) so it pings nobody.
        """
        wanted = [p.strip() for p in principals if p.strip()]
        ids = await self._handles() if any(_user_id(p) is None for p in wanted) else {}
        shown = []
        for principal in wanted:
            user, group = _user_id(principal), ids.get(_handle(principal))
            if user is not None:
                shown.append(f"<@{user}>")
            elif group is not None:
                shown.append(f"<!subteam^{group}>")
            else:
                shown.append(escape("@" + principal.removeprefix("@")))
        return ", ".join(dict.fromkeys(shown))

    # -- Slack ----------------------------------------------------------------------------------------------------

    async def _handles(self) -> dict[str, str]:
        async def ask_slack() -> _Handles:
            at = self._clock()
            listed = await self._slack("usergroups.list", self._client.usergroups_list(), _GroupList)
            # Slack leaves disabled groups out unless asked to include them; date_delete guards the day it does not.
            return _Handles(at=at, ids={g.handle.lower(): g.id for g in listed.usergroups if not g.date_delete})

        return (await self._cached(keys.DIRECTORY_HANDLES, _Handles, ask_slack)).ids

    async def _members(self, group: str) -> frozenset[str]:
        async def ask_slack() -> _Members:
            at = self._clock()
            try:
                call = self._client.usergroups_users_list(usergroup=group)
                listed = await self._slack("usergroups.users.list", call, _GroupUsers)
            except SlackError as error:
                if error.error != "no_such_subteam":
                    raise
                return _Members(at=at, users=[])  # deleted or disabled since its handle was read: nobody
            return _Members(at=at, users=listed.users)

        return frozenset((await self._cached(keys.directory_members(group), _Members, ask_slack)).users)

    @staticmethod
    async def _slack(method: str, call: Awaitable[AsyncSlackResponse], answer: type[R]) -> R:
        try:
            response = await call
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                raise SlackRateLimited(_retry_after(exc.response.headers), method) from None
            # Not response.get(): that raises when a proxy answered with a page instead of JSON.
            data = exc.response.data
            error = data.get("error") if isinstance(data, dict) else None
            raise SlackError(str(error or f"http_{exc.response.status_code}"), method) from None
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            raise SlackError(type(exc).__name__, method) from None
        try:
            return answer.model_validate(response.data)
        except ValidationError:
            raise SlackError("invalid_response", method) from None

    # -- the cache ------------------------------------------------------------------------------------------------

    async def _cached(self, key: str, model: type[C], ask_slack: Callable[[], Awaitable[C]]) -> C:
        entry = await self._read(key, model)
        if entry is not None and self._clock() - entry.at < self._ttl:
            return entry
        fresh = await ask_slack()
        if self._cache_up:  # just failed to read: do not wait on a broken Redis twice
            await self._write(key, fresh)
        return fresh

    async def _read(self, key: str, model: type[C]) -> C | None:
        try:
            raw = await self._redis.get(key)
        except (RedisError, OSError) as exc:
            self._cache_failed(exc)
            return None
        if not self._cache_up:
            log.info("directory cache (Redis) answers again")
            self._cache_up = True
        if raw is None:
            return None
        try:
            return model.model_validate_json(raw)
        except ValidationError:
            return None  # written by another version of this code: ask Slack, and the write replaces it

    async def _write(self, key: str, entry: _Cached) -> None:
        try:
            await self._redis.set(key, entry.model_dump_json(), px=math.ceil(self._ttl * 1000))
        except (RedisError, OSError) as exc:
            self._cache_failed(exc)

    def _cache_failed(self, exc: BaseException) -> None:
        # Any Redis error, not only a lost connection: a read-only replica after a failover refuses writes too.
        if self._cache_up:
            log.warning(
                "directory cache (Redis) unavailable; asking Slack directly until it answers",
                extra={"error": type(exc).__name__},
            )
        self._cache_up = False
