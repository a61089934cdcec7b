"""Starting and stopping the whole demo in one process: Redis (a child process, unless REDIS_URL is given), the Pulumi
emulator with its demo organization, the fake Slack, and the bot in HTTP mode, each on a free 127.0.0.1 port."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bot.app import create_app
from bot.config import load_settings
from bot.demo.redis_server import EmbeddedRedis
from bot.sandbox.pulumi import EmulatorConfig
from bot.sandbox.pulumi import create_app as create_emulator
from bot.sandbox.pulumi.webhooks.hook import WebhookConfig
from bot.sandbox.slack import SlackSandboxConfig
from bot.sandbox.slack import create_app as create_fake_slack

# Fixed demo credentials: they only ever travel between local processes on 127.0.0.1.
SLACK_BOT_TOKEN = "xoxb-deploybot-demo"
SLACK_SIGNING_SECRET = "deploybot-demo-signing-secret"
PULUMI_TOKEN = "pul-deploybot-demo"
WEBHOOK_SECRET = "deploybot-demo-webhook-secret"
ORG = "acme"
POLL_INTERVAL = "1"  # seconds; the emulator's webhooks usually poke the bot sooner
SHUTDOWN_TIMEOUT = 2.0  # seconds an open connection may delay stopping a server


@dataclass(frozen=True)
class DemoOptions:
    state_dir: Path
    step_seconds: float = 2.0
    redis_url: str | None = None  # a Redis of the user's own; None: the embedded one under state_dir/redis
    policy: Path | None = None  # DEPLOYBOT_POLICY; None: the built-in default policy

    def __post_init__(self) -> None:
        if not self.step_seconds > 0:
            raise ValueError("step_seconds must be positive")


@dataclass(frozen=True)
class Demo:
    """Where everything runs, for the console and its banner."""

    options: DemoOptions
    slack_url: str
    pulumi_url: str
    bot_url: str
    redis_url: str
    redis_pid: int | None  # the embedded redis-server's process id; None with REDIS_URL


def _listener() -> socket.socket:
    """A socket already bound to a free port: every URL is known before any app is built, with no race."""
    return socket.create_server(("127.0.0.1", 0))


def _url(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextlib.asynccontextmanager
async def running_demo(options: DemoOptions) -> AsyncIterator[Demo]:
    """Everything running for the duration of the block; stopped in reverse order (the bot first, Redis last)."""
    async with contextlib.AsyncExitStack() as stack:
        emulator_sock, slack_sock, bot_sock = (stack.enter_context(_listener()) for _ in range(3))
        pulumi_url, slack_url, bot_url = _url(emulator_sock), _url(slack_sock), _url(bot_sock)
        redis = EmbeddedRedis(options.state_dir / "redis")
        redis_url = options.redis_url
        if redis_url is None:
            redis_url = await stack.enter_async_context(redis)
        environ = {
            "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
            "SLACK_API_URL": slack_url + "/api/",
            "PULUMI_ACCESS_TOKEN": PULUMI_TOKEN,
            "PULUMI_BACKEND_URL": pulumi_url,
            "PULUMI_ORG": ORG,
            "REDIS_URL": redis_url,
            "DEPLOYBOT_POLL_INTERVAL": POLL_INTERVAL,
            "PULUMI_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        if options.policy is not None:
            environ["DEPLOYBOT_POLICY"] = str(options.policy)
        bot = create_app(load_settings(environ), "serve")  # a bad policy file stops here, with one line
        emulator = create_emulator(
            EmulatorConfig(
                admin_tokens=(PULUMI_TOKEN,),
                step_seconds=options.step_seconds,
                webhooks=(WebhookConfig(bot_url + "/webhooks/pulumi", WEBHOOK_SECRET),),
            )
        )
        slack = create_fake_slack(
            SlackSandboxConfig(
                bot_token=SLACK_BOT_TOKEN,
                signing_secret=SLACK_SIGNING_SECRET,
                request_url=bot_url + "/slack/events",
                rate_limits=True,
            )
        )
        for app, sock in ((emulator, emulator_sock), (slack, slack_sock), (bot, bot_sock)):
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
            await runner.setup()
            stack.push_async_callback(runner.cleanup)
            await web.SockSite(runner, sock).start()
        yield Demo(options, slack_url, pulumi_url, bot_url, redis_url, redis.process_id)
