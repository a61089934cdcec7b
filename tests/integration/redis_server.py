"""A private redis-server a test can stop and start again (the session's shared one must stay up)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.conftest import _redis_server_binary


class RedisServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            _redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no",
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert self._process.stdout is not None
        # Its log says when it listens: no polling for the port.
        while b"Ready to accept connections" not in (line := await self._process.stdout.readline()):
            assert line, "the private redis-server stopped before it was ready"

    async def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            await self._process.wait()


@asynccontextmanager
async def redis_server(port: int) -> AsyncIterator[RedisServer]:
    server = RedisServer(port)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
