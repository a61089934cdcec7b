"""The scheduler: one ``tick()`` moves every active deployment one transition and admits queued ones.

Per tick the work is O(active deployments + admissions): active ones live in a dict, and each organization keeps
a heap of stacks that may start their next deployment, so nothing scans all deployments.
"""

from __future__ import annotations

import heapq
import logging
import uuid
from typing import Any

from bot.sandbox.pulumi import resources, steps
from bot.sandbox.pulumi.clock import now_ns
from bot.sandbox.pulumi.errors import ApiError
from bot.sandbox.pulumi.events import Listener, Transition
from bot.sandbox.pulumi.git import DEFAULT_BRANCH, Remotes, branch_ref
from bot.sandbox.pulumi.state import Deployment, Org, Registry, Stack, Step, Update, User

log = logging.getLogger(__name__)
_UPDATE_KIND = {"detect-drift": "refresh", "remediate-drift": "update"}
CANCELLED = "error: the deployment was cancelled\n"


class Engine:
    def __init__(self, registry: Registry, remotes: Remotes, console_url: str) -> None:
        self.registry = registry
        self.remotes = remotes
        self.console_url = console_url.rstrip("/")
        self.active: dict[str, Deployment] = {}  # accepted or running, in admission order
        self.listeners: list[Listener] = []
        self.ticks = 0

    # -- creating and cancelling -------------------------------------------------------------------------------

    def create(
        self,
        stack: Stack,
        operation: str,
        settings: dict[str, Any],
        requested_by: User,
        *,
        fail_step: str | None,
        backend_url: str,
        inherit_settings: bool = True,
        initiator: str = "api",
    ) -> Deployment:
        registry, now = self.registry, now_ns()
        registry.deployment_seq += 1
        deployment = Deployment(
            id=str(uuid.uuid4()),
            seq=registry.deployment_seq,
            stack=stack,
            version=stack.latest_version + 1,
            operation=operation,
            settings=settings,
            requested_by=requested_by,
            initiator=initiator,
            inherit_settings=inherit_settings,
            backend_url=backend_url,
            created_ns=now,
            modified_ns=now,
            steps=steps.plan_steps(operation, settings, fail_step),
        )
        stack.deployments[deployment.id] = deployment
        stack.history.append(deployment)
        stack.org.deployments.append(deployment)
        stack.org.counts["not-started"] += 1
        stack.queue.append(deployment)
        stack.org.offer(stack)
        self._emit(Transition(now, deployment, None, "not-started"))
        return deployment

    def cancel(self, deployment: Deployment) -> None:
        """Stop a running deployment or take a queued one off the queue; both end ``failed``."""
        if deployment.finished:
            raise ApiError(
                409, f"Deployment '{deployment.id}' already finished ({deployment.status}); there is nothing to cancel"
            )
        if deployment.status == "not-started":
            stack = deployment.stack
            stack.queue.remove(deployment)
            stack.org.offer(stack)
            self._fail_unstarted(deployment, [CANCELLED])
            return
        if deployment.status == "accepted":
            self._fail_first_step(deployment, [CANCELLED])
        else:
            self._end_step(deployment, deployment.steps[deployment.current], "failed", [CANCELLED])
        self._finish(deployment, "failed")

    # -- the clock ---------------------------------------------------------------------------------------------

    def tick(self, phase: int = 0, phases: int = 1) -> int:
        """Advance the world one step; returns how many deployments changed status or step. With ``phases`` > 1
        only the deployments of one phase (``seq % phases == phase``) move or start, so a clock that ticks
        ``phases`` times a step spreads the transitions over the step instead of landing them all at once."""
        changed = 0
        for deployment in list(self.active.values()):
            if deployment.seq % phases == phase:
                self._advance(deployment)
                changed += 1
        for org in list(self.registry.orgs.values()):
            changed += self._admit(org, phase, phases)
        self.ticks += 1
        return changed

    def run_until_idle(self, limit: int) -> tuple[int, bool]:
        """Tick until nothing changes (or ``limit`` ticks): (ticks run, whether it went idle)."""
        for ticks in range(1, limit + 1):
            if self.tick() == 0:
                return ticks, True
        return limit, False

    def resume(self, org: Org, stack: Stack | None = None) -> None:
        """Re-offer the stacks a resume may have unblocked."""
        for candidate in [stack] if stack is not None else list(org.stacks.values()):
            org.offer(candidate)

    # -- transitions -------------------------------------------------------------------------------------------

    def _admit(self, org: Org, phase: int, phases: int) -> int:
        admitted, later = 0, []  # later: stacks whose next deployment starts in another phase
        while not org.paused and org.running < org.concurrency and org.ready:
            seq, short = heapq.heappop(org.ready)
            stack = org.stacks.get(short)
            if stack is None or stack.active is not None or stack.paused or not stack.queue:
                continue
            if stack.queue[0].seq != seq:
                continue
            if seq % phases != phase:
                later.append((seq, short))
                continue
            deployment = stack.queue.popleft()
            admitted += 1
            if stack.queue and deployment.option("skipIntermediateDeployments"):
                self._set_status(deployment, "skipped")  # a newer deployment of this stack is waiting
                org.offer(stack)
                continue
            stack.active = deployment
            org.running += 1
            self.active[deployment.id] = deployment
            self._set_status(deployment, "accepted")
        for entry in later:
            heapq.heappush(org.ready, entry)
        return admitted

    def _advance(self, deployment: Deployment) -> None:
        if deployment.status == "accepted":
            self._start_job(deployment)
            return
        step = deployment.steps[deployment.current]
        if step.failure is not None:
            self._end_step(deployment, step, "failed", step.failure)
            self._finish(deployment, "failed")
            return
        self._end_step(deployment, step, "succeeded", steps.finish_lines(deployment, step))
        if deployment.current + 1 < len(deployment.steps):
            self._start_step(deployment, deployment.current + 1)
        else:
            self._finish(deployment, "succeeded")

    def _start_job(self, deployment: Deployment) -> None:
        deployment.started = True
        deployment.job_started_ns = now_ns()
        self._set_status(deployment, "running")
        self._start_step(deployment, 0)

    def _start_step(self, deployment: Deployment, index: int) -> None:
        step, now = deployment.steps[index], now_ns()
        deployment.current, deployment.modified_ns = index, now
        step.status, step.started_ns, step.updated_ns = "running", now, now
        if step.kind == "source":
            self._resolve_source(deployment, step)
        elif step.kind == "pulumi":
            deployment.update = self._new_update(deployment, now)
        self._log(step, steps.start_lines(deployment, step, self.console_url))
        self._emit(Transition(now, deployment, "not-started", "running", step=index))

    def _end_step(self, deployment: Deployment, step: Step, status: str, lines: list[str]) -> None:
        now = now_ns()
        update = deployment.update
        if step.kind == "pulumi" and update is not None:
            update.end_ns, update.result = now, status
            if status == "succeeded" and deployment.operation in resources.APPLYING:
                deployment.stack.resources = dict(update.plan.after)
        self._log(step, lines)
        step.status, step.updated_ns, deployment.modified_ns = status, now, now
        self._emit(Transition(now, deployment, "running", status, step=deployment.current))

    def _finish(self, deployment: Deployment, status: str) -> None:
        stack, org = deployment.stack, deployment.stack.org
        self._set_status(deployment, status)
        del self.active[deployment.id]
        stack.active = None
        org.running -= 1
        if status == "succeeded" and deployment.operation == "destroy" and deployment.option("deleteAfterDestroy"):
            self._delete_stack(stack)
        else:
            org.offer(stack)

    def _fail_unstarted(self, deployment: Deployment, lines: list[str]) -> None:
        self._fail_first_step(deployment, lines)
        self._set_status(deployment, "failed")

    def _fail_first_step(self, deployment: Deployment, lines: list[str]) -> None:
        """A deployment that ends before its job ran: the job appears, its first step failed with the reason."""
        deployment.started = True
        deployment.job_started_ns = now_ns()
        deployment.current = 0
        first = deployment.steps[0]
        first.status, first.started_ns = "running", deployment.job_started_ns
        self._end_step(deployment, first, "failed", lines)

    def _delete_stack(self, stack: Stack) -> None:
        org = stack.org
        del org.stacks[stack.short]
        while stack.queue:
            self._fail_unstarted(stack.queue.popleft(), ["error: the stack was deleted\n"])
        # Its history goes with it: the org list shows only stacks that exist.
        org.deployments = [d for d in org.deployments if d.stack is not stack]
        for deployment in stack.deployments.values():
            org.counts[deployment.status] -= 1

    def _resolve_source(self, deployment: Deployment, step: Step) -> None:
        git = deployment.git()
        url, commit = git["repoUrl"], git.get("commit")
        if commit is None:
            ref = f"refs/tags/{git['tag']}" if git.get("tag") else branch_ref(git.get("branch") or DEFAULT_BRANCH)
            commit = self.remotes.head(url, ref)
        elif not self.remotes.has_commit(url, commit):
            step.failure = [f"fatal: reference is not a tree: {commit}\n", "exit status 128\n"]
        deployment.commit = commit

    def _new_update(self, deployment: Deployment, now: int) -> Update:
        stack = deployment.stack
        stack.update_versions += 1
        git, commit = deployment.git(), deployment.commit or ""
        environment = {"git.head": commit}
        if git.get("branch"):
            environment["git.headName"] = branch_ref(git["branch"])
        plan = resources.plan(deployment.operation, stack.resources, stack.project, stack.name, commit)
        return Update(
            id=str(uuid.uuid4()),
            update_id=str(uuid.uuid4()),
            version=stack.update_versions,
            kind=_UPDATE_KIND.get(deployment.operation, deployment.operation),
            start_ns=now,
            environment=environment,
            plan=plan,
        )

    def _set_status(self, deployment: Deployment, status: str) -> None:
        counts, previous = deployment.stack.org.counts, deployment.status
        counts[previous] -= 1
        counts[status] += 1
        deployment.status, deployment.modified_ns = status, now_ns()
        self._emit(Transition(deployment.modified_ns, deployment, previous, status))

    @staticmethod
    def _log(step: Step, lines: list[str]) -> None:
        now = now_ns()
        step.lines.extend((now, line) for line in lines)

    def _emit(self, transition: Transition) -> None:
        for listener in self.listeners:
            try:
                listener(transition)
            except Exception:  # a listener (e.g. a webhook sender) must not leave a transition half done
                log.exception("transition listener %r failed", listener)
