"""A malformed setting stops ``deploybot`` before anything starts: one line naming the variable, exit code 2, no
traceback, for each command that reads the settings (``serve``, ``socket``, ``audit export``)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]


async def deploybot(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize(
    "command",
    [["serve", "--host", "127.0.0.1"], ["socket", "--host", "127.0.0.1"], ["audit", "export"]],
    ids=["serve", "socket", "audit-export"],
)
@pytest.mark.parametrize("redis_url", ["notaurl", "http://user:hunter2@x"])
async def test_a_malformed_redis_url_stops_start_up_with_one_line(
    command: list[str], redis_url: str, tmp_path: Path
) -> None:
    # Everything else a mode needs is there, so REDIS_URL is the one thing wrong; nothing inherited but PATH.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "signing",
        "SLACK_APP_TOKEN": "xapp-1",
        "PULUMI_ACCESS_TOKEN": "pul-1",
        "DEPLOYBOT_SECRETS_DIR": str(tmp_path / "no-secrets"),
        "REDIS_URL": redis_url,
        "PORT": "1",  # never bound: start-up must stop before it listens
    }
    code, out, err = await deploybot(env, *command)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("deploybot: REDIS_URL: must be a redis://, rediss:// or unix:// URL"), err
    assert "Traceback" not in err
    assert "hunter2" not in err
