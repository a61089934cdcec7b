"""Slack's rate limits as token buckets: per-method tiers per workspace, and about one post per second per channel.

Slack publishes per-minute rates ("Tier 2: 20+ per minute") and says short bursts are tolerated without numbers;
the burst sizes below are our modest choice. A bucket refills continuously, so a caller that honours
``Retry-After`` always gets through on its next attempt.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    per_minute: float
    burst: int


TIER_1 = Rate(1, 2)
TIER_2 = Rate(20, 5)
TIER_3 = Rate(50, 10)
TIER_4 = Rate(100, 20)
# chat.postMessage is "Special": about 1 message per second per channel, and "several hundred" per workspace.
POST_PER_CHANNEL = Rate(60, 4)
POST_PER_WORKSPACE = Rate(600, 50)


class _Bucket:
    def __init__(self, rate: Rate, window: float, now: float) -> None:
        self.capacity = float(rate.burst)
        self.refill_per_second = rate.per_minute / window
        self.tokens = self.capacity
        self.updated = now

    def take(self, now: float) -> float:
        """Take one token; 0.0 when granted, else the seconds until one is available."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.refill_per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.refill_per_second


class RateLimiter:
    """Buckets keyed by (method, scope); ``scale`` shrinks the one-minute window for tests."""

    def __init__(self, now: Callable[[], float], *, enabled: bool, scale: float) -> None:
        if scale <= 0:
            raise ValueError("rate_limit_scale must be positive")
        self.enabled = enabled
        self._now = now
        self._window = 60.0 * scale
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def check(self, key: str, scope: str, rate: Rate) -> int | None:
        """None when the call may proceed, else Slack's ``Retry-After``: whole seconds, at least 1."""
        if not self.enabled:
            return None
        now = self._now()
        bucket = self._buckets.get((key, scope))
        if bucket is None:
            bucket = self._buckets[(key, scope)] = _Bucket(rate, self._window, now)
        wait = bucket.take(now)
        return None if wait == 0.0 else max(1, math.ceil(wait))
