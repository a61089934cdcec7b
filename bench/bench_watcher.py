"""The watcher under load: N deployments started with ``/deploy`` in one channel, followed by one ``deploybot serve``
(``DEPLOYBOT_POLL_INTERVAL=2``) while the Pulumi emulator runs them all at once, 2 s a step; prints tables.

Each run gets a fresh world of separate processes: Redis, the emulator, the fake Slack and the bot (with an open
approval policy, so every /deploy starts at once).
  polling   N deployments, the fake Slack's rate limits off (and the bot's own budgets off)
  webhooks  the same, with the emulator's deployment webhooks signed and sent to the bot's /webhooks/pulumi
  burst     Slack's rate limits on (the fake's, and the bot's budgets as shipped): M deployments finish on one tick
Deployments are created while the organization is paused (the watcher shows them queued), then it is resumed.
Polling and webhooks run once per ``--phases`` value (default ``1,20``): with 1 every deployment starts on the same
tick (lockstep: every later transition lands on one tick too, the worst case for lag); with P > 1 the emulator
ticks P times a step and each tick moves 1/P of the deployments, so the transitions spread over each step as they
do when deployments start at different times (those runs are named ``polling-spreadP``, ``webhooks-spreadP``).
Every 10th deployment fails at its last step.
A lag runs from a transition in the emulator's event log (``atNs``) to the first successful call in the fake Slack's
call log (``at``) whose content shows it.

    .venv/bin/python bench/bench_watcher.py [--deployments 1000] [--burst 100] [--quick]
        [--only polling,webhooks,burst] [--phases 1,20] [--dump DIR] [--profile FILE --py-spy PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from bot.store import keys

sys.path.insert(0, str(Path(__file__).parent))  # bench is no package: harness and watcher_report are found here
from harness import child, cpu_seconds, deploybot, free_port, peak_rss_mb, redis, run
from watcher_report import Outcome, Phase, dump, endpoint, epoch, print_tables, shown_by_stack

SIGNING_SECRET, WEBHOOK_SECRET = "bench-signing-secret", "bench-webhook-secret"
BOT_TOKEN, BENCH_TOKEN = "pul-bot", "pul-bench"  # the emulator logs the second token's calls as "admin2"
BOT_USER = "admin"
ORG, CHANNEL, PERSON = "bench", "C_DEPLOYS", "U_CARA"
INTERVAL = STEP_SECONDS = 2.0
FAIL_EVERY, FAIL_STEP = 10, 5  # the last of the five steps: failures finish on the same tick as the others
SENDERS = 8  # slash commands in flight at once
WEBHOOK_SENDERS = 32  # the emulator's webhook deliveries in flight at once (Pulumi Cloud sends them in parallel)
CREATE_DEADLINE = 300.0  # seconds for creating through Slack; if it runs out, fewer deployments are measured
BOT_LOGS = Path(tempfile.gettempdir()) / "bench_watcher_bot.log"
# Deployments start as soon as they are asked for: the approval gate is not what this measures.
OPEN_POLICY = "[defaults]\nrequire_approval = []\n"


def stack_name(n: int) -> str:
    return f"{ORG}/svc-{n:04d}/dev"


# -- the world: processes, and the calls that drive and read them ------------------------------------------------


@dataclass
class World:
    http: aiohttp.ClientSession
    pulumi: str
    slack: str
    redis_url: str
    redis: aioredis.Redis
    sandboxes: tuple[int, int]  # the emulator's and the fake Slack's pids
    policy: Path
    bot_port: int = field(default_factory=free_port)
    requests: list[tuple[float, str, str]] = field(default_factory=list)  # the bot's /api/ calls: at, endpoint, path
    _seq: int = 0

    async def get(self, url: str, **params: str | int) -> Any:
        async with self.http.get(url, params=params) as response:
            response.raise_for_status()
            return await response.json()

    async def post(self, url: str, body: object, **headers: str) -> Any:
        async with self.http.post(url, json=body, headers=headers) as response:
            if response.status >= 300:
                raise RuntimeError(f"POST {url} answered {response.status}: {await response.text()}")
            return await response.json(content_type=None)

    async def org(self, action: str) -> None:
        await self.post(
            f"{self.pulumi}/api/orgs/{ORG}/deployments/{action}", None, Authorization=f"token {BENCH_TOKEN}"
        )

    async def read_requests(self) -> None:
        """Copy what is new in the emulator's request log (it keeps only the newest); only the bot's calls."""
        entries = (await self.get(f"{self.pulumi}/_sandbox/requests", since=self._seq))["requests"]
        mine = [e for e in entries if e["user"] == BOT_USER]
        self.requests += [(epoch(e["at"]), endpoint(e["method"], e["path"]), e["path"]) for e in mine]
        self._seq = entries[-1]["seq"] if entries else self._seq

    async def follow_requests(self) -> None:
        while True:
            await self.read_requests()
            await asyncio.sleep(1)

    async def redis_commands(self) -> Counter[str]:
        """Commands Redis has run since it started, by name (``INFO commandstats``)."""
        stats = await self.redis.info("commandstats")
        return Counter({name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()})

    async def watched(self) -> int:
        return int(await self.redis.zcard(keys.WATCHES))

    def bot(self, paced: bool, webhooks: bool) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
        """A ``deploybot serve``; ``paced``: with the Slack budgets it ships with, else none (the fake's are off)."""
        env = {
            "SLACK_BOT_TOKEN": "xoxb-sandbox", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": f"{self.slack}/api/", "PULUMI_ACCESS_TOKEN": BOT_TOKEN, "PULUMI_BACKEND_URL": self.pulumi,
            "PULUMI_ORG": ORG, "REDIS_URL": self.redis_url, "LOG_LEVEL": "WARNING",
            "DEPLOYBOT_POLL_INTERVAL": str(INTERVAL), "DEPLOYBOT_SLACK_BUDGETS": "on" if paced else "off",
            "DEPLOYBOT_POLICY": str(self.policy),
        } | ({"PULUMI_WEBHOOK_SECRET": WEBHOOK_SECRET} if webhooks else {})  # fmt: skip
        argv = deploybot("serve", "--host", "127.0.0.1", "--port", str(self.bot_port))
        return child(argv, self.bot_port, env, output=BOT_LOGS)


@contextlib.asynccontextmanager
async def world(webhooks: bool, phases: int = 1) -> AsyncIterator[World]:
    pulumi_port, slack_port = free_port(), free_port()
    with (
        tempfile.TemporaryDirectory() as workdir,
        redis() as redis_url,
        child(deploybot("sandbox", "pulumi", "--port", str(pulumi_port), "--token", BOT_TOKEN, "--token", BENCH_TOKEN,
                        "--concurrency", "100000", "--step-seconds", str(STEP_SECONDS), "--phases", str(phases),
                        "--webhook-senders", str(WEBHOOK_SENDERS)),
              pulumi_port) as emulator,
        child(deploybot("sandbox", "slack", "--port", str(slack_port), "--signing-secret", SIGNING_SECRET,
                        "--no-rate-limits"), slack_port) as slack,
    ):  # fmt: skip
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=180)) as http,
            aioredis.Redis.from_url(redis_url) as client,
        ):
            pulumi_url, slack_url = f"http://127.0.0.1:{pulumi_port}", f"http://127.0.0.1:{slack_port}"
            policy = Path(workdir) / "policy.toml"
            policy.write_text(OPEN_POLICY)
            here = World(http, pulumi_url, slack_url, redis_url, client, (emulator.pid, slack.pid), policy)
            bot_url = f"http://127.0.0.1:{here.bot_port}"
            await here.post(f"{slack_url}/_sandbox/config", {"request_url": f"{bot_url}/slack/events"})
            if webhooks:
                hook = {"url": f"{bot_url}/webhooks/pulumi", "secret": WEBHOOK_SECRET}
                await here.post(f"{pulumi_url}/_sandbox/webhooks", hook)
            follower = asyncio.create_task(here.follow_requests())
            try:
                yield here
            finally:
                follower.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await follower


