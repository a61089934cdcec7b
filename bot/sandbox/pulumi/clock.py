"""Wall-clock timestamps in the formats the real service uses (Go RFC 3339 nano, and the list "created" form)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import lru_cache

# Go's zero time.Time, which Pulumi sends for jobs and steps that have not started.
ZERO_TIME = "0001-01-01T00:00:00Z"


def now_ns() -> int:
    return time.time_ns()


def rfc3339(ns: int) -> str:
    """Go's ``time.RFC3339Nano``: up to 9 fractional digits with trailing zeros trimmed (as the service sends)."""
    if ns <= 0:
        return ZERO_TIME
    seconds, fraction = divmod(ns, 1_000_000_000)
    text = _seconds(seconds)
    digits = f"{fraction:09d}".rstrip("0")
    return f"{text}.{digits}Z" if digits else f"{text}Z"


@lru_cache(maxsize=64)
def _seconds(seconds: int) -> str:
    # Cached: the engine stamps thousands of transitions within the same few seconds.
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def created_stamp(ns: int) -> str:
    """The ``created``/``modified`` form of deployments: ``2022-10-17 22:12:34.834`` (UTC, milliseconds)."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}.{fraction // 1_000_000:03d}"


def unix_seconds(ns: int) -> int:
    return ns // 1_000_000_000
