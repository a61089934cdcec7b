"""One emulator instance: its state, engine, clock, tokens, faults and journals; what the HTTP layer talks to."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.sandbox.pulumi.config import EmulatorConfig
from bot.sandbox.pulumi.demo import DEMO_ORG, demo_stacks
from bot.sandbox.pulumi.engine import Engine
from bot.sandbox.pulumi.events import EventLog, Listener
from bot.sandbox.pulumi.faults import Faults
from bot.sandbox.pulumi.git import DEFAULT_BRANCH, Remotes
from bot.sandbox.pulumi.journal import Journal
from bot.sandbox.pulumi.secrets import Sealer
from bot.sandbox.pulumi.settings import parse_replacement
from bot.sandbox.pulumi.state import Registry, Stack, StackExists, User, parse_stack_ref
from bot.sandbox.pulumi.webhooks.sender import WebhookSender

log = logging.getLogger(__name__)


def _users(config: EmulatorConfig) -> dict[str, User]:
    users = {}
    for admin, tokens, title in ((True, config.admin_tokens, "admin"), (False, config.member_tokens, "member")):
        for number, token in enumerate(tokens, start=1):
            login = title if number == 1 else f"{title}{number}"
            users[token] = User(login=login, name=f"Sandbox {login.capitalize()}", admin=admin)
    return users


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.sealer = Sealer()
        self.users = _users(config)
        self.faults = Faults(config.seed)
        self.requests = Journal(config.request_log_size)  # API requests; secrets redacted, no tokens
        self.events = EventLog(config.event_log_size)
        self.webhooks = WebhookSender(config)
        # Transition listeners that survive a reset: the event log, and the webhook sender.
        self.listeners: list[Listener] = [self.events, self.webhooks]
        self.step_seconds = config.step_seconds
        self.reset()

    def reset(self) -> None:
        """Back to the start-up state: configured (or demo) stacks, default branches, empty logs, no faults,
        only the configured webhooks."""
        self.registry = Registry(self.config.concurrency)
        self.remotes = Remotes()
        self.engine = Engine(self.registry, self.remotes, self.config.console_url)
        self.engine.listeners = self.listeners
        self.events.clear()
        self.requests.clear()
        self.faults.clear()
        self.webhooks.reset()  # back to the configured hooks
        for org in self.config.orgs:
            self.registry.ensure_org(org)
        self.add_stacks(list(self.config.stacks))
        if not self.config.stacks and self.config.demo_org:
            self.registry.ensure_org(DEMO_ORG)
            for ref, settings in demo_stacks():
                self.add_stacks([ref], settings)

    def add_stacks(self, refs: list[str], settings: object = None, *, with_settings: bool = True) -> list[Stack]:
        """Create stacks, all or none: ValueError (StackExists when a name is taken) or a 400 ApiError for bad
        settings. ``settings`` is wire form; None means the defaults (the org's ``{project}.git``, main)."""
        seen: set[str] = set()
        for ref in refs:
            if ref in seen or self.registry.exists(ref):
                raise StackExists(f"stack '{ref}' already exists")
            seen.add(ref)
        stored = [self._initial_settings(ref, settings) if with_settings else None for ref in refs]
        stacks = [self.registry.add_stack(ref) for ref in refs]
        for stack, initial in zip(stacks, stored, strict=True):
            stack.settings = initial
        return stacks

    def _initial_settings(self, ref: str, settings: object) -> dict[str, Any]:
        org, project, _ = parse_stack_ref(ref)
        if settings is None:
            settings = {
                "sourceContext": {
                    "git": {"repoUrl": f"https://github.com/{org}/{project}.git", "branch": DEFAULT_BRANCH}
                }
            }
        return parse_replacement(settings, self.sealer, ref)

    def user(self, token: str) -> User | None:
        return self.users.get(token)

    async def run_clock(self) -> None:
        """Tick every ``step_seconds`` on a steady cadence (a slow tick does not make the next ones burst); with
        ``phases`` > 1, ``phases`` times as often, each tick moving one phase of the deployments."""
        loop, phases = asyncio.get_running_loop(), self.config.phases
        deadline, phase = loop.time(), 0
        while True:
            deadline = max(deadline + self.step_seconds / phases, loop.time())
            await asyncio.sleep(deadline - loop.time())
            try:
                self.engine.tick(phase, phases)
                phase = (phase + 1) % phases
            except Exception:  # one bad tick must not stop the clock; it is logged and the next one runs
                log.exception("emulator tick failed")
