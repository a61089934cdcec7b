"""``deploybot sandbox slack``: the CLI serves a working fake Slack, prints how to reach it, and stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import sys

import aiohttp

# The lead wires cli.add_arguments/run into ``deploybot sandbox slack``; this harness does the same wiring.
_HARNESS = """
import argparse, sys
from bot.sandbox.slack import cli
parser = argparse.ArgumentParser(prog="deploybot sandbox slack")
cli.add_arguments(parser)
sys.exit(cli.run(parser.parse_args(sys.argv[1:])))
"""


async def _start(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", _HARNESS, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


async def test_the_cli_serves_until_interrupted() -> None:
    process = await _start("--port", "0", "--signing-secret", "s3cret", "--no-rate-limits")
    assert process.stdout is not None
    try:
        first = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        url = first.rsplit(" ", 1)[-1].strip()
        rest = ""
        while "Ctrl-C" not in rest:
            rest += (await asyncio.wait_for(process.stdout.readline(), 5)).decode()
        headers = {"Authorization": "Bearer xoxb-sandbox"}
        async with aiohttp.ClientSession() as http, http.post(url + "/api/auth.test", headers=headers) as response:
            assert (await response.json())["user_id"] == "U_DEPLOYBOT"
    finally:
        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), 20)

    assert first.startswith("Slack sandbox serving on http://127.0.0.1:")
    assert "signing secret    s3cret" in rest
    assert "rate limits       off" in rest
    assert code == 0


async def test_a_bad_port_is_one_clear_line() -> None:
    process = await _start("--port", "70000")
    _, stderr = await asyncio.wait_for(process.communicate(), 20)

    assert process.returncode == 2
    assert stderr.decode().strip() == "deploybot sandbox slack: --port must be between 0 and 65535, not 70000"
