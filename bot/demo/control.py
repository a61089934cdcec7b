"""The demo's HTTP client for the sandboxes' ``/_sandbox/`` control APIs: play a person in the fake Slack, read
what the channel shows, and move the Pulumi emulator's clock. Refusals become one ``ControlError`` sentence."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.errors import DeploybotError

JSON = dict[str, Any]


class ControlError(DeploybotError):
    """A sandbox refused a request (the sentence says why) or did not answer."""


class Sandboxes:
    """Talks to the fake Slack at ``slack_url`` and the emulator at ``pulumi_url`` over one session."""

    def __init__(self, session: aiohttp.ClientSession, slack_url: str, pulumi_url: str) -> None:
        self._session = session
        self._slack = slack_url.rstrip("/") + "/_sandbox/"
        self._pulumi = pulumi_url.rstrip("/") + "/_sandbox/"

    async def _call(self, method: str, url: str, body: JSON | None = None, **query: Any) -> Any:
        params = {key: str(value) for key, value in query.items() if value is not None}
        try:
            async with self._session.request(method, url, json=body, params=params) as response:
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, ValueError) as exc:
            raise ControlError(f"the sandbox at {url} did not answer properly ({exc.__class__.__name__})") from None
        if response.status >= 400:
            # The fake Slack says {"ok": false, "error"}; the emulator {"code", "message"}.
            reason = answer.get("error") or answer.get("message") if isinstance(answer, dict) else None
            raise ControlError(str(reason or f"HTTP {response.status}"))
        return answer

    # -- the fake Slack: playing a person ----------------------------------------------------------------------

    async def command(self, user: str, channel: str, text: str, command: str = "/deploy") -> JSON:
        body = {"user": user, "channel": channel, "text": text, "command": command}
        return dict(await self._call("POST", self._slack + "command", body))

    async def click_message(
        self, user: str, action_id: str, block_id: str, value: str | None, *, channel: str, ts: str, ephemeral: bool
    ) -> JSON:
        body: JSON = {"user": user, "action_id": action_id, "block_id": block_id, "value": value}
        body |= {"ephemeral_ts": ts} if ephemeral else {"channel": channel, "message_ts": ts}
        return dict(await self._call("POST", self._slack + "click", body))

    async def click_view(self, user: str, view_id: str, action_id: str, block_id: str, value: str | None) -> JSON:
        body = {"user": user, "view_id": view_id, "action_id": action_id, "block_id": block_id, "value": value}
        return dict(await self._call("POST", self._slack + "click", body))

    async def submit(self, user: str, view_id: str, values: dict[str, JSON]) -> JSON:
        body = {"user": user, "view_id": view_id, "values": values}
        return dict(await self._call("POST", self._slack + "submit", body))

    # -- the fake Slack: what people see -----------------------------------------------------------------------

    async def messages(self, channel: str, *, min: int = 0, wait: float = 0.0) -> list[JSON]:
        """Top-level messages, deleted ones included (so the console can say so); with ``min``, long-polls."""
        found = await self._call(
            "GET", self._slack + "messages", channel=channel, deleted=1, min=min or None, wait=wait if min else None
        )
        return list(found)

    async def thread(self, channel: str, ts: str) -> list[JSON]:
        return list(await self._call("GET", self._slack + "thread", channel=channel, ts=ts))

    async def ephemerals(self, user: str, channel: str) -> list[JSON]:
        return list(await self._call("GET", self._slack + "ephemerals", user=user, channel=channel))

    async def open_views(self, user: str) -> list[JSON]:
        return list(await self._call("GET", self._slack + "views", user=user, status="open"))

    async def uploads(self) -> list[JSON]:
        return list(await self._call("GET", self._slack + "uploads"))

    async def workspace(self) -> JSON:
        return dict(await self._call("GET", self._slack + "workspace"))

    # -- the emulator ------------------------------------------------------------------------------------------

    async def advance(self, steps: int) -> JSON:
        """Run ``steps`` ticks of the emulator's clock now (on top of its automatic ticking)."""
        return dict(await self._call("POST", self._pulumi + "advance", {"steps": steps}))

    async def stacks(self) -> list[str]:
        answer = await self._call("GET", self._pulumi + "stacks")
        return [str(entry["stack"]) for entry in answer.get("stacks", [])]