# -- the steps of a run ------------------------------------------------------------------------------------------


async def create(here: World, wanted: int) -> tuple[int, float, Counter[str]]:
    """Pause the org and send ``/deploy update`` for each stack through the fake Slack until every deployment's
    message shows it queued; returns how many were sent, how long it took, and Slack's complaints (ack timeouts)."""
    await here.post(f"{here.pulumi}/_sandbox/stacks", {"stacks": [stack_name(n) for n in range(wanted)]})
    await here.org("pause")
    started = time.monotonic()
    todo, sent, complaints = iter(range(wanted)), 0, Counter[str]()

    async def sender() -> None:
        nonlocal sent
        for n in todo:  # shared by the senders: each number is taken once
            if time.monotonic() - started > CREATE_DEADLINE:
                return
            fail = f" --env SANDBOX_FAIL_STEP={FAIL_STEP}" if n % FAIL_EVERY == FAIL_EVERY - 1 else ""
            body = {"user": PERSON, "channel": CHANNEL, "text": f"update {stack_name(n)}{fail}"}
            record = await here.post(f"{here.slack}/_sandbox/command", body)
            complaints.update([record["error"]] if record.get("error") else [])
            sent += 1

    await asyncio.gather(*(sender() for _ in range(SENDERS)))
    await shown_queued(here, sent)
    return sent, time.monotonic() - started, complaints


