"""``deploybot audit export`` as a real process against a real Redis: JSON lines since a time, a file written
whole or not at all, and one clear line (never a traceback) for bad arguments or an unreachable Redis."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.audit import AuditEntry, AuditLog
from tests.conftest import free_port
from tests.integration.test_audit import ACTIONS, after, entry, recorded_at

REPO = Path(__file__).parents[2]


async def deploybot(redis_url: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "audit", *args,
        cwd=REPO, env={**os.environ, "REDIS_URL": redis_url},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_cli_exports_json_lines_since_a_time(redis: aioredis.Redis, redis_url: str) -> None:
    log = AuditLog(redis)
    early = await log.append(entry("requested"))
    await after(redis, early)
    late = [await log.append(entry(action, detail="TOKEN=abcdefghijklmnop0123")) for action in ACTIONS]
    code, out, err = await deploybot(redis_url, "export", "--since", recorded_at(late[0]).isoformat())
    assert (code, err) == (0, "")
    exported = [AuditEntry.model_validate(json.loads(line)) for line in out.splitlines()]
    assert [e.id for e in exported] == late
    assert [e.action for e in exported] == list(ACTIONS)
    assert "abcdefghijklmnop0123" not in out


async def test_cli_writes_a_file_or_nothing(redis: aioredis.Redis, redis_url: str, tmp_path: Path) -> None:
    ids = [await AuditLog(redis).append(entry(version=n)) for n in range(3)]
    target = tmp_path / "audit.jsonl"
    assert await deploybot(redis_url, "export", "--output", str(target)) == (0, "", "")
    assert [json.loads(line)["id"] for line in target.read_text().splitlines()] == ids

    down = f"redis://127.0.0.1:{free_port()}/0"
    code, out, err = await deploybot(down, "export", "--output", str(tmp_path / "failed.jsonl"))
    assert (code, out) == (2, "")
    assert err == "deploybot: the state store (Redis) is unavailable\n"
    assert sorted(os.listdir(tmp_path)) == ["audit.jsonl"]  # no half-written file left behind


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "--since", "last tuesday"], "'last tuesday' is not an ISO 8601 date or time"),
        (
            ["export", "--output", "/nonexistent-dir/audit.jsonl"],
            "deploybot: cannot write /nonexistent-dir/audit.jsonl",
        ),
        ([], "the following arguments are required: ACTION"),
    ],
)
async def test_cli_bad_arguments_get_one_clear_line(redis_url: str, args: list[str], message: str) -> None:
    code, out, err = await deploybot(redis_url, *args)
    assert (code, out) == (2, "")
    assert message in err
    assert "Traceback" not in err


async def test_a_reader_that_stops_early_is_not_an_error(redis: aioredis.Redis, redis_url: str) -> None:
    log = AuditLog(redis)
    for n in range(2000):  # far more than a pipe buffer holds, so the export is still writing when `head` exits
        await log.append(entry(version=n, detail="x" * 200))
    process = await asyncio.create_subprocess_exec(
        "bash", "-c", f'set -o pipefail; "{sys.executable}" -m bot audit export | head -n 1',
        cwd=REPO, env={**os.environ, "REDIS_URL": redis_url},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert (process.returncode, err.decode()) == (0, "")
    assert json.loads(out)["version"] == 0
