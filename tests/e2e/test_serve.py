"""``deploybot serve`` as a real process: starts from the environment, answers Slack, logs no secrets, stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import aiohttp

from tests.conftest import free_port
from tests.e2e.conftest import CHANNEL, STACKS, eventually, text_of
from tests.pulumi_sandbox import PulumiSandbox
from tests.slack_sandbox import SlackSandbox


async def test_serve_runs_a_command_at_debug_level_without_leaking_secrets(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    await pulumi_sandbox.create_stacks(*STACKS)
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SLACK_BOT_TOKEN": slack_sandbox.bot_token,
        "SLACK_SIGNING_SECRET": slack_sandbox.signing_secret,
        "SLACK_API_URL": slack_sandbox.api_url,
        "PULUMI_ACCESS_TOKEN": pulumi_sandbox.token,
        "PULUMI_BACKEND_URL": pulumi_sandbox.url,
        "PULUMI_ORG": "acme",
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "LOG_LEVEL": "DEBUG",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as session:

            async def health() -> int:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        return response.status
                except aiohttp.ClientConnectionError:
                    return 0

            assert await eventually(health, lambda status: status == 200, within=20) == 200
        await slack_sandbox.set_request_url(f"http://127.0.0.1:{port}/slack/events")
        secret = "very-secret-value-42"
        result = await slack_sandbox.command("U_CARA", CHANNEL, f"update web/dev --secret-env TOKEN={secret}")
        assert result.status == 200

        async def announced() -> list[dict[str, object]]:
            return await slack_sandbox.messages(CHANNEL, min=1)

        await eventually(announced, lambda ms: "#1" in text_of(ms), within=10)
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, stderr.decode()[-2000:]
    logs = stdout.decode() + stderr.decode()
    assert "serving on http" in logs
    assert '"level": "debug"' in logs  # DEBUG really was on
    for leaked in (secret, slack_sandbox.bot_token, slack_sandbox.signing_secret, pulumi_sandbox.token):
        assert leaked not in logs
