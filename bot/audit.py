"""The audit trail: who requested, approved, started, cancelled or changed what on which stack, and when, kept in
one Redis stream (``keys.AUDIT``) trimmed to a configurable size. ``detail`` is redacted and capped on the way in;
entries never carry a setting's value, only the paths that changed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import redis.asyncio as aioredis
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from bot.pulumi.stack import StackRef, check_org
from bot.redact import redact_line
from bot.store import keys
from bot.store.core import redis_call

if TYPE_CHECKING:  # typing only: redis.typing's names differ between the redis-py versions pyproject allows
    from redis.typing import StreamRangeResponse

log = logging.getLogger(__name__)

Action = Literal[
    "requested",
    "approved",
    "denied",
    "withdrawn",
    "expired",
    "deployment_created",
    "cancelled",
    "paused",
    "resumed",
    "settings_changed",
    "settings_cleared",
    "subscribed",
    "unsubscribed",
]

DETAIL_MAX = 300  # a deny reason or a list of settings paths; longer text is cut with "…"
NAME_MAX = 100  # Slack display names are at most 80 characters
RECENT_MAX = 100  # what one Slack answer shows comfortably
_PAGE = 500  # stream entries read per round trip
_STORED = "stored"  # validation context of entries read back: their detail was redacted when it was appended
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ID = r"^[A-Za-z0-9_.:-]{1,100}$"


def check_stack(value: str) -> str:
    """``value`` as an audit stack (``org/project/stack``, or ``org`` for organization-wide actions); else a
    ValueError saying what is wrong with it."""
    if "/" in value:
        return str(StackRef.parse(value))
    return check_org(value.strip())


def _one_line(text: str) -> str:
    """``text`` with whitespace runs as one space and control characters dropped."""
    return "".join(c for c in " ".join(text.split()) if c.isprintable())


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class AuditEntry(BaseModel):
    """One thing that happened. ``id`` is the stream id Redis gave it (None until it is appended)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str | None = Field(default=None, pattern=r"^\d+-\d+$")
    at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    action: Action
    user: str = Field(pattern=r"^[A-Za-z0-9_]{1,64}$")  # a Slack user id; rendered inside <@…>, so no symbols
    user_name: str | None = None
    stack: str | None = None  # org/project/stack, or org for org-wide actions; a subscription glob goes in detail
    deployment_id: str | None = Field(default=None, pattern=_ID)
    version: int | None = Field(default=None, ge=0)
    request_id: str | None = Field(default=None, pattern=_ID)
    detail: str = ""  # e.g. a deny reason or the settings paths that changed; NEVER values

    @field_validator("at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @field_validator("user_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return (_cut(_one_line(value), NAME_MAX) or None) if value is not None else None

    @field_validator("stack")
    @classmethod
    def _stack(cls, value: str | None) -> str | None:
        return check_stack(value) if value is not None else None

    @field_validator("detail")
    @classmethod
    def _detail(cls, value: str, info: ValidationInfo) -> str:
        # Callers build details from known fields, but a deny reason is free text: whatever a person pasted, a
        # credential's shape never reaches Redis. Cleaned first (dropping a control character could join a token
        # back together), then redacted, then cut (a cut first could break a token's shape and let half through).
        # Entries read back were redacted on the way in; redacting 100,000 of them again would slow an export.
        text = _one_line(value)
        if not (isinstance(info.context, dict) and info.context.get(_STORED)):
            text = redact_line(text)
        return _cut(text, DETAIL_MAX)

    def concerns(self, stack: str) -> bool:
        """Whether this entry is about ``stack`` (as check_stack returns it) or, when ``stack`` is an organization,
        about one of its stacks."""
        return self.stack is not None and (
            self.stack == stack or ("/" not in stack and self.stack.startswith(stack + "/"))
        )


class AuditLog:
    """Appends to and reads the audit stream. Redis failures surface as StoreUnavailable.

    Order and ``since`` follow the stream ids, i.e. when Redis recorded an entry (one clock for every replica);
    ``at`` is when the caller says it happened, normally the same moment.
    """

    def __init__(self, redis: aioredis.Redis, *, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.redis = redis
        self.max_entries = max_entries

    async def append(self, entry: AuditEntry) -> str:
        """Record ``entry`` (its ``id``, if any, is ignored) and return the stream id Redis gave it.

        Trimming is approximate (``MAXLEN ~``): Redis drops whole nodes of old entries, so the stream may hold a
        node's worth (100 by default) more than ``max_entries``, in exchange for trimming costing next to nothing.
        """
        fields: dict[Any, Any] = {  # redis-py's field mapping type is invariant; these are all str
            name: str(value) for name, value in entry.model_dump(mode="json", exclude={"id"}, exclude_none=True).items()
        }
        stream_id = await redis_call(self.redis.xadd(keys.AUDIT, fields, maxlen=self.max_entries, approximate=True))
        return _text(stream_id)

    async def recent(self, *, stack: str | None = None, limit: int = 20) -> list[AuditEntry]:
        """Up to ``limit`` entries, newest first; with ``stack``, only that stack's (or, for an organization, those
        about it or any of its stacks). A bad ``stack`` or ``limit`` is a ValueError saying what is wrong."""
        if not 1 <= limit <= RECENT_MAX:
            raise ValueError(f"the limit must be between 1 and {RECENT_MAX}")
        wanted = check_stack(stack) if stack is not None else None
        # Unfiltered, one page of ``limit`` normally does; filtered, the stream is scanned back until enough match
        # (at most max_entries entries, read a page at a time).
        page = limit if wanted is None else _PAGE
        found: list[AuditEntry] = []
        upper = "+"
        while True:
            batch = _rows(await redis_call(self.redis.xrevrange(keys.AUDIT, max=upper, min="-", count=page)))
            for stream_id, fields in batch:
                entry = _read(stream_id, fields)
                if entry is not None and (wanted is None or entry.concerns(wanted)):
                    found.append(entry)
                    if len(found) == limit:
                        return found
            if len(batch) < page:
                return found
            upper = "(" + batch[-1][0]

    async def export(self, since: datetime | None = None) -> AsyncIterator[AuditEntry]:
        """Every entry recorded at or after ``since`` (naive means UTC), oldest first, read a page at a time."""
        lower = "-" if since is None else _first_id_at(since)
        while True:
            batch = _rows(await redis_call(self.redis.xrange(keys.AUDIT, min=lower, max="+", count=_PAGE)))
            for stream_id, fields in batch:
                entry = _read(stream_id, fields)
                if entry is not None:
                    yield entry
            if len(batch) < _PAGE:
                return
            lower = "(" + batch[-1][0]


def _first_id_at(moment: datetime) -> str:
    """The smallest stream id Redis could have given at or after ``moment`` (a stream id starts with epoch ms)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    millis = (moment - _EPOCH) // timedelta(milliseconds=1)
    return f"{millis}-0" if millis > 0 else "-"


def _rows(batch: StreamRangeResponse | None) -> list[tuple[str, dict[Any, Any]]]:
    """XRANGE's answer as (stream id, fields); redis-py's types allow the None that only XREADGROUP returns."""
    return [(_text(stream_id), fields or {}) for stream_id, fields in batch or [] if stream_id is not None]


def _read(stream_id: str, fields: dict[Any, Any]) -> AuditEntry | None:
    """A stream entry as an AuditEntry; None (and a warning) for one that cannot be read, so that a single bad
    entry written by hand or by a future version does not hide the whole trail."""
    data = {_text(name): _text(value) for name, value in fields.items()}
    # Without an ``at`` (an entry written by hand), when Redis recorded it is the best answer, not "now".
    data.setdefault("at", (_EPOCH + timedelta(milliseconds=int(stream_id.split("-")[0]))).isoformat())
    try:
        return AuditEntry.model_validate({**data, "id": stream_id}, context={_STORED: True})
    except ValidationError as exc:
        problems = sorted({".".join(str(part) for part in error["loc"]) for error in exc.errors()})
        log.warning("skipped an unreadable audit entry", extra={"id": stream_id, "fields": problems})
        return None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
