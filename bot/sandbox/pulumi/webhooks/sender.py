"""The webhook sender: a transition listener that queues deliveries, and the tasks that POST them and record them.

The engine's tick only builds payloads and puts them on a bounded queue; a few sender tasks sharing one aiohttp
session deliver them. Like Pulumi (reference §7): no automatic retries, ordering not guaranteed, a failure is a
non-2xx answer or none at all, and every delivery is recorded (``GET /_sandbox/webhooks/deliveries``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import aiohttp

from bot.sandbox.pulumi.config import EmulatorConfig
from bot.sandbox.pulumi.events import Transition
from bot.sandbox.pulumi.journal import Journal
from bot.sandbox.pulumi.webhooks import payload as wire
from bot.sandbox.pulumi.webhooks.faults import FaultSpec, WebhookFaults
from bot.sandbox.pulumi.webhooks.hook import WebhookConfig

log = logging.getLogger(__name__)
RESPONSE_KEPT = 1024  # characters of a receiver's answer kept in the delivery log


@dataclass(eq=False)
class Outgoing:
    """One delivery: an event for one hook, with the ID its every send (a duplicate too) carries."""

    hook: WebhookConfig
    hook_id: int
    event: str
    payload: dict[str, Any]
    generation: int
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    duplicate: bool = False
    faults: list[str] = field(default_factory=list)

    @cached_property
    def request(self) -> tuple[bytes, dict[str, str]]:
        """The body and headers, built once: a duplicate sends exactly the same bytes."""
        body = json.dumps(self.payload, separators=(",", ":")).encode()  # compact, like Go's json.Marshal
        return body, wire.headers(self.id, body, self.hook.secret)


class WebhookSender:
    """Hooks, faults and the delivery log of one emulator; call it with each transition."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._queue: asyncio.Queue[tuple[Outgoing, ...]] = asyncio.Queue(config.webhook_queue_size)
        self._session: aiohttp.ClientSession | None = None
        self._delayed: set[asyncio.TimerHandle] = set()
        self._held: list[Outgoing] = []  # waiting for a reorder batch to fill
        self._changed = asyncio.Event()  # replaced after each change, so waiters see every one
        self.faults = WebhookFaults()
        self.deliveries = Journal(config.webhook_log_size)
        self.hooks: dict[int, WebhookConfig] = {}
        self._next_id = 0
        self.pending = 0  # accepted, not yet recorded: queued, delayed, held or in flight
        self._generation = 0  # bumped by reset, so what was sent before it is not recorded after it
        self.reset()

    # -- hooks, faults, reset ----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Only the configured hooks; no faults, no deliveries; what was queued or in flight is forgotten."""
        self._generation += 1
        self.hooks = dict(enumerate(self._config.webhooks, start=1))
        self._next_id = len(self.hooks)
        self.faults.clear()
        self._held.clear()
        for handle in self._delayed:
            handle.cancel()
        self._delayed.clear()
        while not self._queue.empty():
            self._queue.get_nowait()
        self.pending = 0
        self.deliveries.clear()
        self._notify()

    def add(self, hook: WebhookConfig) -> int:
        self._next_id += 1
        self.hooks[self._next_id] = hook
        return self._next_id

    def set_faults(self, spec: FaultSpec) -> None:
        self.faults.set(spec)
        self._settle_reorder()

    def clear_faults(self) -> None:
        self.faults.clear()
        self._settle_reorder()

    # -- the listener: runs inside the engine's tick, so it only queues ------------------------------------------

    def __call__(self, transition: Transition) -> None:
        if not self.hooks:
            return
        event = wire.event_for(transition)
        if event is None:
            return
        stack = transition.deployment.stack
        body: dict[str, Any] | None = None
        for hook_id, hook in self.hooks.items():
            if hook.wants(event, stack.org.name, stack.short):
                body = body or wire.payload(transition, self._config.console_url)
                self._accept(Outgoing(hook, hook_id, event, body, self._generation))

    def _accept(self, outgoing: Outgoing) -> None:
        faults = self.faults
        if faults.take_drop():
            outgoing.faults.append("dropped")
            self._record(outgoing, 0, 0, "dropped by an injected fault: not sent")
            return
        self.pending += 1
        if faults.take_duplicate():
            outgoing.duplicate = True
            outgoing.faults.append("duplicated")
        if faults.reorder:  # held back deliveries are not delayed as well
            outgoing.faults.append("reordered")
            self._held.append(outgoing)
            self._settle_reorder()
            return
        delay = faults.take_delay()
        if delay:
            outgoing.faults.append("delayed")
            self._delay(delay, outgoing)
        else:
            self._enqueue((outgoing,))

    def _settle_reorder(self) -> None:
        """A full batch goes newest first; one left unfinished when reordering is switched off goes as it came."""
        if self._held and len(self._held) >= self.faults.reorder:
            batch = self._held[::-1] if self.faults.reorder else self._held
            self._held = []
            self.faults.reorder = 0
            self._enqueue(tuple(batch))  # one queue item: one sender sends them in this order

    def _delay(self, seconds: float, outgoing: Outgoing) -> None:
        def due() -> None:
            self._delayed.discard(handle)
            self._enqueue((outgoing,))

        handle = asyncio.get_running_loop().call_later(seconds, due)
        self._delayed.add(handle)

    def _enqueue(self, batch: tuple[Outgoing, ...]) -> None:
        try:
            self._queue.put_nowait(batch)
        except asyncio.QueueFull:
            for outgoing in batch:
                full = f"not sent: the delivery queue is full ({self._config.webhook_queue_size} waiting)"
                self._record(outgoing, 0, 0, full)
                self._done(outgoing)

    # -- sending -------------------------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The sender tasks and their one session, for the application's lifetime."""
        async with aiohttp.ClientSession() as session:
            self._session = session
            tasks = [asyncio.create_task(self._send_loop()) for _ in range(self._config.webhook_senders)]
            try:
                yield
            finally:
                for handle in self._delayed:
                    handle.cancel()
                self._delayed.clear()
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self._session = None

    async def _send_loop(self) -> None:
        while True:
            batch = await self._queue.get()
            for outgoing in batch:
                try:
                    await self._deliver(outgoing)
                except Exception:  # a bug in one delivery must not stop the sender; it is logged and recorded
                    log.exception("webhook delivery %s failed unexpectedly", outgoing.id)
                    self._record(outgoing, 0, 0, "internal error in the emulator's webhook sender")
                self._done(outgoing)

    async def _deliver(self, outgoing: Outgoing) -> None:
        body, headers = outgoing.request
        for _ in range(2 if outgoing.duplicate else 1):  # a duplicate: the same bytes and ID, sent again
            started = time.monotonic()
            status, error, answer = await self._post(outgoing.hook.url, body, headers)
            self._record(outgoing, status, round((time.monotonic() - started) * 1000), error, answer)

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str | None, str]:
        """(status, error, start of the answer); status 0 when there was no answer."""
        assert self._session is not None, "deliveries are only sent while the sender runs"
        timeout = aiohttp.ClientTimeout(total=self._config.webhook_timeout)
        try:
            # No redirects: a 3xx is not a 2xx, so it is a failed delivery.
            async with self._session.post(
                url, data=body, headers=headers, timeout=timeout, allow_redirects=False
            ) as resp:
                answer = (await resp.content.read(RESPONSE_KEPT)).decode("utf-8", errors="replace")
                return resp.status, None if 200 <= resp.status < 300 else f"HTTP {resp.status}", answer
        except TimeoutError:
            return 0, f"no answer within {self._config.webhook_timeout:g}s", ""
        except (aiohttp.ClientError, ValueError) as exc:  # refused, reset, closed without an answer, bad URL
            return 0, f"no answer: {type(exc).__name__}: {exc}", ""

    def _record(self, outgoing: Outgoing, status: int, duration_ms: int, error: str | None, answer: str = "") -> None:
        if outgoing.generation != self._generation:
            return  # sent before a reset: the log it belonged to is gone
        _, headers = outgoing.request
        entry = {
            "id": outgoing.id,
            "hookId": outgoing.hook_id,
            "event": outgoing.event,
            "kind": wire.KIND,
            "url": outgoing.hook.url,
            "status": status,
            "ok": 200 <= status < 300,
            "duration": duration_ms,
            "error": error,
            "payload": outgoing.payload,
            "headers": headers,
            "response": answer,
            "faults": list(outgoing.faults),
        }
        self.deliveries.add(entry)
        self._notify()

    def _done(self, outgoing: Outgoing) -> None:
        if outgoing.generation == self._generation:
            self.pending -= 1
            self._notify()

    # -- waiting -------------------------------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, count: int, since: int, idle: bool) -> None:
        """Until there are ``count`` deliveries after ``since`` (and none pending, if ``idle``)."""
        while len(self.deliveries.since(since)) < count or (idle and self.pending):
            await self._changed.wait()
