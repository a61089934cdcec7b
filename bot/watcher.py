"""The watcher: follows deployments in Redis, polls Pulumi when each is due, and reports what changed — once.

``poll_once()`` claims the due watches (a lease other replicas respect), polls each, tells the Notifier what is new,
records it, and schedules the next poll; ``run()`` repeats that on a steady cadence and keeps a heartbeat. It imports
nothing from Slack: reports go through the small Notifier protocol.

What can be reported twice: a report the Notifier sent just before the process died, before it was recorded (one
Redis write later). The next poll, here or on another replica, sends it again. Every report is recorded right after
it is sent, so that window is one Redis round trip wide: a thread's edit and reply are recorded by the call that
ends the poll (rescheduling or retiring the watch) when nothing else is sent before it, else just before that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.discovery import Discovery
from bot.errors import NotFound, NotInChannel, NotSent, PulumiError, SlackError, StoreUnavailable
from bot.pulumi import Deployment, JobStatus, PulumiClient, StackRef, StepStatus, Unrecognized
from bot.snapshots import Snapshots
from bot.store.subscriptions import Subscription, Subscriptions
from bot.store.watches import Lost, Watch, Watches

log = logging.getLogger(__name__)

LOG_TAIL_LINES = 30
MIN_LEASE = 0.5  # seconds
MIN_PAUSE = 0.05  # seconds the loops wait at least, however short the interval (tests use 1 ms)
QUEUED_BACKOFF = 3.0  # a queued or paused deployment is polled this many times less often
# When a deployment finishes, the followed deployments this many versions after it on its stack are polled within
# an interval: Pulumi runs a stack's deployments one at a time, so the next one starts now, and its queued backoff
# would show it waiting for up to QUEUED_BACKOFF intervals after it started.
NEXT_IN_LINE = 3
POKE_QUEUE = 10_000  # poked watches waiting for an immediate poll; beyond that the rounds poll them
_ACTIVE = {JobStatus.NOT_STARTED, JobStatus.ACCEPTED, JobStatus.RUNNING}


@dataclass(frozen=True)
class StepChange:
    """A step that finished (or failed) since the last report; ``number`` is 1-based within its job."""

    job: int
    number: int
    name: str
    status: StepStatus | Unrecognized
    seconds: float | None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class QueueState:
    """Why a deployment has not started: how many of the stack's deployments are ahead of it, and pauses."""

    ahead: int
    paused: bool


class Notifier(Protocol):
    """Where reports go. Each call either delivers or raises; the watcher records only what was delivered."""

    async def show(self, watch: Watch, deployment: Deployment, queue: QueueState | None) -> None:
        """Bring the deployment's parent message up to date (thread mode)."""

    async def steps(self, watch: Watch, deployment: Deployment, changes: list[StepChange]) -> None:
        """One thread reply for the steps that finished since the last report."""

    async def finished(
        self, watch: Watch, deployment: Deployment, log_tail: list[str] | None, steps: list[StepChange]
    ) -> None:
        """The outcome; ``log_tail`` is the failing step's last lines when it failed. ``steps`` finished since the
        last report, with the deployment (the last step ends as the deployment does): one reply tells both."""

    async def notify(
        self, channel: str, event: str, watch: Watch, deployment: Deployment, log_tail: list[str] | None
    ) -> None:
        """A subscribed channel's message about ``event`` (queued, started, succeeded or failed). A channel that
        already follows the deployment in a thread is not told again."""

    async def gone(self, watch: Watch) -> None:
        """Pulumi no longer knows the deployment (its stack was deleted, usually by its own destroy)."""


@dataclass
class Poll:
    """One claimed watch while it is being polled; ``token`` opens its lease. A ``fresh`` poll (a webhook said
    something changed) reads the deployment itself rather than from a snapshot that may predate the change."""

    watch: Watch
    token: str
    tail: list[str] | None = None
    fresh: bool = False
    unsaved: bool = False  # ``watch`` holds what was just reported and is not recorded yet
    outcome_steps: list[StepChange] = field(default_factory=list)  # to be told with the outcome, in its reply


