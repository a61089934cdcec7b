"""Getting a payload to the bot the way Slack does: a signed HTTP POST to the Request URL, or a Socket Mode
envelope when the app is connected, and reading back its synchronous reply within the 3-second ack window.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from bot.sandbox.slack.model import JSON
from bot.sandbox.slack.signing import signed_headers
from bot.sandbox.slack.socket_mode import SocketHub
from bot.sandbox.slack.state import Workspace

Kind = Literal["command", "interactive", "event"]
Transport = Literal["auto", "http", "socket"]
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
_CONTENT_TYPES: dict[Kind, str] = {
    "command": "application/x-www-form-urlencoded",
    "interactive": "application/x-www-form-urlencoded",
    "event": "application/json",
}
_ENVELOPES: dict[Kind, str] = {"command": "slash_commands", "interactive": "interactive", "event": "events_api"}


class DeliveryError(Exception):
    """The interaction cannot be sent at all (no Request URL, no socket); the control API answers 409."""


@dataclass
class Delivery:
    transport: Literal["http", "socket"]
    status: int | None = None  # HTTP status, None over Socket Mode
    body: str = ""
    reply: JSON | None = None  # the synchronous reply as a message/response_action object; None = plain ack
    error: str | None = None  # what Slack would show the user: operation_timeout / dispatch_failed

    def record(self) -> JSON:
        return {
            "transport": self.transport,
            "status": self.status,
            "body": self.body,
            "reply": self.reply,
            "error": self.error,
        }


def encode(kind: Kind, payload: JSON) -> str:
    """Slash commands are flat form fields, interactions one ``payload=<JSON>`` field, events a JSON body."""
    if kind == "command":
        return urlencode(payload)
    if kind == "interactive":
        return urlencode({"payload": json.dumps(payload)})
    return json.dumps(payload)


class Deliverer:
    def __init__(self, ws: Workspace, hub: SocketHub, session: aiohttp.ClientSession) -> None:
        self._ws = ws
        self._hub = hub
        self._session = session

    async def deliver(self, kind: Kind, payload: JSON, transport: Transport) -> Delivery:
        use_socket = transport == "socket" or (transport == "auto" and self._hub.connected)
        if use_socket:
            if not self._hub.connected:
                raise DeliveryError("no Socket Mode connection is open (call apps.connections.open and connect)")
            return await self._over_socket(kind, payload)
        return await self._over_http(kind, payload)

    async def _over_socket(self, kind: Kind, payload: JSON) -> Delivery:
        accepts = kind == "command" or payload.get("type") in {"view_submission", "block_suggestion"}
        try:
            ack = await self._hub.send(
                _ENVELOPES[kind], payload, accepts_response_payload=accepts, wait=self._ws.config.ack_timeout
            )
        except TimeoutError:
            return Delivery("socket", error="operation_timeout")
        except ConnectionResetError:
            return Delivery("socket", error="dispatch_failed")
        reply = ack.get("payload")
        return Delivery("socket", body=json.dumps(ack), reply=reply if isinstance(reply, dict) and reply else None)

    async def _over_http(self, kind: Kind, payload: JSON) -> Delivery:
        url = self._ws.config.request_url
        if not url:
            raise DeliveryError("no request URL is configured: POST /_sandbox/config {'request_url': …}")
        body = encode(kind, payload)
        headers = {"Content-Type": _CONTENT_TYPES[kind], "User-Agent": USER_AGENT}
        headers |= signed_headers(self._ws.config.signing_secret, body)
        return await self.post_raw(url, body, headers)

    async def post_raw(self, url: str, body: str, headers: dict[str, str]) -> Delivery:
        timeout = aiohttp.ClientTimeout(total=self._ws.config.ack_timeout)
        try:
            async with self._session.post(url, data=body.encode(), headers=headers, timeout=timeout) as response:
                text = await response.text()
                status, content_type = response.status, response.content_type
        except TimeoutError:
            return Delivery("http", error="operation_timeout")
        except aiohttp.ClientError:
            return Delivery("http", error="dispatch_failed")
        if status != 200:
            return Delivery("http", status=status, body=text, error="dispatch_failed")
        return Delivery("http", status=status, body=text, reply=_reply(text, content_type))


def _reply(text: str, content_type: str) -> JSON | None:
    """An empty 200 is a bare ack; JSON is a message (or response_action); other text is a plain message."""
    if not text.strip():
        return None
    if content_type == "application/json":
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            return {"text": text}
        return parsed if isinstance(parsed, dict) else {"text": text}
    return {"text": text}


DELIVERER = web.AppKey("deliverer", Deliverer)
