"""The approval flow's modals: a reason for a denial, and typing the stack's name to approve a destroy."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, PlainTextObject, SectionBlock
from slack_sdk.models.views import View

from bot import ids
from bot.render.text import escape, truncate


def deny_modal(request_id: str, operation: str, stack: str) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=ids.VIEW_DENY,
        private_metadata=request_id,
        title=PlainTextObject(text="Deny request"),
        submit=PlainTextObject(text="Deny"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            SectionBlock(text=f"Deny *{escape(operation)}* `{escape(truncate(stack, 200))}`?"),
            InputBlock(
                block_id=ids.INPUT_REASON,
                label=PlainTextObject(text="Reason (optional)"),
                optional=True,
                element=PlainTextInputElement(action_id=ids.INPUT_REASON, multiline=True, max_length=500),
            ),
        ],
    )
    return view.to_dict()


def confirm_destroy_modal(request_id: str, stack: str) -> dict[str, Any]:
    """The stack's name rides in private_metadata only to check the typing; the approval re-reads the request."""
    view = View(
        type="modal",
        callback_id=ids.VIEW_CONFIRM_DESTROY,
        private_metadata=f"{request_id}|{stack}",
        title=PlainTextObject(text="Approve destroy"),
        submit=PlainTextObject(text="Approve"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            SectionBlock(text=f"This deletes every resource of `{escape(stack)}`. Type the stack's name to approve."),
            InputBlock(
                block_id=ids.INPUT_STACK_NAME,
                label=PlainTextObject(text=truncate(stack, 150)),
                element=PlainTextInputElement(action_id=ids.INPUT_STACK_NAME, placeholder=truncate(stack, 150)),
            ),
        ],
    )
    return view.to_dict()
