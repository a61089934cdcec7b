"""Batched reads for the watcher: one page of an organization's running deployments answers a hundred polls.

Polling each deployment alone costs a GET per deployment per interval. When the bot follows many running
deployments of one organization, ``GET /api/orgs/{org}/deployments?status=running`` (pages of 100, each entry with
its jobs and steps) answers for all of them at once. A snapshot is shared by every poll for ``max_age`` seconds,
then read again when a poll next needs it; polls that arrive while it is being read wait for that read.

It is used only where it saves calls: per organization, when the polls of the last interval outnumber the list
pages a refresh costs, ``SAVING`` times over. A deployment missing from the snapshot (queued, just finished, or
moved between pages while they were read) is read alone by the caller, and so is everything when the list fails.

Each snapshot is also a change detector: the deployments whose ``modified`` moved since the previous snapshot, and
those that left the running list (finished, mostly), are handed to ``on_change`` — the watcher makes them due at
once instead of waiting for their next scheduled poll. So are those that joined it: queued deployments that started,
for which the watcher has the list read (``refresh``) while it follows queued ones, a page or two every ``max_age``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.errors import PulumiError
from bot.pulumi import Deployment, JobStatus, PulumiClient

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # the API's largest page
SAVING = 2  # a snapshot is taken only where it costs at most half the calls of reading each deployment alone
QUEUE_PAGES = 2  # refresh() reads an organization's running list for queued deployments when it is this short


@dataclass
class _Org:
    """What is known of one organization: its polls per interval, its last snapshot and the read under way."""

    window_start: float = 0.0
    polls: int = 0  # in the window under way
    demand: int = 0  # polls in the last full window
    pages: int = 1  # what a refresh costs, from the last snapshot's total
    taken: float = -math.inf
    complete: bool = False  # the last read got every page (changes are only told between two such reads)
    running: dict[str, Deployment] = field(default_factory=dict)
    reading: asyncio.Task[None] | None = None


class Snapshots:
    def __init__(
        self,
        pulumi: PulumiClient,
        *,
        interval: float,
        max_age: float,
        on_change: Callable[[set[str]], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pulumi = pulumi
        self.on_change = on_change
        self.interval = interval
        self.max_age = max_age
        self.clock = clock
        self._orgs: dict[str, _Org] = {}

    async def find(self, org: str, deployment_id: str) -> Deployment | None:
        """The deployment as a recent snapshot shows it; None when the caller should read it alone."""
        state = self._orgs.setdefault(org, _Org())
        now = self.clock()
        self._count(state, now)
        refreshes = self.interval / self.max_age
        if state.demand < SAVING * refreshes * state.pages:
            return None
        await self._fresh(org, state, now)
        return state.running.get(deployment_id)

    async def refresh(self, org: str) -> None:
        """Read the organization's running deployments again unless the last read is recent, for the change
        detection alone: the watcher asks while it follows queued deployments there (polled ``QUEUED_BACKOFF``
        times less often), so one that starts is polled within ``max_age``. Not when the last read took more than
        ``QUEUE_PAGES`` pages (only the first read can cost more): many deployments running there that the watcher
        does not follow would make each read cost more than the queued deployments' own polls."""
        state = self._orgs.setdefault(org, _Org())
        if state.pages <= QUEUE_PAGES:
            await self._fresh(org, state, self.clock())

    async def _fresh(self, org: str, state: _Org, now: float) -> None:
        if now - state.taken > self.max_age:
            if state.reading is None:
                state.reading = asyncio.create_task(self._read(org, state))
            # Shielded: a poll cancelled while it waits must not cancel the read the other polls wait for.
            await asyncio.shield(state.reading)

    def _count(self, state: _Org, now: float) -> None:
        if now - state.window_start >= self.interval:
            # A window with no polls at all (a quiet spell) counts as none.
            state.demand = state.polls if now - state.window_start < 2 * self.interval else 0
            state.window_start, state.polls = now, 0
        state.polls += 1

    async def _read(self, org: str, state: _Org) -> None:
        """Every page of the organization's running deployments; on failure, an empty snapshot (so each poll reads
        its own deployment until the next attempt, one ``max_age`` later)."""
        started = self.clock()
        running: dict[str, Deployment] = {}
        complete = False
        try:
            first = await self.pulumi.list_org_deployments(org, page=1, page_size=PAGE_SIZE, status=JobStatus.RUNNING)
            pages = max(1, math.ceil(first.total / PAGE_SIZE))
            rest = await asyncio.gather(
                *(
                    self.pulumi.list_org_deployments(org, page=page, page_size=PAGE_SIZE, status=JobStatus.RUNNING)
                    for page in range(2, pages + 1)
                )
            )
            for page in (first, *rest):
                running.update((deployment.id, deployment) for deployment in page.deployments)
            state.pages, complete = pages, True
        except PulumiError as error:
            log.warning("could not list running deployments; polling one by one", extra={"error": str(error)})
        finally:
            previous, was_complete = state.running, state.complete
            state.running, state.complete, state.taken, state.reading = running, complete, started, None
        if complete and was_complete and self.on_change is not None:
            changed = {i for i, d in running.items() if i not in previous or previous[i].modified != d.modified}
            # Gone from the list: finished (or cancelled), or moved to another page while the pages were read.
            changed |= previous.keys() - running.keys()
            if changed:
                await self.on_change(changed)
