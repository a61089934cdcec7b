"""When and how long to wait before trying a request again: the backoff policy, Retry-After, and which failures
each kind of request may retry. Pure decisions; the transport does the waiting.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class Replay(Enum):
    """What a request may safely be repeated after."""

    # Repeating it leaves the same end state (GET, PUT, the settings merge, pause/resume, cancel, encrypt).
    IDEMPOTENT = "idempotent"
    # A second copy would do the work twice (create-deployment): repeat only when the first surely did nothing —
    # the connection failed before the request left, or the server refused it with 429.
    UNDELIVERED_ONLY = "undelivered-only"

    def after_status(self, status: int) -> bool:
        if self is Replay.IDEMPOTENT:
            return status in RETRYABLE_STATUSES
        return status == 429

    def after_connection_failure(self, sent: bool | None) -> bool:
        return self is Replay.IDEMPOTENT or sent is False


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` tries in all; waits grow ``base * 2**n`` up to ``cap`` seconds with full jitter.

    A ``Retry-After`` is honoured (waited at least) up to ``max_retry_after`` seconds; beyond that the error is
    raised at once with the advertised wait, since a chat user should hear "try again in N" rather than wait.
    """

    attempts: int = 4
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if min(self.base, self.cap, self.max_retry_after) < 0:
            raise ValueError("RetryPolicy durations must not be negative")

    def backoff(self, failed_attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the ``failed_attempts``-th failure (1-based), jittered to spread a thundering herd."""
        ceiling = min(self.cap, self.base * 2 ** (failed_attempts - 1))
        return (rng or random).uniform(0, ceiling)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)  # RFC 9110 says integer; a fractional value is read rather than ignored
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds != float("inf") else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
