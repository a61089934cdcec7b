"""End-to-end harness: the real bot (``create_app``) served over HTTP, the fake Slack delivering signed requests to it,
the Pulumi emulator behind it, and a real Redis. Tests act as users and assert what the channel and the emulator show.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web

from bot.app import DEPS, WATCHER, create_app
from bot.config import Settings, load_settings
from bot.deps import Deps
from bot.watcher import Watcher
from tests.pulumi_sandbox import PulumiSandbox
from tests.slack_sandbox import SlackSandbox

T = TypeVar("T")
CHANNEL = "C_DEPLOYS"
POLICIES = Path(__file__).parents[1] / "payloads" / "policy"
OPEN_POLICY = str(POLICIES / "open.toml")  # nothing waits for approval: the default for tests of everything else
STACKS = ("acme/web/dev", "acme/web/prod", "acme/api/dev")


@dataclass
class Bot:
    """The running bot and the two worlds around it."""

    url: str
    settings: Settings
    slack: SlackSandbox
    pulumi: PulumiSandbox
    watcher: Watcher
    deps: Deps

    async def tick(self, steps: int = 1) -> None:
        """Move the emulator's clock ``steps`` transitions, then let the watcher report what changed."""
        await self.pulumi.advance(steps)
        await self.watcher.poll_once()


def bot_settings(slack: SlackSandbox, pulumi: PulumiSandbox, redis_url: str, **extra: str) -> Settings:
    return load_settings(
        {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            "PULUMI_ACCESS_TOKEN": pulumi.token,
            "PULUMI_BACKEND_URL": pulumi.url,
            "PULUMI_ORG": "acme",
            "REDIS_URL": redis_url,
            # Polls are driven by the tests (poll_once); a tiny interval makes every watch due at the next one.
            "DEPLOYBOT_POLL_INTERVAL": "0.001",
            "DEPLOYBOT_POLICY": OPEN_POLICY,
        }
        | extra
    )


@asynccontextmanager
async def running_bot(
    mode: str,
    slack: SlackSandbox,
    pulumi: PulumiSandbox,
    redis_url: str,
    *,
    watch_loop: bool = False,
    stacks: bool = True,
    **extra: str,
) -> AsyncIterator[Bot]:
    """The bot in ``mode`` on a free port, connected to the fake Slack, with stacks acme/web/dev, acme/web/prod
    and acme/api/dev in the emulator. ``extra`` settings override the defaults."""
    if stacks:
        await pulumi.create_stacks(*STACKS)
    settings = bot_settings(slack, pulumi, redis_url, SLACK_APP_TOKEN=slack.app_token, **extra)
    app = create_app(settings, mode, watch_loop=watch_loop)  # type: ignore[arg-type]  # "serve" or "socket"
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    if mode == "serve":
        await slack.set_request_url(url + "/slack/events")
    else:
        assert (await slack.socket(wait_connected=True))["connected"]
    try:
        yield Bot(url, settings, slack, pulumi, app[WATCHER], app[DEPS])
    finally:
        await runner.cleanup()


@pytest.fixture(params=["serve", "socket"])
async def bot(
    request: pytest.FixtureRequest,
    slack_sandbox: SlackSandbox,
    pulumi_sandbox: PulumiSandbox,
    redis_url: str,
    redis: object,
) -> AsyncIterator[Bot]:
    """The bot over HTTP (``serve``) and over Socket Mode (``socket``) in turn: a test runs once per mode."""
    async with running_bot(request.param, slack_sandbox, pulumi_sandbox, redis_url) as running:
        yield running


@pytest.fixture
async def http_bot(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> AsyncIterator[Bot]:
    """The bot over HTTP only, for what only exists there (request signatures)."""
    async with running_bot("serve", slack_sandbox, pulumi_sandbox, redis_url) as running:
        yield running


async def eventually(probe: Callable[[], Awaitable[T]], check: Callable[[T], bool], within: float = 5.0) -> T:
    """Poll ``probe`` until ``check`` holds (the bot works after its ack, so outcomes arrive a moment later)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await probe()
        if check(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within} s; last value: {value!r}"[:2000])
        await asyncio.sleep(0.02)


def text_of(value: Any) -> str:
    """A message (or anything JSON) as one string, for ``in`` assertions."""
    return json.dumps(value, ensure_ascii=False)


async def channel_message(bot: Bot, contains: str, channel: str = CHANNEL, within: float = 5.0) -> dict[str, Any]:
    """The newest top-level message in ``channel`` once its current text contains ``contains``."""

    async def newest() -> list[dict[str, Any]]:
        return await bot.slack.messages(channel, min=1)

    def found(messages: list[dict[str, Any]]) -> bool:
        return any(contains in text_of(m.get("blocks") or m["text"]) for m in messages)

    messages = await eventually(newest, found, within=within)
    return next(m for m in reversed(messages) if contains in text_of(m.get("blocks") or m["text"]))


async def ephemeral_with(bot: Bot, user: str, action_id: str) -> dict[str, Any]:
    """The newest ephemeral message shown to ``user`` that carries a button ``action_id``."""

    async def shown() -> list[dict[str, Any]]:
        return await bot.slack.ephemerals(user)

    found = await eventually(shown, lambda ms: any(action_id in text_of(m.get("blocks")) for m in ms))
    return next(m for m in reversed(found) if action_id in text_of(m.get("blocks")))


def process_env(slack: SlackSandbox, pulumi: PulumiSandbox, redis_url: str, port: int, **extra: str) -> dict[str, str]:
    """The environment of a ``deploybot serve`` process pointed at the sandboxes (nothing inherited but PATH)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "PULUMI_ACCESS_TOKEN": pulumi.token,
        "PULUMI_BACKEND_URL": pulumi.url,
        "PULUMI_ORG": "acme",
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "DEPLOYBOT_POLICY": OPEN_POLICY,
    } | extra


@dataclass
class BotProcess:
    """``deploybot serve`` (or ``deploybot socket``) as a child process."""

    process: asyncio.subprocess.Process
    url: str

    @classmethod
    async def start(cls, env: dict[str, str], mode: str = "serve") -> BotProcess:
        """``deploybot serve`` (or ``socket``) with ``env``, once its ``/healthz`` answers 200."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", mode, "--host", "127.0.0.1", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        started = cls(process, f"http://127.0.0.1:{env['PORT']}")
        await eventually(started.health, lambda status: status == 200, within=20)
        return started

    async def health(self) -> int:
        try:
            async with aiohttp.ClientSession() as session, session.get(self.url + "/healthz") as response:
                return response.status
        except aiohttp.ClientConnectionError:
            return 0

    async def stop(self, sig: int = signal.SIGINT) -> tuple[int | None, str]:
        """Send ``sig`` and wait for the exit; returns the exit code and everything it printed."""
        if self.process.returncode is None:
            self.process.send_signal(sig)
        stdout, stderr = await asyncio.wait_for(self.process.communicate(), timeout=30)
        return self.process.returncode, stdout.decode() + stderr.decode()
