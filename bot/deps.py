"""Deps: what handlers receive instead of building clients or reading the environment."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.approvals import Requests
from bot.audit import AuditLog
from bot.chat import Chat
from bot.config import Settings
from bot.directory import Directory
from bot.gate import Gate
from bot.metrics import Metrics
from bot.policy import Policy
from bot.pulumi import PulumiClient
from bot.store import Store
from bot.store.subscriptions import Subscriptions
from bot.store.watches import Watches


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """Everything a handler may use, built once by the composition root (bot.app)."""

    settings: Settings
    pulumi: PulumiClient
    store: Store
    chat: Chat
    watches: Watches
    subscriptions: Subscriptions
    requests: Requests
    policy: Policy
    directory: Directory
    audit: AuditLog
    gate: Gate
    metrics: Metrics
    clock: Callable[[], datetime] = field(default=utcnow)
    # Work after an ack waits for one of these slots. asyncio has no priorities: with every answer in flight at
    # once, a new request's ack queues behind their callbacks. Bounding the work keeps acks fast under load
    # (bench/bench_ack.py: p99 from ~110 ms to ~35 ms at 20 concurrent); answers wait instead, which Slack allows.
    work_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(6))

    @property
    def default_org(self) -> str | None:
        return self.settings.pulumi_org
