"""An ephemeral "are you sure?" with Confirm / Keep buttons that carry only the confirmation's id."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, PlainTextObject

from bot import ids
from bot.render.message import Message, section


def confirmation_message(question: str, warning: str, confirm_id: str, *, confirm_label: str) -> Message:
    """``question`` and ``warning`` are mrkdwn, already escaped."""
    buttons = ActionsBlock(
        elements=[
            ButtonElement(
                text=PlainTextObject(text=confirm_label), action_id=ids.CONFIRM_YES, value=confirm_id, style="danger"
            ),
            ButtonElement(text=PlainTextObject(text="Keep"), action_id=ids.CONFIRM_NO, value=confirm_id),
        ]
    )
    return Message(text=question, blocks=[section(f"{question}\n{warning}"), buttons])
