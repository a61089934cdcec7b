"""Answering the person who typed or clicked: ephemeral messages through the payload's ``response_url``,
and the one place where our errors become a sentence for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.chat import Chat
from bot.command import CommandError
from bot.errors import DeploybotError, NotInChannel
from bot.render.errors import error_text
from bot.render.message import Message, text_message
from bot.render.text import escape

log = logging.getLogger(__name__)


def invite_text(channel: str) -> str:
    return (
        f"I can't post in <#{channel}> because I'm not a member. "
        "Invite me with `/invite @Deploybot` (or from the channel's settings → Integrations), then try again."
    )


class Answer:
    """Ephemeral replies to one person about one command or click, through its ``response_url``."""

    def __init__(
        self, chat: Chat, response_url: str | None, channel: str | None = None, usage: str | None = None
    ) -> None:
        self._chat = chat
        self._url = response_url
        self.channel = channel
        # The usage line of the command being answered, set once its verb is known; a click has none.
        self.usage = usage

    async def show(self, message: Message, *, replace: bool = False) -> None:
        """Show ``message`` to the asker only; ``replace`` edits the message a button was clicked on."""
        if self._url is None:  # Slack sends one with every command and message button; nothing to answer to
            log.warning("no response_url to answer on")
            return
        await self._chat.respond(
            self._url, {**message.payload(), "response_type": "ephemeral", "replace_original": replace}
        )

    async def say(self, mrkdwn: str, *, replace: bool = False) -> None:
        await self.show(text_message(mrkdwn), replace=replace)

    async def fail(self, error: DeploybotError) -> None:
        """Tell the asker what went wrong, with the usage line of the command they typed (a click has none)."""
        if isinstance(error, CommandError):
            await self.say(f"{escape(error.message)}\nUsage: `{escape(error.usage)}`")
            return
        text = invite_text(self.channel) if isinstance(error, NotInChannel) and self.channel else error_text(error)
        if self.usage:
            text += f"\nUsage: `{escape(self.usage)}`"
        await self.say(text)


async def answering(answer: Answer, work: Callable[[], Awaitable[Any]], slots: asyncio.Semaphore | None = None) -> None:
    """Run ``work`` once a slot is free; expected errors become a message to the asker, anything else goes to
    Bolt's error handler."""
    try:
        if slots is None:
            await work()
        else:
            async with slots:
                await work()
    except DeploybotError as error:
        log.info("answered with an error", extra={"error": type(error).__name__})
        await answer.fail(error)
