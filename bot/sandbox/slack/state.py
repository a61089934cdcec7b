"""The fake workspace: who and what exists, every recorded message and call, and a clock tests can move."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.sandbox.slack.config import SeedUser, SeedUserGroup, SlackSandboxConfig
from bot.sandbox.slack.model import JSON, Channel, Hook, Message, MessageRef, Trigger, Upload, View
from bot.sandbox.slack.ratelimit import RateLimiter


class Clock:
    """Monotonic time plus an offset that ``POST /_sandbox/clock`` advances, so expiry is driven, not waited for."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class Workspace:
    """One Slack team as seen by one app; all state of the fake lives here."""

    def __init__(self, config: SlackSandboxConfig) -> None:
        self.config = config
        self.clock = Clock()
        self.limiter = RateLimiter(self.clock.now, enabled=config.rate_limits, scale=config.rate_limit_scale)
        bot = SeedUser(config.bot_user_id, config.bot_user_name, config.bot_user_name)
        self.users: dict[str, SeedUser] = {u.id: u for u in (*config.seeded_users(), bot)}
        self.usergroups: dict[str, SeedUserGroup] = {g.id: g for g in config.seeded_usergroups()}
        self.channels: dict[str, Channel] = {
            c.id: Channel(c.id, c.name, set(c.members), c.is_private, c.is_archived) for c in config.seeded_channels()
        }
        self.messages: dict[str, dict[str, Message]] = {}
        self.ephemerals: dict[str, Message] = {}
        self.views: dict[str, View] = {}
        self.triggers: dict[str, Trigger] = {}
        self.hooks: dict[str, Hook] = {}
        self.uploads: dict[str, Upload] = {}
        self.calls: list[JSON] = []
        self.interactions: dict[str, JSON] = {}
        self.responses: list[JSON] = []
        self.socket_tickets: set[str] = set()
        self._last_ts = 0.0
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()

    # -- identity ---------------------------------------------------------------------------------------------

    @property
    def bot_user_id(self) -> str:
        return self.config.bot_user_id

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}{secrets.token_hex(2).upper()}"

    def new_ts(self) -> str:
        """Slack's message ts: epoch seconds with microseconds, strictly increasing across the workspace."""
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def new_trigger(self, user: str, view_id: str | None = None) -> str:
        trigger_id = f"{next(self._ids)}{secrets.randbelow(10**6)}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"
        self.triggers[trigger_id] = Trigger(trigger_id, user, self.clock.now(), view_id)
        return trigger_id

    # -- directory --------------------------------------------------------------------------------------------

    def resolve_channel(self, value: str) -> Channel | None:
        """A channel by ID or ``#name``/name; a user ID means the bot's DM with that user (opened on demand)."""
        if value in self.channels:
            return self.channels[value]
        if value in self.users:
            return self.open_dm(value)
        name = value.removeprefix("#")
        return next((c for c in self.channels.values() if not c.is_im and c.name == name), None)

    def open_dm(self, user: str) -> Channel:
        dm_id = f"D_{user.removeprefix('U_').removeprefix('U')}"
        if dm_id not in self.channels:
            self.channels[dm_id] = Channel(dm_id, dm_id, {user, self.bot_user_id}, is_private=True, is_im=True)
        return self.channels[dm_id]

    def bot_can_see(self, channel: Channel) -> bool:
        return not channel.is_private or self.bot_user_id in channel.members

    def set_membership(self, channel_id: str, user: str, member: bool) -> None:
        members = self.channels[channel_id].members
        if member:
            members.add(user)
        else:
            members.discard(user)
        self.notify()

    def usergroup_by_handle(self, handle: str) -> SeedUserGroup | None:
        """Handles are unique and case-insensitive in Slack; ``@sre`` and ``SRE`` find the same group."""
        wanted = handle.removeprefix("@").lower()
        return next((g for g in self.usergroups.values() if g.handle.lower() == wanted), None)

    def put_usergroup(self, group: SeedUserGroup) -> None:
        """Create or replace a user group: the control API's stand-in for usergroups.create/update/disable."""
        self.usergroups[group.id] = group
        self.notify()

    # -- messages ---------------------------------------------------------------------------------------------

    def store(self, message: Message) -> Message:
        if message.visible_to is not None:
            self.ephemerals[message.ts] = message
        else:
            self.messages.setdefault(message.channel, {})[message.ts] = message
        self.notify()
        return message

    def find(self, ref: MessageRef) -> Message | None:
        if ref.ephemeral:
            found = self.ephemerals.get(ref.ts)
            return found if found is not None and found.channel == ref.channel else None
        return self.messages.get(ref.channel, {}).get(ref.ts)

    def edit(self, message: Message, text: str, blocks: list[JSON], attachments: list[JSON], source: str) -> None:
        """Replace the content, keeping the previous version in the history."""
        message.history.append(message.content() | {"replaced_at": self.new_ts(), "replaced_by": source})
        message.text, message.blocks, message.attachments = text, blocks, attachments
        message.edited_ts = self.new_ts()
        self.notify()

    def delete(self, message: Message) -> None:
        message.deleted = True
        self.notify()

    def channel_messages(self, channel: str) -> list[Message]:
        """Top-level messages and broadcast replies, oldest first (conversations.history order reversed)."""
        stored = self.messages.get(channel, {}).values()
        return [m for m in stored if not m.is_reply or m.reply_broadcast]

    def thread(self, channel: str, ts: str) -> list[Message]:
        stored = self.messages.get(channel, {}).values()
        return [m for m in stored if m.ts == ts or m.thread_ts == ts]

    def message_record(self, message: Message) -> JSON:
        record = message.record(self.config.team_id)
        if not message.is_reply:
            replies = [m for m in self.messages.get(message.channel, {}).values() if m.thread_ts == message.ts]
            replies = [m for m in replies if m.ts != message.ts and not m.deleted]
            if replies:
                record |= {
                    "reply_count": len(replies),
                    "reply_users": sorted({m.user for m in replies}),
                    "latest_reply": replies[-1].ts,
                }
        return record

    # -- recording and waiting --------------------------------------------------------------------------------

    def record_call(self, entry: JSON) -> None:
        self.calls.append(entry)
        self.notify()

    def notify(self) -> None:
        """Wake every long-polling reader of the control API; they re-check their condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, ready: Callable[[], Any], seconds: float) -> None:
        """Return once ``ready()`` is truthy or ``seconds`` pass; driven by ``notify``, never by polling."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not ready():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return


WORKSPACE = web.AppKey("workspace", Workspace)