async def shown_queued(here: World, count: int, within: float = 180.0) -> None:
    """Until every deployment's message was edited twice: the command's announcement, then the watcher's first
    report (queued, paused); so no creation work spills into the measured phase."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        edits = await here.get(f"{here.slack}/_sandbox/calls", method="chat.update")
        per_stack = Counter(stack for stack, shown in shown_by_stack(edits).items() for _ in shown)
        if len(per_stack) >= count and all(n >= 2 for n in per_stack.values()):
            return
        await asyncio.sleep(2)
    raise RuntimeError(f"the {count} deployments' messages were not all shown queued within {within:.0f} s")


async def until_reported(here: World, within: float) -> bool:
    """Wait until the watcher retired every watch (it retires one after recording its reported outcome)."""
    deadline = time.monotonic() + within
    while await here.watched():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.25)
    return True


@contextlib.contextmanager
def profiled(pid: int, output: Path | None, py_spy: str) -> Iterator[None]:
    """``py-spy record`` of ``pid`` while the block runs (raw, collapsed stacks), when ``output`` is given."""
    if output is None:
        yield
        return
    argv = [py_spy, "record", "-p", str(pid), "-f", "raw", "-o", str(output), "-r", "100"]
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes the profile when interrupted
        spy.wait(timeout=60)


async def measure(here: World, bot: subprocess.Popen[bytes], created: int, within: float) -> Phase:
    """Resume the org (every deployment starts on the next tick) and watch until the last one is reported."""
    sandboxes = sum(cpu_seconds(pid) for pid in here.sandboxes)
    bot_cpu, commands, released = cpu_seconds(bot.pid), await here.redis_commands(), time.time()
    await here.org("resume")
    finished = await until_reported(here, within)
    done = time.time()
    await here.read_requests()
    events = (await here.get(f"{here.pulumi}/_sandbox/events"))["events"]
    calls = await here.get(f"{here.slack}/_sandbox/calls")
    return Phase(
        created=created, released=released, done=done, finished=finished, events=events, calls=calls,
        requests=here.requests, bot_cpu=cpu_seconds(bot.pid) - bot_cpu, bot_rss=peak_rss_mb(bot.pid),
        sandbox_cpu=sum(cpu_seconds(pid) for pid in here.sandboxes) - sandboxes,
        redis_commands=await here.redis_commands() - commands,
    )  # fmt: skip


async def scenario(run: str, wanted: int, phases: int, profile: Path | None, py_spy: str) -> Outcome:
    name, webhooks = run if phases == 1 else f"{run}-spread{phases}", run == "webhooks"
    async with world(webhooks, phases) as here:
        with here.bot(paced=False, webhooks=webhooks) as bot:
            cpu_before = cpu_seconds(bot.pid)
            created, took, complaints = await create(here, wanted)
            cpu_creating = cpu_seconds(bot.pid) - cpu_before
            with profiled(bot.pid, profile and profile.with_name(f"{profile.stem}.{name}{profile.suffix}"), py_spy):
                phase = await measure(here, bot, created, within=300)
        deliveries = (await here.get(f"{here.pulumi}/_sandbox/webhooks/deliveries"))["deliveries"] if webhooks else []
    hooks = ", the emulator's deployment webhooks sent to the bot" if webhooks else ""
    clock = f"transitions spread over each step in {phases} phases" if phases > 1 else "lockstep (one tick a step)"
    about = f"{clock}, fake Slack's rate limits off and the bot's Slack budgets off (DEPLOYBOT_SLACK_BUDGETS){hooks}"
    return Outcome(name, wanted, took, complaints, cpu_creating, phase, deliveries, about=about)


async def burst(wanted: int) -> Outcome:
    """Create with rate limits off, stop that bot, turn Slack's limits on, and let a bot with the shipped budgets
    (a new process on the same Redis takes the watches over) report all of them finishing on one tick."""
    async with world(webhooks=False) as here:
        with here.bot(paced=False, webhooks=False) as bot:
            cpu_before = cpu_seconds(bot.pid)
            created, took, complaints = await create(here, wanted)
            cpu_creating = cpu_seconds(bot.pid) - cpu_before
        await here.post(f"{here.slack}/_sandbox/config", {"rate_limits": True})
        limited_from = time.time()
        with here.bot(paced=True, webhooks=False) as bot:
            phase = await measure(here, bot, created, within=900)
    about = "created with limits off; then Slack's limits on and a new bot process with the shipped budgets"
    return Outcome("burst", wanted, took, complaints, cpu_creating, phase, [], limited_from, about)


async def main(options: argparse.Namespace) -> None:
    runs = set(options.only.split(","))
    outcomes = []
    BOT_LOGS.unlink(missing_ok=True)
    for name in ("polling", "webhooks"):
        if name in runs:
            for phases in options.phases:
                outcomes.append(await scenario(name, options.deployments, phases, options.profile, options.py_spy))
    if "burst" in runs:
        outcomes.append(await burst(options.burst))
    if options.dump:
        for outcome in outcomes:
            dump(outcome, options.dump)
    print_tables(outcomes, INTERVAL, STEP_SECONDS, FAIL_EVERY, BOT_LOGS)


RUNS = ("polling", "webhooks", "burst")


def phase_counts(text: str) -> tuple[int, ...]:
    try:
        return tuple(dict.fromkeys(int(part) for part in text.split(",")))  # in order, each once
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of whole numbers") from None


def options_from(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=1000, help="deployments at once (polling, webhooks)")
    parser.add_argument("--burst", type=int, default=100, help="deployments finishing at once with rate limits on")
    parser.add_argument(
        "--phases",
        type=phase_counts,
        default=(1, 20),
        help="comma-separated: run polling and webhooks with transitions spread over each step in this many ticks "
        "(default 1,20: lockstep, then spread)",
    )
    parser.add_argument("--quick", action="store_true", help="100 deployments and a burst of 20")
    parser.add_argument("--only", default=",".join(RUNS), help=f"comma-separated runs, of {', '.join(RUNS)}")
    parser.add_argument("--dump", type=Path, help="save each run's event, call and request logs here as JSON")
    parser.add_argument(
        "--profile",
        type=Path,
        help="write a py-spy raw profile of each polling and webhooks run's bot, named FILE with the run's name added",
    )
    parser.add_argument("--py-spy", default="py-spy", help="the py-spy executable (default: py-spy on PATH)")
    options = parser.parse_args(argv)
    if options.quick:
        options.deployments, options.burst = 100, 20
    if min(options.deployments, options.burst, *options.phases) < 1:
        parser.error("--deployments, --burst and --phases must be at least 1")
    unknown = set(options.only.split(",")) - set(RUNS)
    if unknown:
        parser.error(f"--only: no run called {', '.join(sorted(unknown))}; the runs are {', '.join(RUNS)}")
    if options.profile and not shutil.which(options.py_spy):
        parser.error(f"--profile needs py-spy: {options.py_spy!r} is not an executable (give its path with --py-spy)")
    return options


if __name__ == "__main__":
    chosen = options_from()
    try:
        run(main(chosen))
    except (RuntimeError, OSError, aiohttp.ClientError) as error:  # a process that would not start, a run stuck
        sys.exit(f"bench_watcher: {error} (the bot's log is {BOT_LOGS})")
