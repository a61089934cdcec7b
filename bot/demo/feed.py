"""The console's live picture of the channel: polls the fake Slack, and prints what is new or changed since the last
look (messages, thread replies, the current person's ephemerals, modals and DM'd files), rendered for a terminal."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.demo.buttons import ButtonBoard, Where
from bot.demo.control import JSON, Sandboxes
from bot.demo.render import Renderer

RECENT_THREADS = 3  # threads re-read every round even without new replies, to catch edited replies
FILE_LINES = 30  # the last lines of a DM'd file that are printed


def _clock(ts: Any) -> str:
    try:
        return datetime.fromtimestamp(float(ts)).strftime("%H:%M:%S")
    except (TypeError, ValueError, OverflowError, OSError):
        return "--:--:--"


def _indent(lines: list[str], by: int) -> list[str]:
    return [" " * by + line if line else "" for line in lines]


class Feed:
    """What one person sees in one channel. ``refresh()`` prints what changed through ``emit`` at the moment it is
    noticed (so a cancelled refresh never loses news it already took in); ``snapshot()`` is all of it."""

    def __init__(
        self, sandboxes: Sandboxes, renderer: Renderer, channel: str, user: str, emit: Callable[[str], None]
    ) -> None:
        self._sandboxes = sandboxes
        self._emit = emit
        self._renderer = renderer
        self.channel = channel
        self.user = user
        self.buttons = ButtonBoard()
        self.updated = asyncio.Condition()  # notified after every refresh
        self._reading = asyncio.Lock()
        self.numbers: dict[str, int] = {}  # a top-level message's ts -> its number ("msg 3")
        self.records: dict[Where, JSON] = {}  # the newest version of every surface seen
        self._shown: dict[Where, list[str]] = {}  # what was printed last for each surface
        self._top: list[JSON] = []
        self.replies: dict[str, list[JSON]] = {}  # parent ts -> replies, oldest first
        self._marks: dict[str, tuple[Any, Any]] = {}  # parent ts -> (reply_count, latest_reply) last read
        self._ephemerals_now: list[Where] = []  # the current person's ephemerals, as of the last refresh
        self._views: dict[str, JSON] = {}  # the current person's open modals
        self._files: dict[str, JSON] = {}  # upload id -> upload, for the current person's DMs
        self._dm_owner: dict[str, str] = {}  # DM channel id -> the person in it (besides the bot)
        self._seen_files: set[str] = set()

    # -- reading -----------------------------------------------------------------------------------------------

    async def refresh(self, wait: float = 0.0) -> None:
        """Read everything (waiting up to ``wait`` s for a new message first) and print what changed."""
        async with self._reading:  # one reader at a time, so nothing is reported twice
            self._top = await self._sandboxes.messages(self.channel, min=len(self._top) + 1, wait=wait)
            for record in self._top:
                self._top_level(record)
            for parent in self._threads_to_read():
                await self._thread(parent)
            await self._ephemerals()
            await self._modals()
            await self._dm_files()
        async with self.updated:
            self.updated.notify_all()

    @property
    def channel_name(self) -> str:
        return self._renderer.names.channels.get(self.channel, self.channel)

    def open_view_ids(self) -> set[str]:
        """The current person's open modals, as of the last refresh."""
        return set(self._views)

    async def read_thread(self, parent: str) -> None:
        """Read one thread now (``thread N``), printing what changed in it like ``refresh``."""
        async with self._reading:
            await self._thread(parent)

    def switch_user(self, user: str) -> None:
        """Another person at the keyboard: their ephemerals, modals and files show from the next refresh."""
        self.user = user
        self._ephemerals_now = []
        self._views.clear()
        self._files.clear()

    def _top_level(self, record: JSON) -> None:
        ts = str(record["ts"])
        number = self.numbers.setdefault(ts, len(self.numbers) + 1)
        where = Where("message", ts, self.channel)
        seen = where in self._shown
        self.records[where] = record
        if record.get("deleted"):
            if self._shown.get(where) != ["(deleted)"] and seen:
                self._emit(f"[msg {number} deleted]")
            self._shown[where] = ["(deleted)"]
            return
        self._changed(where, f"msg {number}", record, indent=0)

    def _changed(self, where: Where, label: str, record: JSON, *, indent: int) -> None:
        """Print the surface if it is new or reads differently from what was printed last."""
        body = self._renderer.message(record, self.buttons.numberer(where))
        previous = self._shown.get(where)
        if previous == body:
            return
        self._shown[where] = body
        note = " updated" if previous is not None else ""
        author = self._renderer.names.users.get(str(record.get("user")), str(record.get("user", "?")))
        head = " " * indent + f"[{label}{note}] {author} {_clock(record.get('ts'))}"
        self._emit("\n".join([head, *_indent(body, indent + 2)]))

    def _threads_to_read(self) -> list[str]:
        with_replies = [r for r in self._top if r.get("reply_count") and not r.get("deleted")]
        moved = [str(r["ts"]) for r in with_replies if self._marks.get(str(r["ts"])) != self._mark(r)]
        recent = sorted(with_replies, key=lambda r: float(r.get("latest_reply") or 0))[-RECENT_THREADS:]
        return list(dict.fromkeys([*moved, *(str(r["ts"]) for r in recent)]))

    @staticmethod
    def _mark(record: JSON) -> tuple[Any, Any]:
        return record.get("reply_count"), record.get("latest_reply")

    async def _thread(self, parent: str) -> None:
        found = await self._sandboxes.thread(self.channel, parent)
        replies = [r for r in found if str(r["ts"]) != parent]
        for record in self._top:
            if str(record["ts"]) == parent:
                self._marks[parent] = self._mark(record)
        self.replies[parent] = replies
        number = self.numbers.get(parent, 0)
        for reply in replies:
            where = Where("message", str(reply["ts"]), self.channel)
            self.records[where] = reply
            self._changed(where, f"↳ reply in msg {number}", reply, indent=4)

    async def _ephemerals(self) -> None:
        now: list[Where] = []
        for record in await self._sandboxes.ephemerals(self.user, self.channel):
            where = Where("ephemeral", str(record["ts"]), self.channel, owner=self.user)
            self.records[where] = record
            now.append(where)
            self._changed(where, f"only {self._name(self.user)} sees this", record, indent=0)
        self._ephemerals_now = now

    async def _modals(self) -> None:
        open_now = {str(v["id"]): v for v in await self._sandboxes.open_views(self.user)}
        for view_id, view in open_now.items():
            where = Where("view", view_id, self.channel, owner=self.user)
            self.records[where] = view
            body = self.modal_lines(view)
            if self._shown.get(where) != body:
                note = " updated" if view_id in self._views else ""
                self._emit("\n".join([f"[modal for {self._name(self.user)}{note}]", *_indent(body, 2)]))
                self._shown[where] = body
        for view_id in self._views.keys() - open_now.keys():
            self._shown.pop(Where("view", view_id, self.channel, owner=self.user), None)
            self._emit(f"[modal for {self._name(self.user)} closed]")
        self._views = open_now

    def modal_lines(self, view: JSON) -> list[str]:
        title = self._renderer.text(str((view.get("title") or {}).get("text", "")))
        where = Where("view", str(view["id"]), self.channel, owner=str(view.get("user", self.user)))
        lines = [title.upper(), *self._renderer.blocks(view.get("blocks") or [], self.buttons.numberer(where))]
        lines.extend(f"⚠ {message}" for message in (view.get("errors") or {}).values())
        submit = self._renderer.text(str((view.get("submit") or {}).get("text", "Submit")))
        lines.append(f"→ type `submit …` to fill it in and press {submit}")
        return lines

    async def _dm_files(self) -> None:
        """Files the bot sent to the current person's DM (logs too long for a message), their last lines."""
        for upload in await self._sandboxes.uploads():
            channel = str(upload.get("channel") or "")
            if channel not in self._dm_owner:
                await self._learn_dms()
                self._dm_owner.setdefault(channel, "")  # not a DM: never looked up again
            if self._dm_owner.get(channel) != self.user:
                continue
            self._files[str(upload["id"])] = upload
            if upload["id"] in self._seen_files:
                continue
            self._seen_files.add(str(upload["id"]))
            self._emit("\n".join(self.file_lines(upload)))

    def file_lines(self, upload: JSON) -> list[str]:
        lines = str(upload.get("content", "")).splitlines()
        head = f"[file in {self._name(self.user)}'s DM] {upload.get('title') or upload.get('filename')}"
        shown = lines[-FILE_LINES:]
        more = [f"  ({len(lines) - len(shown)} earlier lines not shown)"] if len(lines) > len(shown) else []
        comment = self._renderer.mrkdwn_lines(str(upload.get("initial_comment") or ""))
        return [head, *_indent([c for c in comment if c], 2), *more, *("  │ " + line for line in shown)]

    async def _learn_dms(self) -> None:
        workspace = await self._sandboxes.workspace()
        bot = str(workspace.get("bot", {}).get("user_id", ""))
        for channel in workspace.get("channels", []):
            if channel.get("is_im"):
                others = [m for m in channel.get("members", []) if m != bot]
                self._dm_owner[str(channel["id"])] = others[0] if others else bot

    def _name(self, user: str) -> str:
        return self._renderer.names.users.get(user, user)

    # -- the whole picture -------------------------------------------------------------------------------------

    def channel_lines(self) -> list[str]:
        """Every top-level message as it reads now, with its reply count (``show``)."""
        lines: list[str] = []
        for record in self._top:
            ts = str(record["ts"])
            if record.get("deleted"):
                continue
            where = Where("message", ts, self.channel)
            author = self._name(str(record.get("user")))
            lines.append(f"[msg {self.numbers[ts]}] {author} {_clock(ts)}")
            lines.extend(_indent(self._renderer.message(record, self.buttons.numberer(where)), 2))
            count = int(record.get("reply_count") or 0)
            if count:
                lines.append(f"  💬 {count} repl{'y' if count == 1 else 'ies'} — `thread {self.numbers[ts]}`")
        return lines

    def thread_lines(self, parent: str) -> list[str]:
        lines: list[str] = []
        for reply in self.replies.get(parent, []):
            where = Where("message", str(reply["ts"]), self.channel)
            lines.append(f"    ↳ {self._name(str(reply.get('user')))} {_clock(reply.get('ts'))}")
            lines.extend(_indent(self._renderer.message(reply, self.buttons.numberer(where)), 6))
        return lines

    def snapshot(self) -> str:
        """Everything the current person can see now, as text: what ``expect`` searches."""
        lines = self.channel_lines()
        for parent in self.replies:
            lines.extend(self.thread_lines(parent))
        for where in self._ephemerals_now:
            lines.extend(self._shown.get(where, []))
        for view in self._views.values():
            lines.extend(self.modal_lines(view))
        for upload in self._files.values():
            lines.extend(self.file_lines(upload))
        return "\n".join(lines)
