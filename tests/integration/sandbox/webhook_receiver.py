"""A tiny webhook endpoint for the emulator's webhook tests: a real aiohttp server on a free port that keeps every
request it gets, answers with a status the test chooses, can hold its answers back, or close without one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes  # the raw bytes, as a signature check needs them
    at: float  # the event loop's clock on arrival

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event_status(self) -> str:
        return str(self.json["status"])


class Receiver:
    def __init__(self) -> None:
        self.url = ""  # set once it listens: http://127.0.0.1:{port}
        self.received: list[Received] = []
        self.status = 200
        self.abort = False  # close the connection instead of answering
        self._open = asyncio.Event()  # cleared: requests wait before answering
        self._open.set()

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def at(self, path: str) -> list[Received]:
        return [item for item in self.received if item.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.received.append(Received(request.path, dict(request.headers), body, asyncio.get_running_loop().time()))
        await self._open.wait()
        if self.abort and request.transport is not None:
            request.transport.abort()
        return web.Response(status=self.status, text="thanks")


@asynccontextmanager
async def start_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver._handle)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        yield receiver
    finally:
        receiver.release()  # a held request must not keep the server from stopping
        await runner.cleanup()
