"""Deps: what handlers receive instead of building clients or reading the environment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.chat import Chat
from bot.config import Settings
from bot.pulumi import PulumiClient
from bot.store import Store


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """Everything a handler may use, built once by the composition root (bot.app)."""

    settings: Settings
    pulumi: PulumiClient
    store: Store
    chat: Chat
    clock: Callable[[], datetime] = field(default=utcnow)

    @property
    def default_org(self) -> str | None:
        return self.settings.pulumi_org
