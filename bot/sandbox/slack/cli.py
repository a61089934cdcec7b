"""``deploybot sandbox slack``: serve the fake Slack until Ctrl-C and print where it is and which tokens it takes."""

from __future__ import annotations

import argparse
import asyncio
import sys

from aiohttp import web

from bot.sandbox.slack.app import create_app
from bot.sandbox.slack.config import SlackSandboxConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=3100, help="port to bind; 0 picks a free one (default 3100)")
    parser.add_argument("--signing-secret", default=SlackSandboxConfig.signing_secret, help="secret to sign with")
    parser.add_argument("--bot-token", default=SlackSandboxConfig.bot_token, help="the xoxb- token the fake accepts")
    parser.add_argument("--app-token", default=SlackSandboxConfig.app_token, help="the xapp- token for Socket Mode")
    parser.add_argument("--request-url", default=None, help="the bot's POST /slack/events URL (settable later)")
    parser.add_argument("--no-rate-limits", action="store_true", help="never answer 429 (for throughput runs)")


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        print(f"deploybot sandbox slack: --port must be between 0 and 65535, not {args.port}", file=sys.stderr)
        return 2
    config = SlackSandboxConfig(
        bot_token=args.bot_token,
        app_token=args.app_token,
        signing_secret=args.signing_secret,
        request_url=args.request_url,
        rate_limits=not args.no_rate_limits,
    )
    try:
        asyncio.run(_serve(config, args.host, args.port))
    except KeyboardInterrupt:
        return 0
    except OSError as error:
        print(f"deploybot sandbox slack: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


async def _serve(config: SlackSandboxConfig, host: str, port: int) -> None:
    runner = web.AppRunner(create_app(config))
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        url = f"http://{host}:{bound}"
        print(f"Slack sandbox serving on {url}")
        print(f"  Web API base URL  {url}/api/")
        print(f"  bot token         {config.bot_token}")
        print(f"  app token         {config.app_token}")
        print(f"  signing secret    {config.signing_secret}")
        print(f"  request URL       {config.request_url or '(not set: POST /_sandbox/config)'}")
        print(f"  rate limits       {'on' if config.rate_limits else 'off'}")
        print("Control API under /_sandbox/ (see bot/sandbox/slack/__init__.py). Ctrl-C stops.", flush=True)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
