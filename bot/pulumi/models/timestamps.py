"""Timestamps as the API writes them: ``created``/``modified`` like ``2022-10-17 22:12:34.834`` (UTC, no zone) and
RFC 3339 with up to nine fractional digits elsewhere; the Go zero time ``0001-01-01T00:00:00Z`` means "not started".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, TypeAlias

from pydantic import AfterValidator

# pydantic parses both layouts (and truncates nanoseconds to microseconds); only zone and zero time are ours to settle.


def _assume_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _zero_is_none(value: datetime | None) -> datetime | None:
    if value is None or value.year == 1:
        return None
    return _assume_utc(value)


# When a deployment was created or last modified: always present, naive values are UTC.
Instant: TypeAlias = Annotated[datetime, AfterValidator(_assume_utc)]
# When a job, step or log line happened; None when it has not started (zero time) or the key is absent.
StartedAt: TypeAlias = Annotated[datetime | None, AfterValidator(_zero_is_none)]
