"""``deploybot demo [--script FILE] [--state-dir DIR] [--step-seconds S]``: start everything locally, print a banner,
and run the console (typed, or replayed from a script) until ``quit``, the script's end, Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import os
import signal
import sys
from pathlib import Path

import aiohttp

from bot.demo.console import INTERACTIVE_PATIENCE, Console
from bot.demo.control import Sandboxes
from bot.demo.feed import Feed
from bot.demo.people import People
from bot.demo.render import Renderer
from bot.demo.runner import ORG, Demo, DemoOptions, running_demo
from bot.demo.script import EXPECT_TIMEOUT, ScriptLines
from bot.demo.terminal import Lines, Screen, StdinLines, TerminalModes
from bot.errors import ConfigError
from bot.log import JsonFormatter, quiet_body_loggers

CHANNEL = "C_DEPLOYS"
FIRST_USER = "U_CARA"  # a developer: her update waits for someone else's approval under the default policy
INTERRUPTED = 130


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 3600 seconds, not {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Start an embedded Redis (or use REDIS_URL), the Pulumi Deployments emulator with the demo organization "
        "'acme', a fake Slack workspace and the bot, then act in #deploys from a console. DEPLOYBOT_POLICY picks an "
        "approval policy (default: update and destroy need one approval from someone else). No accounts, no network."
    )
    parser.add_argument(
        "--script", type=Path, default=None, metavar="FILE",
        help="replay console inputs from FILE (one per line, # comments, `expect TEXT` checks) and exit 1 on a failure",
    )  # fmt: skip
    parser.add_argument(
        "--state-dir", type=Path, default=Path(".deploybot-demo"), metavar="DIR",
        help="where Redis keeps its data and the bot its log (default .deploybot-demo)",
    )  # fmt: skip
    parser.add_argument(
        "--step-seconds", type=_positive_seconds, default=2.0, metavar="S",
        help="seconds the Pulumi emulator takes per deployment step (default 2)",
    )  # fmt: skip
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # The demo's only settings from the environment (everything else is a fixed local value): a Redis of your own,
    # and the approval policy. The CLI is the boundary that reads them, like load_settings() for the bot.
    redis_url = os.environ.get("REDIS_URL") or None
    policy = os.environ.get("DEPLOYBOT_POLICY") or None
    options = DemoOptions(args.state_dir, args.step_seconds, redis_url, Path(policy) if policy else None)
    if isinstance(sys.stdout, io.TextIOWrapper):  # a terminal that cannot show an emoji gets "?", not a traceback
        sys.stdout.reconfigure(errors="replace")
    screen = Screen(sys.stdout, redraw=sys.stdin.isatty() and sys.stdout.isatty() and args.script is None)
    lines: Lines = ScriptLines(args.script, screen) if args.script else StdinLines(screen, terminal=sys.stdin.isatty())
    try:
        options.state_dir.mkdir(parents=True, exist_ok=True)
        log_file = _log_to_file(options.state_dir / "deploybot.log")
    except OSError as exc:
        raise ConfigError(f"cannot use {options.state_dir} as the state directory: {exc.strerror or exc}") from None
    try:
        with TerminalModes(sys.stdin):
            return asyncio.run(_main(options, screen, lines))
    finally:
        logging.getLogger().removeHandler(log_file)
        log_file.close()


def _log_to_file(path: Path) -> logging.Handler:
    """The bot's and the sandboxes' logs go to a file: the terminal belongs to the console."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    quiet_body_loggers()
    return handler


async def _main(options: DemoOptions, screen: Screen, lines: Lines) -> int:
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    signals: list[int] = []

    def stop(signum: int) -> None:
        # The first signal stops everything in order; more while stopping would only risk an orphaned Redis.
        if not signals:
            screen.end_prompt()
            screen.write("Stopping…")
            main.cancel()
        signals.append(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        # Where the loop cannot take signals (Windows), Ctrl-C arrives as KeyboardInterrupt and main() exits 130.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop, signum)
    scripted = isinstance(lines, ScriptLines)
    try:
        screen.write("Starting Redis, the Pulumi emulator, the fake Slack and the bot…")
        async with running_demo(options) as demo, aiohttp.ClientSession() as session:
            code = await _console(demo, Sandboxes(session, demo.slack_url, demo.pulumi_url), screen, lines)
        screen.write("Stopped everything.")
        return code
    except asyncio.CancelledError:
        if not signals:
            raise
        main.uncancel()
        screen.write("Stopped everything.")
        # An interrupted script did not finish its checks; an interrupted console is just how it ends.
        return INTERRUPTED if scripted else 0


async def _console(demo: Demo, sandboxes: Sandboxes, screen: Screen, lines: Lines) -> int:
    people = People(await sandboxes.workspace())
    feed = Feed(sandboxes, Renderer(people.names), CHANNEL, FIRST_USER, screen.write)
    scripted = isinstance(lines, ScriptLines)
    patience = EXPECT_TIMEOUT if scripted else INTERACTIVE_PATIENCE
    console = Console(sandboxes, feed, people, screen, lines, patience=patience)
    screen.write(banner(demo, people, await sandboxes.stacks(), feed.channel_name, FIRST_USER))
    outcome = await console.run(stop_on_failure=scripted)
    if outcome.ok:
        return 0
    where = f" ({lines.where()})" if isinstance(lines, ScriptLines) else ""
    print(f"deploybot demo: the script failed{where}: {outcome.message}", file=sys.stderr, flush=True)
    return 1


def banner(demo: Demo, people: People, stacks: list[str], channel: str, user: str) -> str:
    options = demo.options
    redis = (
        f"Redis: your own (REDIS_URL) at {demo.redis_url}"
        if options.redis_url
        else f"Redis: {demo.redis_url}, data in {options.state_dir / 'redis'} (append-only)"
    )
    policy = (
        f"Approval policy: {options.policy} (DEPLOYBOT_POLICY)"
        if options.policy
        else "Approval policy: the default — update and destroy need one approval from someone else"
    )
    groups = "; ".join(f"@{handle}: {', '.join(members)}" for handle, members in people.groups.items())
    return "\n".join(
        [
            "Deploybot demo — all local: a fake Slack workspace, the Pulumi Deployments emulator, Redis and the bot.",
            f"  Slack: #{channel} · people: {people.listing()} · groups: {groups or 'none'}",
            f"  Pulumi: org {ORG}, stacks {', '.join(s.removeprefix(ORG + '/') for s in stacks)}"
            f" · a step takes {options.step_seconds:g} s",
            f"  {redis}",
            f"  {policy}",
            f"  Logs: {options.state_dir / 'deploybot.log'}",
            "  Redis keeps pending approvals and watches across restarts. The emulator and the fake Slack live in",
            "  memory: after a restart their deployments and messages are gone (the bot stops watching those).",
            f"You are {people.describe(user)}. Try `/deploy update web/dev`, then `as ben` and `click 1` to approve.",
            "`help` lists the commands; `quit` or Ctrl-C stops everything.",
        ]
    )
