"""Rule: the effective policy for one stack (the defaults merged with the most specific ``[[stacks]]`` entry)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel

from bot.command.types import Operation
from bot.policy.explain import explain
from bot.policy.fields import Principal
from bot.policy.schema import RuleSettings
from bot.pulumi.stack import StackRef


class Rule(BaseModel, frozen=True):
    """What the policy says for one stack. Built by Policy; the TOML names are in ``schema.RuleSettings``."""

    allowed_operations: frozenset[Operation]  # may be requested from Slack at all
    approval_required: frozenset[Operation]
    approvals: int  # how many distinct approvers
    requesters: tuple[Principal, ...]  # empty: anyone
    approvers: tuple[Principal, ...]  # empty: anyone
    self_approval: bool
    expires_after: timedelta
    preview_first: bool
    confirm_destroy: bool  # approvers type the stack name before a destroy goes ahead
    admins: tuple[Principal, ...]  # pause/resume an org, change settings, cancel others' deployments; empty: anyone
    matched: str | None = None  # the [[stacks]] match that applied; None: the defaults

    @classmethod
    def from_settings(cls, settings: RuleSettings, matched: str | None = None) -> Rule:
        """The Rule that file keys describe (the TOML names differ from these where the API reads better)."""
        return cls(
            allowed_operations=settings.allowed_operations,
            approval_required=settings.require_approval,
            approvals=settings.approvals,
            requesters=settings.requesters,
            approvers=settings.approvers,
            self_approval=settings.allow_self_approval,
            expires_after=settings.expires_after,
            preview_first=settings.preview_first,
            confirm_destroy=settings.confirm_destroy,
            admins=settings.admins,
            matched=matched,
        )

    def needs_approval(self, operation: str) -> bool:
        """Whether ``operation`` waits for approvals (an unknown name does not; it is not allowed either)."""
        return operation in self.approval_required

    def explain(self, stack: str | StackRef, *, mentions: bool = True) -> str:
        """The rule in plain words, safe as Slack mrkdwn. With ``mentions`` user ids show as ``<@U…>`` (Slack shows
        names; fine in an ephemeral reply, but in a channel message it notifies them: pass False there)."""
        return explain(self, str(stack), mentions=mentions)
