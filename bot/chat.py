"""Talking to Slack's Web API: channel messages, edits, deletions and file uploads, with Slack's errors as ours."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.errors import NotInChannel, SlackError, SlackRateLimited
from bot.render.message import Message

log = logging.getLogger(__name__)

# Answers meaning "the bot may not post there" rather than "something broke".
_NO_ACCESS = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "cannot_dm_bot"}


# Slack's per-minute windows never ask for more; a wild header must not silence the bot for longer.
_MAX_RETRY_AFTER = 600.0


def _retry_after(headers: Any) -> float:
    """Slack's ``Retry-After`` in seconds; 1 (slack_sdk's own default) when it is missing or not a number."""
    value = next((str(v) for k, v in dict(headers or {}).items() if str(k).lower() == "retry-after"), "")
    try:
        seconds = float(value)
    except ValueError:
        return 1.0
    return min(seconds, _MAX_RETRY_AFTER) if seconds >= 0 else 1.0  # NaN and negatives fail the test


class _RateLimitCounter(AsyncRetryHandler):
    """Counts every 429 a client receives, those a later retry handler retries included; retries nothing itself.

    First among a client's retry handlers, it sees every answer: without it a 429 that slack_sdk's
    AsyncRateLimitErrorRetryHandler retried successfully would look like a plain success to the metrics.
    """

    def __init__(self, count: Callable[[str], None]) -> None:
        super().__init__(max_retry_count=0)
        self._count = count

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            self._count(request.url.rsplit("/", 1)[-1].partition("?")[0])  # base URL + method name
        return False


class Chat:
    """The bot's voice in Slack, over one AsyncWebClient (bot token) and one connection pool.

    slack_sdk opens a new aiohttp session for every call unless given one; under load that connection setup was
    the bot's largest cost after its own work, so ``open()`` gives the Web API client and response_url posts one.
    """

    def __init__(self, client: AsyncWebClient, on_call: Callable[[str, str], None] | None = None) -> None:
        self.client = client
        self._session: aiohttp.ClientSession | None = None
        # For metrics: (method, "ok" | "error") once per call, and (method, "ratelimited") for every 429 answer,
        # counted by a retry handler put first on the client (so also on Bolt's copies of it, and for the 429s
        # slack_sdk retries on its own).
        self._on_call = on_call
        if on_call is not None:
            report = on_call
            others = [h for h in client.retry_handlers if not isinstance(h, _RateLimitCounter)]
            client.retry_handlers = [_RateLimitCounter(lambda method: report(method, "ratelimited")), *others]

    def open(self) -> None:
        """Start the shared connection pool (call inside the running event loop)."""
        self._session = aiohttp.ClientSession()
        self.client.session = self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self.client.session = self._session = None

    async def respond(self, response_url: str, payload: dict[str, Any]) -> None:
        """POST to a payload's ``response_url`` (ephemeral answers, in-place updates)."""
        webhook = AsyncWebhookClient(response_url, session=self._session)
        try:
            response = await webhook.send_dict(payload)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            raise SlackError(type(exc).__name__, "response_url") from None
        if response.status_code != 200:
            raise SlackError(f"{response.status_code} {response.body[:100]}", "response_url")

    async def _call(self, method: str, call: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
        outcome: str | None = "error"
        try:
            response = await call
            outcome = "ok"
            return response
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                outcome = None  # the _RateLimitCounter counted this answer already
                raise SlackRateLimited(_retry_after(exc.response.headers), method) from None
            # Not response.get(): that raises when a proxy answered with a page instead of JSON.
            data = exc.response.data
            error = str((data.get("error") if isinstance(data, dict) else None) or f"http_{exc.response.status_code}")
            if error in _NO_ACCESS:
                raise NotInChannel(error, method) from None
            raise SlackError(error, method) from None
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            raise SlackError(type(exc).__name__, method) from None
        finally:
            if self._on_call is not None and outcome is not None:
                self._on_call(method, outcome)

    async def post(
        self, channel: str, message: Message, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> str:
        """Post in a channel (or a thread of it); returns the message's ``ts``."""
        extra: dict[str, Any] = {}
        if thread_ts:
            extra["thread_ts"] = thread_ts
            extra["reply_broadcast"] = broadcast
        response = await self._call(
            "chat.postMessage",
            self.client.chat_postMessage(channel=channel, unfurl_links=False, **message.payload(), **extra),
        )
        return str(response["ts"])

    async def update(self, channel: str, ts: str, message: Message) -> None:
        await self._call("chat.update", self.client.chat_update(channel=channel, ts=ts, **message.payload()))

    async def delete(self, channel: str, ts: str) -> None:
        await self._call("chat.delete", self.client.chat_delete(channel=channel, ts=ts))

    async def tell(self, channel: str, user: str, message: Message) -> None:
        """An ephemeral message in ``channel`` that only ``user`` sees."""
        await self._call(
            "chat.postEphemeral", self.client.chat_postEphemeral(channel=channel, user=user, **message.payload())
        )

    async def permalink(self, channel: str, ts: str) -> str:
        response = await self._call("chat.getPermalink", self.client.chat_getPermalink(channel=channel, message_ts=ts))
        return str(response["permalink"])

    async def upload_to_user(self, user: str, filename: str, content: str, comment: str) -> str:
        """Send ``content`` as a file in the bot's direct message with ``user``; returns that DM's channel id.

        Used for answers too long for a message: uploading to the asker's DM keeps a query private.
        """
        opened = await self._call("conversations.open", self.client.conversations_open(users=user))
        channel = str(opened["channel"]["id"])
        await self._call(
            "files.upload",
            self.client.files_upload_v2(
                channel=channel, filename=filename, title=filename, content=content, initial_comment=comment
            ),
        )
        return channel

    async def open_modal(self, trigger_id: str, view: dict[str, Any]) -> None:
        """Open a modal; Slack gives 3 seconds from the click (the trigger_id) to do so."""
        await self._call("views.open", self.client.views_open(trigger_id=trigger_id, view=view))
