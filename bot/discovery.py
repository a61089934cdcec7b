"""Discovery: finds deployments started anywhere (git pushes, the Pulumi console, schedules) by paging each
subscribed organization's deployment list, and starts following those a channel subscribed to.

Each organization keeps a mark in Redis (the newest ``created`` seen, and the ids seen at that instant), so a round
reads only what is new: usually one page. With no mark yet (first run, or a new subscription's organization), only
deployments still in progress are picked up — subscribing does not replay history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from bot.errors import NotFound
from bot.pulumi import Deployment, PulumiClient
from bot.store.subscriptions import Mark, Subscription, Subscriptions
from bot.store.watches import Watch, Watches

log = logging.getLogger(__name__)


class Discovery:
    def __init__(
        self,
        pulumi: PulumiClient,
        watches: Watches,
        subscriptions: Subscriptions,
        *,
        default_org: str | None,
        clock: Callable[[], float],
        page_size: int = 100,
        max_pages: int = 10,
    ) -> None:
        self.pulumi = pulumi
        self.watches = watches
        self.subscriptions = subscriptions
        self.default_org = default_org
        self.clock = clock
        self.page_size = page_size
        self.max_pages = max_pages

    async def discover_once(self) -> int:
        """Follow every new deployment a subscription matches; returns how many were added."""
        subscriptions = await self.subscriptions.all()
        orgs = {s.org or self.default_org for s in subscriptions} - {None}
        added = 0
        for org in sorted(o for o in orgs if o):
            try:
                added += await self._discover(org, subscriptions)
            except NotFound:
                log.warning("a subscription names an organization Pulumi does not know", extra={"org": org})
        return added

    async def _discover(self, org: str, subscriptions: list[Subscription]) -> int:
        mark = await self.subscriptions.mark(org)
        fresh = await self._newer_than(org, mark)
        if fresh:
            newest = fresh[0].created
            await self.subscriptions.set_mark(
                org, Mark(newest.isoformat(), tuple(d.id for d in fresh if d.created == newest))
            )
        elif mark is None:  # an empty organization: everything from now on is new
            await self.subscriptions.set_mark(org, Mark(datetime(1970, 1, 1, tzinfo=UTC).isoformat(), ()))
        added = 0
        for deployment in fresh:
            if mark is None and deployment.is_finished:
                continue
            stack = f"{org}/{deployment.project_name}/{deployment.stack_name}"
            if not any(s.matches(stack) for s in subscriptions):
                continue
            watch = Watch(
                deployment_id=deployment.id,
                stack=stack,
                version=deployment.version,
                operation=str(deployment.pulumi_operation or "deployment"),
                mode="notify",
            )
            # A deployment started from Slack is followed already (in its thread); add() keeps that watch.
            added += await self.watches.add(watch, self.clock() * 1000)
        return added

    async def _newer_than(self, org: str, mark: Mark | None) -> list[Deployment]:
        """The organization's deployments newer than ``mark``, newest first (a page or a few)."""
        since = datetime.fromisoformat(mark.created) if mark else None
        fresh: list[Deployment] = []
        for page in range(1, self.max_pages + 1):
            result = await self.pulumi.list_org_deployments(org, page=page, page_size=self.page_size)
            for deployment in result.deployments:
                if mark is not None and since is not None and _seen(deployment, since, mark):
                    return fresh
                fresh.append(deployment)
            if mark is None or len(result.deployments) < self.page_size:
                return fresh  # without a mark, the newest page is enough: older ones are history
        return fresh


def _seen(deployment: Deployment, since: datetime, mark: Mark) -> bool:
    return deployment.created < since or (deployment.created == since and deployment.id in mark.ids)
