"""A scripted HTTP responder for transport edge cases the Pulumi emulator does not produce on purpose: proxy HTML
pages, malformed or empty 2xx bodies, answers that never come, a service that ignores the ``status`` filter.

It is not a Pulumi stand-in (no state, no rules): each test says exactly what each request is answered with.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Answer = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    method: str
    raw_path: str  # as sent, percent-encoding and query included
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival
    peer: Any  # the client's (host, port): the same for requests on one reused connection


def reply(
    status: int = 200,
    *,
    json_body: Any = None,
    text: str = "",
    headers: dict[str, str] | None = None,
    content_type: str | None = None,
) -> Answer:
    async def answer(request: web.Request) -> web.StreamResponse:
        if json_body is not None:
            return web.Response(
                status=status, text=json.dumps(json_body), content_type="application/json", headers=headers
            )
        return web.Response(status=status, text=text, headers=headers, content_type=content_type or "text/plain")

    return answer


@dataclass
class Script:
    """Answers per (method, path): each request takes the next answer; the last one repeats."""

    url: str = ""  # set once served
    seen: list[Seen] = field(default_factory=list)
    answers: dict[tuple[str, str], list[Answer]] = field(default_factory=dict)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def on(self, method: str, path: str, *answers: Answer) -> None:
        self.answers[(method, path)] = list(answers)

    def hang(self) -> Answer:
        """An answer that never comes (until the test ends): for timeouts, without sleeping."""

        async def answer(request: web.Request) -> web.StreamResponse:
            await self.release.wait()
            return web.Response(status=599)

        return answer

    def calls(self, method: str, path: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.method == method and seen.raw_path.split("?")[0] == path]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(
            Seen(
                request.method,
                request.raw_path,
                dict(request.headers),
                await request.read(),
                time.monotonic(),
                request.transport.get_extra_info("peername") if request.transport else None,
            )
        )
        queue = self.answers.get((request.method, request.raw_path.split("?")[0]))
        if not queue:
            return web.Response(status=418, text=f"unscripted {request.method} {request.raw_path}")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return await answer(request)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app


async def drop_then_answer(answers: list[bytes | None]) -> tuple[asyncio.Server, list[bytes]]:
    """A raw TCP server: for each connection, read one request, then send the next raw answer or (None) just close.

    aiohttp's server always answers; dropping a connection mid-request needs the socket itself.
    """
    requests: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
        )
        requests.append(head + await reader.readexactly(length))
        raw = answers.pop(0) if len(answers) > 1 else answers[0]
        if raw is not None:
            writer.write(raw)
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, requests


def raw_json(status: int, body: Any) -> bytes:
    payload = json.dumps(body).encode()
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + payload
