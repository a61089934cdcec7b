"""Test-side handle on the fake Slack: start it on a free port and drive its ``/_sandbox/`` control API over HTTP.

async with start_slack_sandbox(request_url=bot_url) as slack:
    result = await slack.command("U_ANA", "C_DEPLOYS", "status web/dev")
    msgs = await slack.messages("C_DEPLOYS", min=1)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import SlackSandboxConfig, create_app

JSON = dict[str, Any]


class SandboxError(Exception):
    """The control API refused a request (the user could not have done that in Slack)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass
class InteractionResult:
    """One command/click/submission/event: what the bot answered synchronously, and a way to its follow-ups."""

    record: JSON
    sandbox: SlackSandbox = field(repr=False)

    @property
    def id(self) -> str:
        return str(self.record["id"])

    @property
    def status(self) -> int | None:
        return self.record.get("status")

    @property
    def body(self) -> str:
        return str(self.record.get("body", ""))

    @property
    def reply(self) -> JSON | None:
        """The synchronous reply as a message or response_action object (None for a bare ack)."""
        return self.record.get("reply")

    @property
    def error(self) -> str | None:
        """What Slack would show the user instead: operation_timeout or dispatch_failed."""
        return self.record.get("error")

    @property
    def effect(self) -> JSON | None:
        return self.record.get("effect")

    @property
    def payload(self) -> JSON:
        return dict(self.record["payload"])

    @property
    def trigger_id(self) -> str:
        return str(self.record["trigger_id"])

    @property
    def response_url(self) -> str | None:
        return self.record.get("response_url")

    async def responses(self, min: int = 1, wait: float = 5.0) -> list[JSON]:
        """The bot's later response_url posts for this interaction (waits until ``min`` arrived)."""
        return await self.sandbox.responses(self.id, min=min, wait=wait)


