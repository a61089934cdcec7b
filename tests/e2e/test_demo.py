"""``deploybot demo`` as a real process: the checked-in script passes, Ctrl-C stops everything, pending approvals
survive a restart (even after the demo was killed), and every bad start gets one sentence."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.store.watches import Watches
from tests.e2e.conftest import eventually

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "deploy" / "demo" / "script.txt"
FAST = "0.2"  # seconds per emulator step: the checked-in script at CI speed


def demo_env(**extra: str) -> dict[str, str]:
    """The caller's environment without the two variables the demo reads (unless a test sets them)."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DEPLOYBOT_POLICY"}}
    return env | {"PYTHONUNBUFFERED": "1"} | extra


@dataclass
class Finished:
    code: int | None
    out: str
    err: str


async def run_demo(*args: str, env: dict[str, str] | None = None, within: float = 45) -> Finished:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "demo", *args, cwd=ROOT, env=env or demo_env(),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), within)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return Finished(process.returncode, out.decode(), err.decode())


async def script(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def redis_pid(state: Path) -> int:
    """The embedded redis-server's pid, from the file the demo keeps beside Redis' data while it runs."""
    return int(json.loads((state / "redis" / "demo-redis.json").read_text())["pid"])


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie has exited; only its parent has not collected it yet): Linux only."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[-1]
    except FileNotFoundError:
        return False
    return not state.startswith("Z")


def running_in(directory: Path) -> list[int]:
    """Processes whose working directory is inside ``directory`` (redis-server works in its --dir): Linux only."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and Path(os.readlink(entry / "cwd")).is_relative_to(directory.resolve())
                and alive(int(entry.name))
            ):
                found.append(int(entry.name))
        except OSError:
            continue  # gone meanwhile, or not ours to look at
    return found


@pytest.fixture(autouse=True)
def no_strays(tmp_path: Path) -> Iterator[None]:
    """Whatever a failing test left running in its directory is killed, so it cannot outlive the test run."""
    yield
    for pid in running_in(tmp_path):
        os.kill(pid, signal.SIGKILL)


class Interactive:
    """``deploybot demo`` typed into through a pipe, read line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.seen: list[str] = []

    @classmethod
    async def start(cls, state: Path, env: dict[str, str] | None = None) -> Interactive:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "demo", "--state-dir", str(state), "--step-seconds", "600",
            cwd=ROOT, env=env or demo_env(), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        started = cls(process)
        await started.until("`help` lists the commands")
        return started

    async def until(self, text: str, within: float = 20) -> None:
        """Read output until a line contains ``text``."""
        assert self.process.stdout is not None

        async def read() -> None:
            while not any(text in line for line in self.seen):
                line = await self.process.stdout.readline()  # type: ignore[union-attr]  # checked above
                if not line:
                    raise AssertionError(f"the demo ended before printing {text!r}:\n{''.join(self.seen)}")
                self.seen.append(line.decode())

        await asyncio.wait_for(read(), within)

    async def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def finish(self) -> Finished:
        out, err = await asyncio.wait_for(self.process.communicate(), 30)
        return Finished(self.process.returncode, "".join(self.seen) + out.decode(), err.decode())


async def test_the_checked_in_demo_script_passes(tmp_path: Path) -> None:
    state = tmp_path / "state"
    done = await run_demo("--script", str(SCRIPT), "--state-dir", str(state), "--step-seconds", FAST)
    assert done.code == 0, done.out + done.err
    assert "Deploybot demo — all local" in done.out
    assert f"data in {state / 'redis'} (append-only)" in done.out
    expects = [line.removeprefix("expect ") for line in SCRIPT.read_text().splitlines() if line.startswith("expect ")]
    assert len(expects) >= 5
    for text in expects:
        assert f"✓ saw {text!r}" in done.out
    assert "update `acme/web/dev` #1 — ✓ succeeded" in done.out
    assert "Stopped everything." in done.out
    assert not (state / "redis" / "demo-redis.json").exists()  # Redis was stopped, not left behind
    assert running_in(state) == []
    assert (state / "redis" / "appendonlydir").is_dir() or (state / "redis" / "appendonly.aof").is_file()
    assert "Traceback" not in done.out + done.err


async def test_ctrl_c_stops_everything(tmp_path: Path) -> None:
    state = tmp_path / "state"
    demo = await Interactive.start(state)
    pid = redis_pid(state)
    await demo.type("/deploy update web/dev")
    await demo.until("asks to run update `acme/web/dev`")
    demo.process.send_signal(signal.SIGINT)
    done = await demo.finish()
    assert done.code in (0, 130), done.out + done.err
    assert "Stopped everything." in done.out
    assert "Traceback" not in done.out + done.err
    assert not alive(pid)
    assert running_in(state) == []


