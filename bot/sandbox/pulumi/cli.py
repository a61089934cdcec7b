"""``deploybot sandbox pulumi``: serve the emulator on a port until Ctrl-C (or SIGTERM), then exit 0."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from typing import Any

from aiohttp import web

from bot.errors import ConfigError
from bot.sandbox.pulumi.app import create_app
from bot.sandbox.pulumi.config import EmulatorConfig
from bot.sandbox.pulumi.webhooks.hook import WebhookConfig

DEFAULT_TOKEN = "pul-sandbox-token"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


class _WebhookUrl(argparse.Action):
    """``--webhook-url U``: one more hook, as ``[url, secret]`` (a following ``--webhook-secret`` fills it in)."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, value: Any, option: Any = None
    ) -> None:
        hooks = getattr(namespace, self.dest) or []
        setattr(namespace, self.dest, [*hooks, [value, None]])


class _WebhookSecret(argparse.Action):
    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, value: Any, option: Any = None
    ) -> None:
        hooks = getattr(namespace, self.dest) or []
        if not hooks or hooks[-1][1] is not None:
            parser.error("--webhook-secret applies to the --webhook-url before it (one secret per URL)")
        hooks[-1][1] = value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    parser.add_argument(
        "--token",
        action="append",
        dest="tokens",
        metavar="T",
        help=f"admin token, repeatable (default {DEFAULT_TOKEN})",
    )
    parser.add_argument("--member-token", action="append", dest="member_tokens", metavar="M", help="member token")
    parser.add_argument(
        "--stack",
        action="append",
        dest="stacks",
        metavar="ORG/PROJECT/STACK",
        help="create this stack with default settings, repeatable (default: a seeded demo org 'acme')",
    )
    parser.add_argument("--concurrency", type=_positive_int, default=4, help="deployments running at once per org")
    parser.add_argument("--step-seconds", type=_positive_float, default=1.0, help="seconds per step (default 1)")
    parser.add_argument("--manual-clock", action="store_true", help="tick only on POST /_sandbox/advance")
    parser.add_argument(
        "--phases",
        type=_positive_int,
        default=1,
        help="spread transitions over each step: tick N times a step, each tick moving 1/N of the deployments",
    )
    parser.add_argument(
        "--webhook-senders",
        type=_positive_int,
        default=4,
        help="webhook deliveries sent at once (default 4); Pulumi Cloud's own fleet sends many more in parallel",
    )
    parser.add_argument("--console-url", default="https://app.pulumi.com", help="base of consoleUrl links")
    parser.add_argument("--seed", type=int, default=0, help="seed for probabilistic faults")
    parser.add_argument(
        "--webhook-url",
        action=_WebhookUrl,
        dest="webhooks",
        metavar="URL",
        help="send Pulumi's deployment webhooks (all four events, every org) to URL, repeatable",
    )
    parser.add_argument(
        "--webhook-secret",
        action=_WebhookSecret,
        dest="webhooks",
        metavar="S",
        help="sign deliveries to the --webhook-url before it with secret S (Pulumi-Webhook-Signature)",
    )


def run(args: argparse.Namespace) -> int:
    admin_tokens = tuple(args.tokens or [DEFAULT_TOKEN])
    member_tokens = tuple(args.member_tokens or [])
    try:
        config = EmulatorConfig(
            admin_tokens=admin_tokens,
            member_tokens=member_tokens,
            stacks=tuple(args.stacks or []),
            concurrency=args.concurrency,
            step_seconds=args.step_seconds,
            manual_clock=args.manual_clock,
            phases=args.phases,
            console_url=args.console_url,
            seed=args.seed,
            webhooks=tuple(WebhookConfig(url, secret) for url, secret in args.webhooks or []),
            webhook_senders=args.webhook_senders,
        )
        app = create_app(config)
    except ValueError as exc:  # a bad --stack name or --webhook-url, or an invalid combination of settings
        raise ConfigError(str(exc)) from None
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it is meant to stop
        asyncio.run(_serve(app, args.host, args.port, admin_tokens, member_tokens))
    return 0


async def _serve(app: web.Application, host: str, port: int, admins: tuple[str, ...], members: tuple[str, ...]) -> None:
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        bound = runner.addresses[0][1]
        tokens = f"admin token {', '.join(admins)}" + (f"; member token {', '.join(members)}" if members else "")
        print(f"Pulumi Deployments emulator on http://{host}:{bound} ({tokens}); Ctrl-C to stop", flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