class SlackSandbox:
    def __init__(self, url: str, config: SlackSandboxConfig, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.config = config
        self._session = session

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    @property
    def bot_token(self) -> str:
        return self.config.bot_token

    @property
    def app_token(self) -> str:
        return self.config.app_token

    @property
    def signing_secret(self) -> str:
        return self.config.signing_secret

    def web_client(self, **kwargs: Any) -> AsyncWebClient:
        """The bot's own client class pointed at the fake."""
        return AsyncWebClient(token=self.bot_token, base_url=self.api_url, **kwargs)

    # -- plumbing ---------------------------------------------------------------------------------------------

    async def _post(self, path: str, body: JSON) -> Any:
        async with self._session.post(f"{self.url}/_sandbox/{path}", json=body) as response:
            return await self._answer(response)

    async def _get(self, path: str, **query: Any) -> Any:
        params = {k: str(v) for k, v in query.items() if v is not None and v is not False}
        async with self._session.get(f"{self.url}/_sandbox/{path}", params=params) as response:
            return await self._answer(response)

    @staticmethod
    async def _answer(response: aiohttp.ClientResponse) -> Any:
        data = await response.json()
        if response.status >= 400:
            raise SandboxError(response.status, str(data.get("error")))
        return data

    async def _interaction(self, path: str, body: JSON) -> InteractionResult:
        return InteractionResult(await self._post(path, body), self)

    # -- playing the user -------------------------------------------------------------------------------------

    async def command(
        self, user: str, channel: str, text: str, command: str = "/deploy", *, transport: str = "auto"
    ) -> InteractionResult:
        body = {"user": user, "channel": channel, "text": text, "command": command, "transport": transport}
        return await self._interaction("command", body)

    async def click(
        self,
        user: str,
        message: JSON | str,
        action_id: str,
        *,
        value: Any = None,
        block_id: str | None = None,
        channel: str | None = None,
        transport: str = "auto",
    ) -> InteractionResult:
        """Click ``action_id`` in a message: a record from messages()/ephemerals(), or a ts (+ channel)."""
        body: JSON = {"user": user, "action_id": action_id, "value": value, "transport": transport}
        if block_id is not None:
            body["block_id"] = block_id
        if isinstance(message, dict):
            channel, ts = message["channel"], message["ts"]
            if message.get("ephemeral"):
                body["ephemeral_ts"] = ts
            else:
                body |= {"channel": channel, "message_ts": ts}
        else:
            body["message_ts"] = message
            if channel is not None:
                body["channel"] = channel
        return await self._interaction("click", body)

    async def click_in_view(
        self, user: str, view_id: str, action_id: str, *, value: Any = None, block_id: str | None = None
    ) -> InteractionResult:
        body = {"user": user, "view_id": view_id, "action_id": action_id, "value": value, "block_id": block_id}
        return await self._interaction("click", {k: v for k, v in body.items() if v is not None})

    async def submit(
        self, user: str, view_id: str, values: dict[str, JSON], *, transport: str = "auto"
    ) -> InteractionResult:
        body = {"user": user, "view_id": view_id, "values": values, "transport": transport}
        return await self._interaction("submit", body)

    async def event(self, event: JSON, *, transport: str = "auto") -> InteractionResult:
        return await self._interaction("event", {"event": event, "transport": transport})

    async def raw(
        self, body: str, *, content_type: str = "application/x-www-form-urlencoded", signature: str = "valid"
    ) -> JSON:
        """POST an arbitrary body to the bot, signed validly, not at all ("none"), "stale" or "forged"."""
        return dict(await self._post("raw", {"body": body, "content_type": content_type, "signature": signature}))

    # -- reading what happened ---------------------------------------------------------------------------------

    async def messages(self, channel: str, *, min: int = 0, wait: float = 5.0, deleted: bool = False) -> list[JSON]:
        return list(await self._get("messages", channel=channel, min=min or None, wait=wait, deleted=deleted))

    async def thread(self, channel: str, ts: str, *, min: int = 0, wait: float = 5.0) -> list[JSON]:
        return list(await self._get("thread", channel=channel, ts=ts, min=min or None, wait=wait))

    async def ephemerals(
        self, user: str | None = None, *, channel: str | None = None, min: int = 0, wait: float = 5.0
    ) -> list[JSON]:
        return list(await self._get("ephemerals", user=user, channel=channel, min=min or None, wait=wait))

    async def responses(self, interaction: str | None = None, *, min: int = 0, wait: float = 5.0) -> list[JSON]:
        return list(await self._get("responses", interaction=interaction, min=min or None, wait=wait))

    async def uploads(self, *, min: int = 0, wait: float = 5.0) -> list[JSON]:
        return list(await self._get("uploads", min=min or None, wait=wait))

    async def views(
        self, user: str | None = None, *, status: str | None = None, min: int = 0, wait: float = 5.0
    ) -> list[JSON]:
        return list(await self._get("views", user=user, status=status, min=min or None, wait=wait))

    async def calls(self, method: str | None = None, *, min: int = 0, wait: float = 5.0) -> list[JSON]:
        """The Web API call log (429s included), oldest first."""
        return list(await self._get("calls", method=method, min=min or None, wait=wait))

    async def workspace(self) -> JSON:
        return dict(await self._get("workspace"))

    async def socket(self, *, wait_connected: bool = False, wait: float = 5.0) -> JSON:
        """Socket Mode status ({connected, acks}); optionally wait until an app has connected."""
        return dict(await self._get("socket", connected=wait_connected, wait=wait))

    # -- steering ---------------------------------------------------------------------------------------------

    async def set_request_url(self, url: str) -> None:
        await self._post("config", {"request_url": url})

    async def set_rate_limits(self, enabled: bool) -> None:
        await self._post("config", {"rate_limits": enabled})

    async def set_membership(self, channel: str, user: str, member: bool = True) -> list[str]:
        return list((await self._post("membership", {"channel": channel, "user": user, "member": member}))["members"])

    async def set_usergroup(
        self,
        *,
        id: str | None = None,
        handle: str | None = None,
        members: list[str] | None = None,
        disabled: bool | None = None,
    ) -> JSON:
        """Change a user group found by ``id`` or ``handle`` (or create one: a new id with a handle); returns it."""
        body = {"id": id, "handle": handle, "members": members, "disabled": disabled}
        return dict((await self._post("usergroups", {k: v for k, v in body.items() if v is not None}))["usergroup"])

    async def advance_clock(self, seconds: float) -> None:
        """Move the fake's clock: triggers expire after 3 s, response_urls after 30 min, buckets refill."""
        await self._post("clock", {"advance": seconds})


@asynccontextmanager
async def start_slack_sandbox(**config: Any) -> AsyncIterator[SlackSandbox]:
    """Serve a fake Slack on a free 127.0.0.1 port for the duration of the block."""
    settings = SlackSandboxConfig(**config)
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as session:
            yield SlackSandbox(f"http://127.0.0.1:{port}", settings, session)
    finally:
        await runner.cleanup()
