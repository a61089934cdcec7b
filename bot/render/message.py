"""A rendered Slack message: fallback text plus Block Kit blocks, always within Slack's limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.render.text import BLOCKS_PER_MESSAGE, FALLBACK_TEXT, SECTION_TEXT, truncate, truncate_escaped


@dataclass(frozen=True)
class Message:
    """What the bot says: ``text`` is the notification and screen-reader fallback, ``blocks`` the layout."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def block_dicts(self) -> list[dict[str, Any]]:
        """The blocks as Slack receives them; slack_sdk validates each block's limits here."""
        blocks = list(self.blocks)
        if len(blocks) > BLOCKS_PER_MESSAGE:
            hidden = len(blocks) - (BLOCKS_PER_MESSAGE - 1)
            blocks = [*blocks[: BLOCKS_PER_MESSAGE - 1], context(f"…and {hidden} more not shown")]
        return [block.to_dict() for block in blocks]

    def payload(self) -> dict[str, Any]:
        """Keyword arguments for chat.postMessage / chat.update / respond()."""
        return {"text": truncate(self.text, FALLBACK_TEXT), "blocks": self.block_dicts()}


def section(mrkdwn: str) -> SectionBlock:
    """A section of already-escaped mrkdwn, cut to the section limit."""
    return SectionBlock(text=MarkdownTextObject(text=truncate(mrkdwn, SECTION_TEXT) or " "))


def plain_section(text: str) -> SectionBlock:
    """A section of text from users or Pulumi: escaped, then cut."""
    return section(truncate_escaped(text, SECTION_TEXT))


def context(mrkdwn: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(mrkdwn, SECTION_TEXT) or " ")])


def text_message(mrkdwn: str) -> Message:
    """A one-section message (``mrkdwn`` already escaped)."""
    return Message(text=mrkdwn, blocks=[section(mrkdwn)])
