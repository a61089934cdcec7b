"""The watcher's Notifier for Slack: edits a deployment's parent message and reports in its thread, through the
outbox (Slack's rate limits; outcomes and failures before progress).

Where a deployment was announced, and who asked for it, comes from the DeploymentRecord the Slack side wrote when
it created the deployment; a deployment without one has no thread to report in.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from bot.errors import NotSent
from bot.metrics import Metrics
from bot.outbox import Outbox, Priority
from bot.pulumi import Deployment, JobStatus, StackRef
from bot.redact import redact_lines
from bot.render.progress import notification, outcome_reply, parent_message, stack_gone, steps_reply
from bot.store import DeploymentRecord, Store
from bot.store.watches import Watch
from bot.watcher import QueueState, StepChange

# Records kept in memory: a watch's polls read its record from Redis once, not for every edit and reply.
RECORDS_KEPT = 10_000
# The least a progress edit or reply waits for Slack's rate limits (the app gives it a poll interval, at least this)
# before it is withdrawn unsent: the watch is polled again and tells what is new by then, in one message. Waiting
# on would hold a poll slot and the budget for news gone stale, while the outcomes of that poll's deployments (and
# of every deployment whose poll waits for a slot) queue behind it: with 100 deployments finishing together in one
# channel, the last outcome reached Slack 246 s after the finish when progress waited on, 151 s with this (bench).
MIN_PROGRESS_PATIENCE = 2.0


def took(deployment: Deployment) -> float | None:
    """Seconds from the first job's start to the last job's last update."""
    starts = [job.started for job in deployment.jobs if job.started]
    ends = [job.last_updated for job in deployment.jobs if job.last_updated]
    return (max(ends) - min(starts)).total_seconds() if starts and ends else None


class PreviewHooks(Protocol):
    """The approval gate, for previews a request runs first: its message is theirs, not the preview's."""

    async def refresh_request(self, request_id: str) -> None: ...

    async def previewed(self, request_id: str, deployment: Deployment) -> None: ...


