"""The demo console: reads one input at a time (``/deploy …``, ``as ben``, ``click 1``, ``submit …``, ``expect …``),
acts in the fake Slack as the chosen person, and keeps printing what the channel shows while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.demo.buttons import Shown
from bot.demo.control import JSON, ControlError, Sandboxes
from bot.demo.feed import Feed
from bot.demo.people import People
from bot.demo.render import find_button, inputs
from bot.demo.terminal import Lines, Screen

log = logging.getLogger(__name__)
T = TypeVar("T")

FOLLOW_WAIT = 0.5  # seconds one look at the channel waits for a new message before checking for edits
INTERACTIVE_PATIENCE = 3.0  # seconds `click`/`submit` wait for their button or modal when a person types them

HELP = """\
Commands (you act in #deploys as the current person):
  /deploy …           run the slash command, e.g. /deploy update web/dev   (/deploy help lists what it can do)
  as NAME             become someone else, e.g. `as ben` (also: user U_BEN)
  click N | LABEL     press button N as shown, e.g. [1 Approve] → `click 1`, or the newest one labelled LABEL
  submit TEXT         fill in your open modal and submit it; several inputs: separate the values with ' | '
  tick [N]            move the Pulumi emulator's clock N steps now (it also moves on its own)
  wait S              let S seconds pass while updates come in
  show                print the channel as it reads now;   thread N   print the replies to msg N
  expect TEXT         wait until TEXT shows, in any case (fails a --script run if it does not appear in time)
  help, quit          this text; stop everything (Ctrl-C too)"""


@dataclass(frozen=True)
class Outcome:
    ok: bool = True
    message: str | None = None
    quit: bool = False


def failed(message: str) -> Outcome:
    return Outcome(ok=False, message=f"✗ {message}")


class Console:
    """One person at a time, in one channel. ``patience``: how long ``expect``, ``click`` and ``submit`` wait."""

    def __init__(
        self, sandboxes: Sandboxes, feed: Feed, people: People, screen: Screen, lines: Lines, *, patience: float
    ) -> None:
        self._sandboxes = sandboxes
        self.feed = feed
        self._people = people
        self._screen = screen
        self._lines = lines
        self._patience = patience
        self._commands: dict[str, Callable[[str], Awaitable[Outcome]]] = {
            "as": self._become,
            "user": self._become,
            "click": self._click,
            "submit": self._submit,
            "tick": self._tick,
            "wait": self._wait,
            "show": self._show,
            "thread": self._thread,
            "expect": self._expect,
            "help": self._help,
            "quit": self._quit,
            "exit": self._quit,
        }

    @property
    def prompt(self) -> str:
        return f"{self._people.name(self.feed.user)}> "

    async def run(self, *, stop_on_failure: bool) -> Outcome:
        """Read and run lines until ``quit`` or the end of input; with ``stop_on_failure``, until the first failure."""
        follower = asyncio.create_task(self._follow(), name="demo-feed")
        try:
            while (line := await self._lines.next_line(self.prompt)) is not None:
                outcome = await self.execute(line)
                if outcome.message:
                    self._screen.write(outcome.message)
                if outcome.quit or (stop_on_failure and not outcome.ok):
                    return outcome
            return Outcome()
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
            with contextlib.suppress(ControlError):  # the last updates, so a transcript ends where the demo did
                await self.feed.refresh()

    async def execute(self, line: str) -> Outcome:
        line = line.strip()
        if not line or line.startswith("#"):
            return Outcome()
        verb, _, rest = line.partition(" ")
        try:
            if verb.startswith("/"):
                return await self._slash(verb, rest.strip())
            command = self._commands.get(verb.lower())
            if command is None:
                hint = f"did you mean `/{line}`?" if verb.lower() == "deploy" else "(`help` lists them)"
                return failed(f"unknown command {verb!r} — {hint}")
            return await command(rest.strip())
        except ControlError as exc:
            return failed(str(exc))

    async def _follow(self) -> None:
        """Print what changes in the channel, for as long as the console runs."""
        while True:
            try:
                await self.feed.refresh(wait=FOLLOW_WAIT)
            except ControlError as exc:
                self._screen.write(f"(cannot read the channel just now: {exc})")
                await asyncio.sleep(1)
            except Exception:  # a reply the console cannot render must not stop the updates; details in the log
                log.exception("the demo console could not follow the channel")
                await asyncio.sleep(1)

    # -- acting as a person ------------------------------------------------------------------------------------

    async def _slash(self, command: str, text: str) -> Outcome:
        if command != "/deploy":
            return failed(f"only /deploy is installed in this workspace, not {command}")
        record = await self._sandboxes.command(self.feed.user, self.feed.channel, text)
        return _slack_said(record)

    async def _become(self, who: str) -> Outcome:
        user = self._people.find(who) if who else None
        if user is None:
            return failed(f"nobody called {who!r} here; people: {self._people.listing()}")
        await self.feed.refresh()  # what the previous person was about to see, before they leave
        self.feed.switch_user(user)
        return Outcome(message=f"You are now {self._people.describe(user)}.")

    async def _click(self, which: str) -> Outcome:
        if not which:
            return failed("click which button? e.g. `click 1` or `click approve`")
        await self.feed.refresh()  # the message as it is now: an edit gives its buttons new block ids
        others = [s for s in self._candidates(which) if s.where.owner not in (None, self.feed.user)]
        if others and len(others) == len(self._candidates(which)):
            owner = self._people.name(others[0].where.owner or "")
            return failed(f"that button is on {owner}'s private {_surface(others[0])}: `as {owner}` to press it")
        found = await self._eventually(lambda: self._find_button(which))
        if found is None:
            known = self._candidates(which)
            if known:
                return failed(f"button {which!r} ({known[0].button.label}) is no longer there: its message changed")
            return failed(f"no button {which!r} is on screen; buttons show as [N Label] in the messages")
        shown, block_id = found
        dialog = shown.button.confirm
        if dialog is not None:
            self._screen.write(f"┌ {dialog.title}\n│ {dialog.text}\n└ [{dialog.ok}] or [{dialog.deny}]")
            answer = (await self._lines.next_line(f"{dialog.ok}? (y/n) ") or "").strip().casefold()
            if answer not in {"y", "yes", dialog.ok.casefold()}:
                return Outcome(message=f"Not clicked ({dialog.deny}).")
        where, button, user = shown.where, shown.button, self.feed.user
        if where.kind == "view":
            record = await self._sandboxes.click_view(user, where.key, button.action_id, block_id, button.value)
        else:
            record = await self._sandboxes.click_message(
                user, button.action_id, block_id, button.value,
                channel=where.channel, ts=where.key, ephemeral=where.kind == "ephemeral",
            )  # fmt: skip
        return _slack_said(record)

    def _candidates(self, which: str) -> list[Shown]:
        """Buttons shown so far that ``which`` names: a number, or a label (newest first)."""
        if which.isdigit():
            shown = self.feed.buttons.get(int(which))
            return [shown] if shown is not None else []
        return self.feed.buttons.labelled(which)

    def _find_button(self, which: str) -> tuple[Shown, str] | None:
        """The button ``which`` names and its block's id, if the current person can press it now."""
        for shown in self._candidates(which):
            if shown.where.owner not in (None, self.feed.user):
                continue
            record = self.feed.records.get(shown.where)
            if record is None or record.get("deleted"):
                continue
            block_id = find_button(record.get("blocks") or [], shown.button.action_id, shown.button.value)
            if block_id is not None:
                return shown, block_id
        return None

    async def _submit(self, text: str) -> Outcome:
        view = await self._eventually(self._open_modal)
        if view is None:
            return failed(f"{self._people.name(self.feed.user)} has no modal open (a button such as Deny opens one)")
        fields = inputs(view)
        values = [v.strip() for v in text.split(" | ")] if len(fields) > 1 else [text]
        if not fields and not text:
            values = []  # a modal without inputs is submitted with a bare `submit`
        if len(values) != len(fields):
            labels = ", ".join(label for _, _, label in fields)
            return failed(f"this modal has {len(fields)} inputs ({labels}): give one value each, separated by ' | '")
        pairs = zip(fields, values, strict=True)
        filled: dict[str, JSON] = {block: {action: value} for (block, action, _), value in pairs}
        return _slack_said(await self._sandboxes.submit(self.feed.user, str(view["id"]), filled))

    def _open_modal(self) -> JSON | None:
        modals = [r for w, r in self.feed.records.items() if w.kind == "view" and w.owner == self.feed.user]
        open_ids = self.feed.open_view_ids()
        return next((m for m in reversed(modals) if m["id"] in open_ids), None)

    async def _eventually(self, probe: Callable[[], T]) -> T:
        """``probe()`` once it finds something (truthy), re-tried after each refresh until ``patience`` runs out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._patience
        while True:
            found = probe()
            remaining = deadline - loop.time()
            if found or remaining <= 0:
                return found
            async with self.feed.updated:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.feed.updated.wait(), remaining)

    # -- time, reading, leaving --------------------------------------------------------------------------------

    async def _tick(self, count: str) -> Outcome:
        steps = _number(count or "1", int)
        if steps is None or not 1 <= steps <= 1000:
            return failed("tick takes a number of steps from 1 to 1000, e.g. `tick 3`")
        answer = await self._sandboxes.advance(steps)
        idle = " — nothing is running" if answer.get("idle") else ""
        return Outcome(message=f"The Pulumi emulator moved {steps} step{'s' if steps != 1 else ''}{idle}.")

    async def _wait(self, seconds: str) -> Outcome:
        value = _number(seconds, float)
        if value is None or not 0 < value <= 600:
            return failed("wait takes seconds from 0 to 600, e.g. `wait 5`")
        await asyncio.sleep(value)
        return Outcome()

    async def _show(self, _: str) -> Outcome:
        await self.feed.refresh()
        lines = self.feed.channel_lines()
        return Outcome(message="\n".join(lines) if lines else f"(#{self.feed.channel_name} has no messages yet)")

    async def _thread(self, which: str) -> Outcome:
        number = _number(which.removeprefix("msg").strip(), int)
        parent = next((ts for ts, n in self.feed.numbers.items() if n == number), None)
        if parent is None:
            return failed(f"no msg {which!r}: messages are numbered [msg N] as they are shown")
        await self.feed.read_thread(parent)
        replies = self.feed.thread_lines(parent)
        return Outcome(message="\n".join(replies) if replies else f"(msg {number} has no replies)")

    async def _expect(self, text: str) -> Outcome:
        if not text:
            return failed("expect what? e.g. `expect succeeded`")
        wanted = text.casefold()
        if await self._eventually(lambda: wanted in self.feed.snapshot().casefold()):
            return Outcome(message=f"✓ saw {text!r}")
        return failed(f"expected to see {text!r} within {self._patience:g} s, but it did not appear")

    async def _help(self, _: str) -> Outcome:
        return Outcome(message=f"{HELP}\nPeople: {self._people.listing()}")

    async def _quit(self, _: str) -> Outcome:
        return Outcome(quit=True)


def _surface(shown: Shown) -> str:
    return "modal" if shown.where.kind == "view" else "message"


def _number(text: str, kind: Callable[[str], T]) -> T | None:
    try:
        return kind(text)
    except ValueError:
        return None


def _slack_said(record: JSON) -> Outcome:
    """What Slack would show the person when the bot did not answer in time or answered wrongly."""
    error = record.get("error")
    if error:
        return failed(f"Slack shows: the app did not respond ({error})")
    effect = record.get("effect") or {}
    if effect.get("error"):
        return failed(f"Slack refused the app's answer: {effect['error']}")
    return Outcome()
