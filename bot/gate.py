"""The approval gate: a request that needs approval waits in its channel message until the right people approve,
then exactly one deployment is created — the approved one, pinned to the previewed commit when the policy
previews first. The message then becomes the deployment's parent, and the watcher takes over.

Everything here decides again at click time, from Redis and current group membership, never from button values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot import approvals, deployments
from bot.approvals import REQUEST_ID_ENV, ApprovalRequest, Preview, Requests
from bot.audit import Action, AuditEntry, AuditLog
from bot.chat import Chat
from bot.command import DeployCommand
from bot.directory import Directory
from bot.errors import PulumiError, Refused, ServerError, SlackError, StoreUnavailable, Unavailable
from bot.policy import Policy, Rule
from bot.pulumi import Deployment, DeploymentCreated, PulumiClient, StackRef
from bot.render.approval import approval_message, closed_note, requester_note, status_text
from bot.render.errors import error_text
from bot.render.message import Message, section, text_message
from bot.render.progress import parent_message
from bot.store import DeploymentRecord, Store
from bot.store.watches import Watch, Watches

log = logging.getLogger(__name__)


def _same_operation(deployment: Deployment, operation: str) -> bool:
    """Whether ``deployment`` runs ``operation``; one whose operation is not reported is not ruled out by it."""
    return deployment.pulumi_operation is None or str(deployment.pulumi_operation) == operation


class Gate:
    def __init__(
        self,
        *,
        pulumi: PulumiClient,
        store: Store,
        requests: Requests,
        watches: Watches,
        chat: Chat,
        directory: Directory,
        policy: Policy,
        audit: AuditLog,
        clock: Callable[[], datetime],
    ) -> None:
        self.pulumi = pulumi
        self.store = store
        self.requests = requests
        self.watches = watches
        self.chat = chat
        self.directory = directory
        self.policy = policy
        self.audit = audit
        self.clock = clock

    # Asking ---------------------------------------------------------------------------------------------------

    async def check_requester(self, rule: Rule, user: str, operation: str, stack: str) -> None:
        if operation not in rule.allowed_operations:
            raise Refused(f"{operation} of `{stack}` cannot be requested from Slack (the policy does not allow it)")
        if rule.requesters and not await self.directory.is_in(user, rule.requesters):
            who = await self.directory.display(rule.requesters)
            raise Refused(f"only {who} may request deployments of `{stack}`")

    async def ask(self, command: DeployCommand, user: str, channel: str, rule: Rule) -> Message:
        """Post the request in the channel (preview first when the policy says so); returns the requester's note."""
        wire = await deployments.prepare(self.pulumi, command)
        return await self.ask_for(str(command.stack), command.operation, wire, user, channel, rule, command.message)

    async def ask_for(
        self,
        stack: str,
        operation: str,
        wire: dict[str, Any],
        user: str,
        channel: str,
        rule: Rule,
        message: str | None = None,
    ) -> Message:
        """A request for a create request already sealed (secrets as ciphertext) — a new one, or a Retry's.

        Returns what the requester is told privately. With ``preview_first`` the note that approval is needed, and
        from whom, goes to them (ephemerally) before the preview is created — nothing runs before they know — and
        what is returned says how the preview started.
        """
        request_id = approvals.new_request_id()
        wire = {**wire, "operationContext": dict(wire.get("operationContext") or {})}
        env = dict(wire["operationContext"].get("environmentVariables") or {})
        env[REQUEST_ID_ENV] = request_id  # so a create whose answer is lost can be found again, not repeated
        wire["operationContext"]["environmentVariables"] = env
        now = self.clock()
        # A preview shows what an update would change; a destroy's or a refresh's approvers see the stack instead.
        preview = rule.preview_first and operation == "update"
        request = ApprovalRequest(
            id=request_id,
            stack=stack,
            operation=operation,
            requested_by=user,
            channel=channel,
            request=wire,
            needed=rule.approvals,
            expires_at=now + rule.expires_after,
            state="previewing" if preview else "pending",
            message=message,
        )
        approvers = await self._approvers(rule)
        ts = await self.chat.post(channel, approval_message(request, approvers))
        request = request.model_copy(update={"message_ts": ts})
        await self.requests.create(request)
        await self._audit("requested", user, request)
        note = requester_note(request, approvers)
        if not preview:
            return note  # nothing runs until it is approved: the caller's answer is early enough
        told = await self._tell(request, note)
        started = await self._preview(request)
        return text_message(started) if told else Message(text=note.text, blocks=[*note.blocks, section(started)])

    async def _tell(self, request: ApprovalRequest, note: Message) -> bool:
        """Tell the requester alone; False when Slack refused (e.g. they are not in the channel), so the caller's
        answer, which needs no membership, carries the note instead — late, but not lost."""
        try:
            await self.chat.tell(request.channel, request.requested_by, note)
        except SlackError as error:
            log.info("could not tell the requester first", extra={"request_id": request.id, "error": error.error})
            return False
        return True

    async def _approvers(self, rule: Rule) -> str:
        if rule.approvers:
            return await self.directory.display(rule.approvers)
        return "anyone in the workspace" + ("" if rule.self_approval else " but the requester")

    # Deciding -------------------------------------------------------------------------------------------------

    async def _request(self, request_id: str) -> tuple[ApprovalRequest, Rule]:
        request = await self.requests.get(request_id)
        if request is None:
            raise Refused("this request no longer exists")
        return request, self.policy.rule_for(request.stack)

    async def may_approve(self, user: str, rule: Rule) -> bool:
        return not rule.approvers or await self.directory.is_in(user, rule.approvers)

    async def approve(self, request_id: str, user: str) -> None:
        """Count ``user``'s approval; the approval that completes the count creates the deployment."""
        _, rule = await self._request(request_id)
        move = approvals.approve(
            user, self.clock(), may_approve=await self.may_approve(user, rule), self_approval=rule.self_approval
        )
        before, after = await self.requests.change(request_id, move)
        await self._audit("approved", user, after)
        await self._reply(after, f"✓ <@{user}> approved ({len(after.approvals)} of {after.needed})")
        if before.state == "pending" and after.state == "creating":
            await self._create(after)
        else:
            await self.refresh(after)

    async def deny(self, request_id: str, user: str, reason: str | None) -> None:
        _, rule = await self._request(request_id)
        move = approvals.deny(user, self.clock(), reason, may_approve=await self.may_approve(user, rule))
        _, after = await self.requests.change(request_id, move)
        await self._audit("denied", user, after, reason)
        await self._closed(after)

    async def withdraw(self, request_id: str, user: str) -> None:
        _, after = await self.requests.change(request_id, approvals.withdraw(user, self.clock()))
        await self._audit("withdrawn", user, after)
        await self._closed(after)

    async def retry(self, request_id: str, user: str) -> None:
        request, rule = await self._request(request_id)
        if user != request.requested_by and not await self.may_approve(user, rule):
            raise Refused("only the requester or an approver can retry it")
        _, after = await self.requests.change(request_id, approvals.retry(user, self.clock()))
        await self._create(after, look_first=True)

    async def expire_due(self, now: datetime | None = None) -> int:
        """Close every open request whose time is up, and resolve every one left in ``creating`` longer than
        ``approvals.CREATING_GRACE`` (a chore of the watcher's rounds); returns how many were closed or resolved."""
        now = now or self.clock()
        closed = 0
        for request_id in await self.requests.expiring(now):
            try:
                _, stuck = await self.requests.change(request_id, approvals.reclaim(now))
            except Refused:
                pass  # not stuck in creating (or another replica reclaimed it first)
            else:
                await self._recover(stuck)
                closed += 1
                continue
            try:
                _, after = await self.requests.change(request_id, approvals.expire(now))
            except Refused:
                continue
            await self._audit("expired", after.requested_by, after)
            await self._closed(after)
            closed += 1
        return closed

    async def _reply(self, request: ApprovalRequest, mrkdwn: str) -> None:
        """A line in the request's thread, where its whole story is kept."""
        if request.message_ts is None:
            return
        try:
            await self.chat.post(request.channel, text_message(mrkdwn), thread_ts=request.message_ts)
        except SlackError as error:  # the message itself shows the state; the thread line is a courtesy
            log.info("could not reply in the request's thread", extra={"request_id": request.id, "error": error.error})

    async def _closed(self, request: ApprovalRequest) -> None:
        await self._reply(request, status_text(request, ""))
        await self.refresh(request)
        try:
            await self.chat.tell(request.channel, request.requested_by, closed_note(request))
        except SlackError as error:  # they may have left the channel; the message itself says it all
            log.info("could not tell the requester", extra={"request_id": request.id, "error": error.error})

    async def refresh_request(self, request_id: str) -> None:
        request = await self.requests.get(request_id)
        if request is not None:
            await self.refresh(request)

    async def refresh(self, request: ApprovalRequest) -> None:
        """Bring the request's message up to date (while it is a request, not yet a deployment)."""
        if request.message_ts is None:
            return
        approvers = await self._approvers(self.policy.rule_for(request.stack))
        await self.chat.update(request.channel, request.message_ts, approval_message(request, approvers))

    # Creating -------------------------------------------------------------------------------------------------

    def _final_request(self, request: ApprovalRequest) -> dict[str, Any]:
        """What runs: the request as approved, pinned to the previewed commit when there was a preview."""
        wire = dict(request.request)
        if request.preview is not None and request.preview.commit:
            source = dict(wire.get("sourceContext") or {})
            source["git"] = {**(source.get("git") or {}), "commit": request.preview.commit, "branch": None}
            wire["sourceContext"] = source
        return wire

    async def _create(self, request: ApprovalRequest, *, look_first: bool = False) -> None:
        """The winner of the move to ``creating`` creates the deployment, once; a lost answer is adopted.

        It never leaves the request in ``creating``: when Pulumi refuses, or the outcome is unknown and Pulumi cannot
        be asked whether the deployment exists, the request moves to ``failed`` with the reason and offers Retry.
        Retry (``look_first``) first looks for a deployment made for the request, so it does not create a second.
        """
        stack = StackRef.parse(request.stack)
        wire = self._final_request(request)
        try:
            created = await self._adopt(stack, request) if look_first else None
        except PulumiError as error:
            await self._failed(request, "could not check whether it was created already: " + error_text(error))
            return
        if created is None:
            try:
                created = await deployments.restart(self.pulumi, stack, wire)
            except (Unavailable, ServerError) as error:  # it may have been created anyway
                try:
                    created = await self._adopt(stack, request)
                except PulumiError as unsure:
                    reason = (
                        "Pulumi gave no clear answer to the create, and could not be asked whether the deployment "
                        f"exists ({error_text(unsure)}). Retry looks for it before creating another."
                    )
                    await self._failed(request, reason)
                    return
                if created is None:
                    await self._failed(request, error_text(error))
                    return
            except PulumiError as error:
                await self._failed(request, error_text(error))
                return
        await self._created(request, created, wire)

    async def _created(self, request: ApprovalRequest, created: DeploymentCreated, wire: dict[str, Any]) -> None:
        """The deployment exists: the request runs, and its message becomes the deployment's, followed."""
        _, after = await self.requests.change(request.id, approvals.created(created.id, created.version))
        record = DeploymentRecord(
            deployment_id=created.id,
            stack=request.stack,
            operation=request.operation,
            version=created.version,
            requested_by=request.requested_by,
            channel=request.channel,
            message_ts=request.message_ts,
            message=request.message,
            console_url=created.console_url or None,
            request=wire,
            request_id=request.id,
            approved_by=after.approvers,
        )
        await self.store.save_deployment(record)
        await self._follow(created, request.stack, request.operation)
        await self._audit("deployment_created", request.requested_by, after)
        await self._show_deployment(record)

    async def _adopt(self, stack: StackRef, request: ApprovalRequest) -> DeploymentCreated | None:
        """After a create whose answer was lost: the stack's recent deployment of this request's operation that
        carries its id. A ``preview_first`` request's preview carries the id too (it was made from the same
        request), so it is never taken: adopting it would show the preview as the update, which would never run."""
        preview_id = request.preview.deployment_id if request.preview is not None else None
        page = await self.pulumi.list_deployments(stack, page=1, page_size=10)
        for summary in page.deployments:
            if summary.id == preview_id or not _same_operation(summary, request.operation):
                continue
            deployment = await self.pulumi.get_deployment(stack, summary.id)
            if not _same_operation(deployment, request.operation):
                continue
            env = deployment.configuration.environment_variables if deployment.configuration else []
            if any(var.name == REQUEST_ID_ENV and var.value == request.id for var in env):
                return DeploymentCreated(id=deployment.id, console_url="", version=deployment.version)
        return None

    async def _recover(self, request: ApprovalRequest) -> None:
        """A request reclaimed after staying in ``creating`` too long (its replica died mid-create, or the create
        never returned): adopt the deployment Pulumi made for it, else mark it failed so Retry is offered."""
        found: DeploymentCreated | None = None
        unsure: str | None = None  # why Pulumi could not be asked
        try:
            found = await self._adopt(StackRef.parse(request.stack), request)
        except PulumiError as error:
            unsure = error_text(error)
        try:
            if found is not None:
                await self._created(request, found, self._final_request(request))
            elif unsure is not None:
                reason = f"creating it did not finish, and Pulumi could not be asked whether it exists ({unsure})"
                await self._failed(request, reason + ". Retry looks for it before creating another.")
            else:
                await self._failed(request, "creating it did not finish, and Pulumi has no deployment for it")
        except Refused:  # the replica that was creating it finished after all
            log.info("a stuck request was resolved meanwhile", extra={"request_id": request.id})

    async def _failed(self, request: ApprovalRequest, reason: str) -> None:
        _, after = await self.requests.change(request.id, approvals.failed(reason))
        await self.refresh(after)

    async def _show_deployment(self, record: DeploymentRecord) -> None:
        if record.message_ts is None:
            return
        stack = StackRef.parse(record.stack)
        deployment = await self.pulumi.get_deployment(stack, record.deployment_id)
        message = parent_message(
            deployment,
            stack,
            self.clock(),
            requester=record.requested_by,
            message=record.message,
            console_url=record.console_url,
            approved_by=record.approved_by,
        )
        await self.chat.update(record.channel, record.message_ts, message)

    # Previews -------------------------------------------------------------------------------------------------

    async def _preview(self, request: ApprovalRequest) -> str:
        """Run a preview with the same overrides, reported in the request's thread; returns how it started (mrkdwn)."""
        stack = StackRef.parse(request.stack)
        wire = {**request.request, "operation": "preview"}
        try:
            created = await deployments.restart(self.pulumi, stack, wire)
        except PulumiError as error:
            reason = "the preview could not start: " + error_text(error)
            await self._failed(request, reason)
            return "✗ " + reason[:1].upper() + reason[1:]
        preview = Preview(deployment_id=created.id, version=created.version)
        _, after = await self.requests.change(request.id, approvals.preview_started(preview))
        record = DeploymentRecord(
            deployment_id=created.id,
            stack=request.stack,
            operation="preview",
            version=created.version,
            requested_by=request.requested_by,
            channel=request.channel,
            message_ts=request.message_ts,
            console_url=created.console_url or None,
            preview_for=request.id,
        )
        await self.store.save_deployment(record)
        await self._follow(created, request.stack, "preview")
        await self.refresh(after)
        return f"⟳ Preview #{created.version} is running (steps in the thread); approval opens when it succeeds."

    async def _follow(self, created: DeploymentCreated, stack: str, operation: str) -> None:
        watch = Watch(deployment_id=created.id, stack=stack, version=created.version, operation=operation)
        await self.watches.add(watch, self.clock().timestamp() * 1000)

    async def previewed(self, request_id: str, deployment: Deployment) -> None:
        """The watcher saw the preview finish: record its outcome, changes and commit; open or close the request.

        A request withdrawn, denied or expired while its preview ran stays closed: the preview's outcome is in the
        thread already, and raising here would fail the watcher's final report, which it would then repeat."""
        request = await self.requests.get(request_id)
        if request is None or request.state != "previewing":
            log.info("a preview finished for a closed request", extra={"request_id": request_id})
            return
        stack = StackRef.parse(request.stack)
        changes: dict[str, int] = {}
        for update in await self.pulumi.get_deployment_updates(stack, deployment.id):
            for kind, count in (update.info.resource_changes or {}).items():
                changes[kind] = changes.get(kind, 0) + count
        source = deployment.configuration.source if deployment.configuration else None
        git = source.git if source else None
        preview = Preview(
            deployment_id=deployment.id,
            version=deployment.version,
            status=str(deployment.status),
            commit=git.commit if git else None,
            changes=changes,
        )
        try:
            _, after = await self.requests.change(request_id, approvals.previewed(preview))
        except Refused:  # closed while Pulumi was asked for the preview's changes
            log.info("a preview finished for a closed request", extra={"request_id": request_id})
            return
        await self.refresh(after)

    async def _audit(self, action: Action, user: str, request: ApprovalRequest, detail: str | None = None) -> None:
        """Append to the trail. What it records has happened already, so a trail that cannot be written is logged
        rather than allowed to stop the rest (an approval that completes the count must still create)."""
        try:
            entry = AuditEntry(
                at=self.clock(),
                action=action,
                user=user,
                user_name=await self.store.name_of(user),
                stack=request.stack,
                deployment_id=request.deployment_id,
                version=request.version,
                request_id=request.id,
                detail=detail or "",
            )
            await self.audit.append(entry)
        except StoreUnavailable:
            log.error("audit entry not written", extra={"action": action, "request_id": request.id})