async def test_a_restart_keeps_a_pending_approval(tmp_path: Path) -> None:
    state = tmp_path / "state"
    ask = await script(tmp_path, "ask.txt", "/deploy update web/prod\nexpect asks to run update\nquit\n")
    first = await run_demo("--script", str(ask), "--state-dir", str(state), "--step-seconds", FAST)
    assert first.code == 0, first.out + first.err
    check = await script(
        tmp_path, "check.txt", "as ben\n/deploy approvals\nexpect update `acme/web/prod` by @cara — 0 of 1\n"
    )
    second = await run_demo("--script", str(check), "--state-dir", str(state), "--step-seconds", FAST)
    assert second.code == 0, second.out + second.err
    assert "Waiting for approval:" in second.out


async def test_a_killed_demo_leaves_nothing_in_the_way_of_the_next(tmp_path: Path) -> None:
    state = tmp_path / "state"
    demo = await Interactive.start(state)
    await demo.type("/deploy destroy api/dev")
    await demo.until("asks to run destroy `acme/api/dev`")
    pid = redis_pid(state)
    demo.process.kill()  # no chance to stop Redis: it keeps running with the data
    await demo.process.wait()
    assert alive(pid)
    check = await script(tmp_path, "check.txt", "/deploy approvals\nexpect destroy `acme/api/dev` by @cara\n")
    done = await run_demo("--script", str(check), "--state-dir", str(state), "--step-seconds", FAST)
    assert done.code == 0, done.out + done.err
    assert not alive(pid)  # the next start shut the leftover down (after it had written everything)
    assert running_in(state) == []


async def test_after_a_restart_the_bot_stops_watching_deployments_the_emulator_forgot(
    tmp_path: Path, redis_url: str, redis: aioredis.Redis
) -> None:
    state, env = tmp_path / "state", demo_env(REDIS_URL=redis_url)
    start = await script(
        tmp_path, "start.txt", "/deploy update web/dev\nas ben\nclick 1\ntick 2\nexpect ⟳ running\nquit\n"
    )
    first = await run_demo("--script", str(start), "--state-dir", str(state), "--step-seconds", "600", env=env)
    assert first.code == 0, first.out + first.err
    watches = Watches(redis)
    assert await watches.pending() == 1  # the running deployment, left behind in Redis
    demo = await Interactive.start(state, env)  # a new emulator, without that deployment
    await eventually(watches.pending, lambda left: left == 0, within=20)  # the watcher polls on its own clock
    demo.process.send_signal(signal.SIGINT)
    done = await demo.finish()
    assert done.code in (0, 130), done.out + done.err
    assert "Traceback" not in done.out + done.err
    assert '"msg": "deployment gone"' in (state / "deploybot.log").read_text()


async def test_a_failing_script_exits_1_naming_the_line(tmp_path: Path, redis_url: str, redis: object) -> None:
    state = tmp_path / "state"
    failing = await script(tmp_path, "failing.txt", "# a comment\n\nhelp\nbogus words\nhelp\n")
    done = await run_demo("--script", str(failing), "--state-dir", str(state), env=demo_env(REDIS_URL=redis_url))
    assert done.code == 1
    assert f"Redis: your own (REDIS_URL) at {redis_url}" in done.out
    assert not (state / "redis").exists()  # nothing embedded with REDIS_URL set
    assert f"the script failed ({failing}, line 4): ✗ unknown command 'bogus'" in done.err
    assert done.out.count("cara> help") == 1  # nothing after the failing line ran


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--script", "no-such-script.txt"], {}, "deploybot: cannot read the script no-such-script.txt: No such file"),
        (["--step-seconds", "0"], {}, "--step-seconds: must be more than 0 and at most 3600 seconds, not 0"),
        (["--step-seconds", "soon"], {}, "--step-seconds: must be a number of seconds, not 'soon'"),
        ([], {"DEPLOYBOT_POLICY": "no-such-policy.toml"}, "no-such-policy.toml: cannot read the policy file"),
    ],
)
async def test_a_bad_start_says_why_in_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], says: str
) -> None:
    state = tmp_path / "state"
    done = await run_demo(*args, "--state-dir", str(state), env=demo_env(**env))
    assert done.code == 2
    assert says in done.err
    assert "Traceback" not in done.out + done.err
    assert running_in(tmp_path) == []  # a Redis started before the problem was found was stopped


async def test_a_state_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("not a directory")
    done = await run_demo("--state-dir", str(taken))
    assert done.code == 2
    assert f"deploybot: cannot use {taken} as the state directory: File exists" in done.err