class SlackReporter:
    def __init__(
        self,
        outbox: Outbox,
        store: Store,
        clock: Callable[[], datetime],
        previews: PreviewHooks | None = None,
        metrics: Metrics | None = None,
        progress_patience: float | None = None,
    ) -> None:
        """``progress_patience``: seconds an edit or reply showing progress may wait for Slack's rate limits before
        it is withdrawn (NotSent; the watcher reports it with later news); None: it waits until sent."""
        self.outbox = outbox
        self.store = store
        self.clock = clock
        self.previews = previews
        self.metrics = metrics
        self.progress_patience = progress_patience
        # A record is written before its watch starts, and only its ``cancelled_by`` changes later (finished()
        # reads that fresh), so what is kept here is what Redis holds. Least recently used ones go first.
        self._records: OrderedDict[str, DeploymentRecord] = OrderedDict()

    def _lag(self, since: datetime | None) -> None:
        """How long after it happened in Pulumi a change reached Slack."""
        if self.metrics is not None and since is not None:
            self.metrics.report_lag.observe(max((self.clock() - since).total_seconds(), 0.0))

    async def _progress(self, method: str, call: Awaitable[object]) -> None:
        """Send progress; one the outbox withdrew (NotSent) is counted, then raised for the watcher."""
        try:
            await call
        except NotSent:
            if self.metrics is not None:
                self.metrics.slack_call(method, "withdrawn")
            raise

    async def _thread(self, watch: Watch) -> DeploymentRecord | None:
        """The record of the deployment's thread (None: it has none), from memory after the first read."""
        record = self._records.get(watch.deployment_id)
        if record is not None:
            self._records.move_to_end(watch.deployment_id)
            return record
        record = await self.store.deployment(watch.deployment_id)
        if record is None or record.message_ts is None:
            return None
        self._records[watch.deployment_id] = record
        if len(self._records) > RECORDS_KEPT:
            self._records.popitem(last=False)
        return record

    async def _edit_parent(self, record: DeploymentRecord, deployment: Deployment, queue: QueueState | None) -> None:
        assert record.message_ts is not None  # _thread() only returns records with a parent message
        message = parent_message(
            deployment,
            StackRef.parse(record.stack),
            self.clock(),
            requester=record.requested_by,
            message=record.message,
            console_url=record.console_url,
            queue=(queue.ahead, queue.paused) if queue else None,
            retry=record.request is not None,
            approved_by=record.approved_by,
        )
        if deployment.is_finished:
            await self.outbox.update(record.channel, record.message_ts, message, priority=Priority.FINAL)
        else:
            edit = self.outbox.update(record.channel, record.message_ts, message, patience=self.progress_patience)
            await self._progress("chat.update", edit)

    async def show(self, watch: Watch, deployment: Deployment, queue: QueueState | None) -> None:
        record = await self._thread(watch)
        if record is None:
            return
        if record.preview_for is not None and self.previews is not None:
            await self.previews.refresh_request(record.preview_for)
            return
        await self._edit_parent(record, deployment, queue)

    async def steps(self, watch: Watch, deployment: Deployment, changes: list[StepChange]) -> None:
        record = await self._thread(watch)
        if record is None or record.message_ts is None:
            return
        reply = steps_reply([(change.name, change.status, change.seconds) for change in changes])
        post = self.outbox.post(record.channel, reply, thread_ts=record.message_ts, patience=self.progress_patience)
        await self._progress("chat.postMessage", post)
        for change in changes:
            self._lag(change.finished_at)

    async def finished(
        self, watch: Watch, deployment: Deployment, log_tail: list[str] | None, steps: list[StepChange]
    ) -> None:
        self._records.pop(watch.deployment_id, None)  # its thread gets nothing more
        record = await self.store.deployment(watch.deployment_id)  # afresh: who cancelled it is written late
        if record is None or record.message_ts is None:
            return
        cancelled_by = record.cancelled_by
        failed = deployment.status == JobStatus.FAILED and cancelled_by is None
        ends = [job.last_updated for job in deployment.jobs if job.last_updated]
        self._lag(max(ends) if ends else None)
        for change in steps:
            self._lag(change.finished_at)
        reply = outcome_reply(
            deployment,
            StackRef.parse(record.stack),
            took=took(deployment),
            requester=record.requested_by,
            cancelled_by=cancelled_by,
            log_tail=redact_lines(log_tail) if log_tail and failed else None,
            steps=[(change.name, change.status, change.seconds) for change in steps],
        )
        if record.preview_for is not None and self.previews is not None:
            await self.outbox.post(record.channel, reply, thread_ts=record.message_ts, priority=Priority.FINAL)
            await self.previews.previewed(record.preview_for, deployment)
            return
        # The parent shows the outcome already: the watcher's show() edited it when the status changed.
        await self.outbox.post(
            record.channel, reply, thread_ts=record.message_ts, broadcast=failed, priority=Priority.FINAL
        )

    async def notify(
        self, channel: str, event: str, watch: Watch, deployment: Deployment, log_tail: list[str] | None
    ) -> None:
        record = await self._thread(watch)
        if record is not None and record.channel == channel:
            return  # the channel follows it in the deployment's own thread already
        message = notification(
            event,
            deployment,
            StackRef.parse(watch.stack),
            took=took(deployment),
            console_url=record.console_url if record else None,
            log_tail=redact_lines(log_tail) if log_tail else None,
        )
        final = event in ("succeeded", "failed")
        await self.outbox.post(channel, message, priority=Priority.FINAL if final else Priority.PROGRESS)

    async def gone(self, watch: Watch) -> None:
        record = await self._thread(watch)
        if record is None or record.message_ts is None:
            return
        await self.outbox.post(
            record.channel, stack_gone(watch.operation, StackRef.parse(watch.stack), watch.version),
            thread_ts=record.message_ts, priority=Priority.FINAL,
        )  # fmt: skip
