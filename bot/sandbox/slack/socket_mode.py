"""Socket Mode: apps.connections.open hands out one-time ``ws://…/link/?ticket=…`` URLs; the WebSocket says
``hello``, carries Slack's envelopes to the app and brings its acks back.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid

from aiohttp import WSCloseCode, WSMsgType, web

from bot.sandbox.slack.model import JSON
from bot.sandbox.slack.state import Workspace
from bot.sandbox.slack.wire import Call


def open_connection(call: Call) -> JSON:
    """apps.connections.open: a fresh single-use WebSocket URL."""
    ticket = secrets.token_hex(16)
    call.ws.socket_tickets.add(ticket)
    origin = call.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    return {"url": f"{origin}/link/?ticket={ticket}&app_id={call.ws.config.api_app_id}"}


class SocketHub:
    """The app's open Socket Mode connections and the acks Slack is waiting for."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws
        self._connections: list[web.WebSocketResponse] = []
        self._pending: dict[str, asyncio.Future[JSON]] = {}
        self.acks: list[JSON] = []

    @property
    def connected(self) -> bool:
        return any(not c.closed for c in self._connections)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._ws.socket_tickets:
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        self._ws.socket_tickets.discard(ticket)
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._connections.append(socket)
        self._ws.notify()
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": len(self._connections),
                "debug_info": {"host": "sandbox", "build_number": 1, "approximate_connection_time": 18060},
                "connection_info": {"app_id": self._ws.config.api_app_id},
            }
        )
        try:
            async for frame in socket:
                if frame.type == WSMsgType.TEXT:
                    self._receive(frame.data)
        finally:
            self._connections.remove(socket)
            self._ws.notify()
        return socket

    def _receive(self, data: str) -> None:
        try:
            ack = json.loads(data)
        except json.JSONDecodeError:
            return  # Slack ignores frames it cannot read; the sender then times out like a missing ack
        if not isinstance(ack, dict):
            return
        self.acks.append(ack)
        waiter = self._pending.get(str(ack.get("envelope_id")))
        if waiter is not None and not waiter.done():
            waiter.set_result(ack)

    async def send(self, kind: str, payload: JSON, *, accepts_response_payload: bool, wait: float) -> JSON:
        """Send one envelope and return the app's ack; TimeoutError when none comes in time,
        ConnectionResetError when the app's connection is gone.
        """
        socket = next((c for c in reversed(self._connections) if not c.closed), None)
        if socket is None:
            raise ConnectionResetError("the app's Socket Mode connection closed")
        envelope_id = str(uuid.uuid4())
        envelope: JSON = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope |= {"retry_attempt": 0, "retry_reason": ""}
        waiter: asyncio.Future[JSON] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = waiter
        try:
            await socket.send_json(envelope)
            return await asyncio.wait_for(waiter, wait)
        finally:
            del self._pending[envelope_id]

    async def disconnect_all(self) -> None:
        for socket in list(self._connections):
            await socket.close(code=WSCloseCode.GOING_AWAY, message=b"sandbox shutting down")


HUB = web.AppKey("socket_hub", SocketHub)


async def handle_link(request: web.Request) -> web.StreamResponse:
    return await request.app[HUB].handle(request)