class Watcher:
    def __init__(
        self,
        pulumi: PulumiClient,
        watches: Watches,
        subscriptions: Subscriptions,
        notifier: Notifier,
        *,
        discovery: Discovery | None = None,
        chores: Sequence[Callable[[], Awaitable[object]]] = (),
        interval: float = 5.0,
        lease_rounds: float = 3.0,
        concurrency: int = 64,
        poke_concurrency: int = 256,
        batch: int = 200,
        snapshots: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.pulumi = pulumi
        self.watches = watches
        self.subscriptions = subscriptions
        self.notifier = notifier
        self.interval = interval
        # A poll that takes longer (Pulumi retries, Slack's rate limits) renews its lease as it goes.
        self.lease_ms = max(lease_rounds * interval, MIN_LEASE) * 1000
        # Polls at once: a round claims only as many watches as it can poll now, so no lease ticks away unused.
        self.concurrency = concurrency
        # Poked polls at once, beside the rounds: somebody is waiting for these (a webhook said it changed), and a
        # thousand deployments finishing together queued a second for 64 slots at 1000 deployments (bench_watcher).
        self.poke_concurrency = poke_concurrency
        self.batch = batch
        self.clock = clock
        self.replica = secrets.token_hex(4)
        self._subscriptions: list[Subscription] = []
        self._wake = asyncio.Event()
        # Poked watches, polled at once beside the rounds while run() serves them (None: it does not).
        self._poked: asyncio.Queue[str] | None = None
        # Organizations where a followed deployment was queued at its last poll, until when that poll's backoff ends.
        self._queued_orgs: dict[str, float] = {}
        self.discovery = discovery
        self.chores = chores
        # Snapshots at most a quarter interval old; a deployment a snapshot sees change is polled at once.
        self.snapshots = (
            Snapshots(pulumi, interval=interval, max_age=interval / 4, on_change=self._changed) if snapshots else None
        )

    def _now_ms(self) -> float:
        return self.clock() * 1000

    async def follow(self, watch: Watch) -> bool:
        """Start following a deployment; its first poll is due now. False if it is followed already."""
        return await self.watches.add(watch, self._now_ms())

    async def poll_once(self) -> int:
        """Poll every watch that is due now, ``concurrency`` at a time; returns how many were polled.

        "Now" is taken once: a watch rescheduled during this round waits for the next one (a poked one excepted).
        A Redis outage cancels the round's other polls and goes up to the loop.
        """
        now_ms = self._now_ms()
        self._subscriptions = await self.subscriptions.all()
        running: set[asyncio.Task[None]] = set()
        total = 0
        try:
            while True:
                limit = min(self.concurrency - len(running), self.batch)
                claimed = await self.watches.claim(now_ms, self.lease_ms, limit) if limit > 0 else []
                running.update(asyncio.create_task(self._guarded(Poll(watch, token))) for watch, token in claimed)
                total += len(claimed)
                if not running:
                    return total
                # More may be due when the claim was full: go on as soon as a slot frees; else let these finish.
                more = limit == 0 or len(claimed) == limit
                done, running = await asyncio.wait(
                    running, return_when=asyncio.FIRST_COMPLETED if more else asyncio.ALL_COMPLETED
                )
                for task in done:
                    task.result()  # what _guarded lets through (a Redis outage) ends the round
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def _guarded(self, poll: Poll) -> None:
        keeper = asyncio.create_task(self._keep_lease(poll))
        try:
            await self._handled(poll)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError, Lost, StoreUnavailable):
                await keeper

    async def _handled(self, poll: Poll) -> None:
        """One poll; what can go wrong with it is dealt with here, Redis outages go up to the loop."""
        where = {"deployment_id": poll.watch.deployment_id}
        try:
            await self.poll(poll)
        except Lost:
            log.info("lease lost; another replica has it", extra=where)
        except NotInChannel as error:
            log.warning("no access to the channel any more; stopped", extra=where | {"error": error.error})
            await self._retire(poll)
        except NotSent:  # Slack's rate limits kept it waiting; the next poll tells it with what is new by then
            log.debug("progress withdrawn unsent; polled again", extra=where)
            await self._reschedule(poll, 1.0)
        except (PulumiError, SlackError) as error:
            log.warning("poll failed; will retry", extra=where | {"error": type(error).__name__})
            await self._reschedule(poll, 2.0)

    def _due(self, factor: float = 1.0) -> float:
        jitter = random.uniform(0.9, 1.1)  # spreading polls, not security
        return self._now_ms() + self.interval * 1000 * factor * jitter

    async def poll(self, poll: Poll) -> None:
        """Poll one deployment and report, in order: its parent message, finished steps, subscriptions, outcome."""
        stack = StackRef.parse(poll.watch.stack)
        try:
            deployment = await self._read(poll, stack)
        except NotFound as error:
            await self._gone(poll, error)
            return
        if poll.watch.mode == "thread":
            await self._report_thread(poll, stack, deployment)
        await self._report_subscribers(poll, stack, deployment)
        if deployment.is_finished and not poll.watch.final:
            final: dict[str, object] = {"final": True}
            if poll.watch.mode == "thread":
                await self._flush(poll)  # before reading the log tail: the window stays one round trip
                tail, steps = await self._tail(poll, stack, deployment), poll.outcome_steps
                await self.notifier.finished(poll.watch, deployment, tail, steps)
                final["steps"] = {**poll.watch.steps, **_reported(steps)}
            await self._retire(poll, poll.watch.model_copy(update=final))  # records it, in the same call
            await self._next_in_line(poll.watch)
            return
        if poll.watch.final:
            await self._retire(poll)
            return
        backoff = 1.0
        if deployment.status == JobStatus.NOT_STARTED:
            backoff = QUEUED_BACKOFF
            # Until its next poll could have renewed this (see watch_queues); rounds are MIN_PAUSE apart at least.
            self._queued_orgs[stack.org] = self.clock() + (QUEUED_BACKOFF + 1) * max(self.interval, MIN_PAUSE)
        await self._reschedule(poll, backoff)

    async def _next_in_line(self, finished: Watch) -> None:
        """The stack's next queued deployments, if followed, are polled within an interval (see NEXT_IN_LINE)."""
        after = [(finished.stack, finished.version + n) for n in range(1, NEXT_IN_LINE + 1)]
        waiting = [i for i in await self.watches.find_each(after) if i is not None]
        await self.watches.bring_forward(waiting, self._due())

    async def _read(self, poll: Poll, stack: StackRef) -> Deployment:
        """The deployment from a recent snapshot of its organization's running ones, or else read alone. A snapshot
        older than what the thread shows already (a poke read it alone since) is not used: the parent never goes
        back."""
        if self.snapshots is not None and not poll.fresh:
            deployment = await self.snapshots.find(stack.org, poll.watch.deployment_id)
            if deployment is not None and (poll.watch.seen is None or deployment.modified >= poll.watch.seen):
                return deployment
        return await self.pulumi.get_deployment(stack, poll.watch.deployment_id)

    async def _report_thread(self, poll: Poll, stack: StackRef, deployment: Deployment) -> None:
        """Edit the parent, reply with the finished steps, then record both at once: an edit sent twice is harmless
        (it shows the same), so only the reply must be recorded right after it is sent. Progress the notifier did
        not send (NotSent) is not recorded: the next poll tells it, with what is new by then."""
        queue = await self._queue(stack, deployment) if deployment.status == JobStatus.NOT_STARTED else None
        shown = _signature(deployment, queue)
        if shown != poll.watch.status:
            await self.notifier.show(poll.watch, deployment, queue)
            self._shown(poll, deployment, status=shown)
        changes = step_changes(poll.watch, deployment)
        if changes and deployment.is_finished and not poll.watch.final:
            poll.outcome_steps, changes = changes, []  # the outcome's reply tells them: one reply, not two
        if changes:
            await self.notifier.steps(poll.watch, deployment, changes)
            self._shown(poll, deployment, steps={**poll.watch.steps, **_reported(changes)})

    @staticmethod
    def _shown(poll: Poll, deployment: Deployment, **update: object) -> None:
        """What the thread shows now; recorded by the call that ends this poll, or before anything else is sent
        (_flush)."""
        poll.watch, poll.unsaved = poll.watch.model_copy(update=update | {"seen": deployment.modified}), True

    async def _report_subscribers(self, poll: Poll, stack: StackRef, deployment: Deployment) -> None:
        """One message per event each subscribed channel asked for, never twice in one channel."""
        event = current_event(deployment)
        if event is None:
            return
        for subscription in self._subscriptions:
            sent = poll.watch.notified.get(subscription.channel, [])
            if event not in subscription.events or event in sent or not subscription.matches(poll.watch.stack):
                continue
            await self._flush(poll)
            tail = await self._tail(poll, stack, deployment) if event == "failed" else None
            await self.notifier.notify(subscription.channel, event, poll.watch, deployment, tail)
            notified = {**poll.watch.notified, subscription.channel: [*sent, event]}
            await self._record(poll, poll.watch.model_copy(update={"notified": notified}))

    async def _tail(self, poll: Poll, stack: StackRef, deployment: Deployment) -> list[str] | None:
        """The failed step's last lines, read once per poll however many channels show them."""
        if deployment.status != JobStatus.FAILED:
            return None
        if poll.tail is None:
            poll.tail = await self.log_tail(stack, deployment)
        return poll.tail

    async def _record(self, poll: Poll, watch: Watch, *, finished: bool = False) -> Watch:
        await self.watches.save(watch, poll.token, finished=finished)
        poll.watch, poll.unsaved = watch, False
        return watch

    async def _flush(self, poll: Poll) -> None:
        """Record what was reported before sending anything more: a crash must not make it go out twice."""
        if poll.unsaved:
            await self._record(poll, poll.watch)

    async def _reschedule(self, poll: Poll, factor: float) -> None:
        # Poked while it was being polled: once more, now — a webhook's poke read alone, a snapshot's by the rounds.
        unsaved = poll.watch if poll.unsaved else None
        poked = await self.watches.reschedule(poll.watch.deployment_id, poll.token, self._due(factor), watch=unsaved)
        poll.unsaved = False
        if poked == "poke":
            self._serve_poke(poll.watch.deployment_id)
        elif poked == "snapshot":
            self.wake()

    async def _retire(self, poll: Poll, final: Watch | None = None) -> None:
        """No more polls; ``final`` (what was reported last) is recorded in the same call."""
        await self.watches.retire(poll.watch.deployment_id, poll.token, watch=final)
        poll.watch, poll.unsaved = final or poll.watch, False

    async def _keep_lease(self, poll: Poll) -> None:
        """Renew the lease while a poll waits (a final report queued behind Slack's rate limits can take longer
        than the lease); without this another replica would take the watch over and report it again."""
        while True:
            await asyncio.sleep(self.lease_ms / 3000)
            await self.watches.renew(poll.watch.deployment_id, poll.token, self._now_ms(), self.lease_ms)

    async def _gone(self, poll: Poll, error: NotFound) -> None:
        """The deployment no longer exists — typically its whole stack, removed by a successful destroy with
        ``deleteAfterDestroy``. Its thread is told once; then it is no longer followed."""
        log.info("deployment gone", extra={"deployment_id": poll.watch.deployment_id, "resource": error.resource})
        if poll.watch.mode == "thread" and not poll.watch.final:
            await self.notifier.gone(poll.watch)
            await self._record(poll, poll.watch.model_copy(update={"final": True}), finished=True)
        await self._retire(poll)

    async def _queue(self, stack: StackRef, deployment: Deployment) -> QueueState:
        page = await self.pulumi.list_deployments(stack, page=1, page_size=100)
        ahead = sum(1 for d in page.deployments if d.version < deployment.version and d.status in _ACTIVE)
        meta = await self.pulumi.get_stack_metadata(stack)
        return QueueState(ahead=ahead, paused=meta.paused)

    async def log_tail(self, stack: StackRef, deployment: Deployment) -> list[str]:
        """The last lines of the first failed step, read with step paging (not the whole log)."""
        for job_index, job in enumerate(deployment.jobs):
            for step_index, step in enumerate(job.steps):
                if step.status == StepStatus.FAILED:
                    tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
                    async for line in self.pulumi.iter_step_logs(
                        stack, deployment.id, job=job_index, step=step_index, count=499
                    ):
                        tail.append(line.line.rstrip("\n"))
                    return list(tail)
        return []

    async def _changed(self, deployment_ids: set[str]) -> None:
        """A snapshot saw these deployments change: the followed ones are due now, and the next round polls them."""
        try:
            await self.watches.hurry(deployment_ids, self._now_ms())
        except StoreUnavailable:
            return  # their scheduled polls see the change
        self.wake()

    def wake(self) -> None:
        """Cut the current pause short (a webhook said something changed)."""
        self._wake.set()

    async def poke(self, deployment_id: str) -> bool:
        """Poll a followed deployment as soon as possible; False when it is not followed."""
        return deployment_id in await self.poke_each([deployment_id])

    async def poke_each(self, deployment_ids: Collection[str]) -> set[str]:
        """``poke`` for each, in one round trip; the ones that are followed."""
        poked = await self.watches.poke_each(deployment_ids, self._now_ms())
        for deployment_id in poked:
            self._serve_poke(deployment_id)
        return poked

    def _serve_poke(self, deployment_id: str) -> None:
        """Poll it beside the round when run() serves pokes (a round can take seconds); else the next round does."""
        if self._poked is None:
            self.wake()
            return
        try:
            self._poked.put_nowait(deployment_id)
        except asyncio.QueueFull:  # the rounds poll it: it is due now
            self.wake()

    async def _serve_pokes(self) -> None:
        """Poll poked watches at once, up to ``poke_concurrency`` at a time, claiming all that wait in one round trip
        (a claim each, one after another, held a burst of webhooks back for seconds); one that is being polled
        already (or is not due) is left to its lease holder, who polls it again when it sees the poke."""
        assert self._poked is not None
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                waiting = {await self._poked.get()}
                if len(running) >= self.poke_concurrency:  # each task leaves ``running`` as it ends
                    await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                while not self._poked.empty() and len(waiting) < self.poke_concurrency - len(running):
                    waiting.add(self._poked.get_nowait())
                try:
                    claimed = await self.watches.claim_due(waiting, self._now_ms(), self.lease_ms)
                except StoreUnavailable:
                    continue  # the rounds catch up once Redis is back
                except Exception:  # a bug must not end the service: the rounds poll them anyway
                    log.exception("could not claim poked watches", extra={"deployment_ids": sorted(waiting)})
                    continue
                for watch, token in claimed:
                    task = asyncio.create_task(self._poked_poll(Poll(watch, token, fresh=True)))
                    running.add(task)
                    task.add_done_callback(running.discard)
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def watch_queues(self) -> None:
        """Read the running list of each organization where followed deployments are queued (Snapshots.refresh: a
        page or two, at most every ``max_age``). One that started is in it, and the snapshot's change detection has
        it polled at once, rather than when its queued backoff ends: after an organization is resumed, or when its
        concurrency limit lets the next one run."""
        if self.snapshots is None:
            return
        now = self.clock()
        self._queued_orgs = {org: until for org, until in self._queued_orgs.items() if until > now}
        for org in list(self._queued_orgs):
            await self.snapshots.refresh(org)

    async def _watch_queues(self) -> None:
        """``watch_queues`` every ``max_age`` (50 ms at least, as run()'s pauses) while run() runs."""
        while self.snapshots is not None:
            await asyncio.sleep(max(self.snapshots.max_age, MIN_PAUSE))
            try:
                await self.watch_queues()
            except Exception:  # a bug must not end the service: the queued backoff still bounds the delay
                log.exception("watching the queues failed")

    async def _poked_poll(self, poll: Poll) -> None:
        where = {"deployment_id": poll.watch.deployment_id}
        try:
            await self._guarded(poll)
        except StoreUnavailable:
            log.warning("state store unavailable; the rounds catch up", extra=where)
        except Exception:  # as in run(): logged, and the rounds poll it again when its lease lapses
            log.exception("a poked poll failed", extra=where)

    async def round(self) -> int:
        """One round: discover new deployments, run the chores (e.g. closing expired approval requests), then poll
        what is due."""
        if self.discovery is not None:
            try:
                await self.discovery.discover_once()
            except PulumiError as error:
                log.warning("discovery failed; next round retries", extra={"error": type(error).__name__})
        for chore in self.chores:
            try:
                await chore()
            except (PulumiError, SlackError) as error:
                log.warning("a chore failed; next round retries", extra={"error": type(error).__name__})
        return await self.poll_once()

    async def run(self, stop: asyncio.Event) -> None:
        """Rounds on a steady cadence until ``stop`` is set. Failures are logged and retried with backoff; the
        heartbeat is refreshed only after a completed round, so a stuck or failing loop lets it lapse."""
        self._poked = asyncio.Queue(maxsize=POKE_QUEUE)
        pokes = asyncio.create_task(self._serve_pokes(), name="watcher-pokes")
        queues = asyncio.create_task(self._watch_queues(), name="watcher-queues")
        try:
            backoff = 1.0
            while not stop.is_set():
                started = time.monotonic()
                try:
                    await self.round()
                    await self.watches.beat(self.replica, self.interval * 3)
                    backoff = 1.0
                    pause = await self._until_next_due(started)
                except StoreUnavailable:
                    log.warning("state store unavailable; the watcher retries", extra={"backoff": backoff})
                    pause, backoff = backoff, min(backoff * 2, 30.0)
                except Exception:  # a bug must not end the loop: log it, back off, carry on
                    log.exception("watcher round failed", extra={"backoff": backoff})
                    pause, backoff = backoff, min(backoff * 2, 30.0)
                self._wake.clear()
                waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
                _, pending = await asyncio.wait(waits, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
                for waiter in pending:
                    waiter.cancel()
        finally:
            self._poked = None
            pokes.cancel()
            queues.cancel()
            await asyncio.gather(pokes, queues, return_exceptions=True)

    async def _until_next_due(self, started: float) -> float:
        """Sleep until the next watch is due, but at most one interval (new watches arrive at any time)."""
        elapsed = time.monotonic() - started
        due = await self.watches.next_due_ms()
        until_due = self.interval if due is None else max((due - self._now_ms()) / 1000, MIN_PAUSE)
        return max(min(until_due, self.interval - elapsed, self.interval), MIN_PAUSE)


def _reported(changes: list[StepChange]) -> dict[str, str]:
    """What a watch records of reported steps: "job.step" -> status."""
    return {f"{c.job}.{c.number}": str(c.status) for c in changes}


def step_changes(watch: Watch, deployment: Deployment) -> list[StepChange]:
    """Steps that finished or failed and were not reported as such yet."""
    changes = []
    for job_number, job in enumerate(deployment.jobs, start=1):
        for number, step in enumerate(job.steps, start=1):
            if step.status not in (StepStatus.SUCCEEDED, StepStatus.FAILED):
                continue
            if watch.steps.get(f"{job_number}.{number}") == str(step.status):
                continue
            seconds = None
            if step.started and step.last_updated:
                seconds = (step.last_updated - step.started).total_seconds()
            changes.append(StepChange(job_number, number, step.name, step.status, seconds, step.last_updated))
    return changes


def current_event(deployment: Deployment) -> str | None:
    """The furthest subscription event a deployment has reached (a skipped one reaches none)."""
    status = deployment.status
    if status == JobStatus.SUCCEEDED:
        return "succeeded"
    if status == JobStatus.FAILED:
        return "failed"
    if status == JobStatus.RUNNING:
        return "started"
    if status in (JobStatus.NOT_STARTED, JobStatus.ACCEPTED):
        return "queued"
    return None


def _signature(deployment: Deployment, queue: QueueState | None) -> str:
    """What the parent message shows, minus clocks: it is edited only when this changes."""
    steps = ",".join(str(step.status) for job in deployment.jobs for step in job.steps)
    waiting = f"{queue.ahead}:{queue.paused}" if queue else ""
    return f"{deployment.status}|{steps}|{waiting}"
