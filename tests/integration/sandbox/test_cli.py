"""``deploybot sandbox pulumi`` as a real process: it prints its URL and tokens, serves, and exits 0 on Ctrl-C."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[3]


async def _start(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sandbox",
        "pulumi",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_serves_until_ctrl_c() -> None:
    process = await _start(
        "--port", "0", "--token", "t-admin", "--member-token", "t-member", "--stack", "acme/web/dev", "--manual-clock"
    )
    try:
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
        assert "admin token t-admin" in banner
        assert "member token t-member" in banner
        found = re.search(r"http://127\.0\.0\.1:\d+", banner)
        assert found, banner
        async with aiohttp.ClientSession() as session:
            url = f"{found.group(0)}/api/stacks/acme/web/dev/deployments/settings"
            async with session.get(url, headers={"Authorization": "token t-member"}) as resp:
                assert resp.status == 200
                assert (await resp.json())["sourceContext"]["git"]["repoUrl"] == "https://github.com/acme/web.git"
            async with session.get(f"{found.group(0)}/_sandbox/clock") as resp:
                assert (await resp.json())["manual"] is True
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_bad_stack_name_is_one_line_and_exit_2() -> None:
    process = await _start("--port", "0", "--stack", "not-a-stack")
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert stderr.decode().startswith("deploybot: stack names look like 'org/project/stack'")
