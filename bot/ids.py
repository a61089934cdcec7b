"""Every Block Kit ``action_id``, ``block_id`` and view ``callback_id`` the bot uses, namespaced by feature."""

from __future__ import annotations

from typing import Final

# Buttons on a deployment's channel message.
DEPLOYMENT_CANCEL: Final = "deployment.cancel"
DEPLOYMENT_LOGS: Final = "deployment.logs"
DEPLOYMENT_STATUS: Final = "deployment.status"
DEPLOYMENT_RETRY: Final = "deployment.retry"

# Ephemeral confirmations asked by commands (/deploy cancel, /deploy settings clear).
CONFIRM_YES: Final = "confirm.yes"
CONFIRM_NO: Final = "confirm.no"

# Paging of ephemeral answers, updated in place through the click's response_url.
LIST_PREVIOUS: Final = "list.previous"
LIST_NEXT: Final = "list.next"
LOGS_MORE: Final = "logs.more"

# An approval request's message (values: the request id).
APPROVAL_APPROVE: Final = "approval.approve"
APPROVAL_DENY: Final = "approval.deny"
APPROVAL_WITHDRAW: Final = "approval.withdraw"
APPROVAL_RETRY: Final = "approval.retry"

# Modals opened from those buttons (callback ids) and their inputs (block ids / action ids).
VIEW_DENY: Final = "approval.deny_reason"
VIEW_CONFIRM_DESTROY: Final = "approval.confirm_destroy"
INPUT_REASON: Final = "approval.reason"
INPUT_STACK_NAME: Final = "approval.stack_name"
