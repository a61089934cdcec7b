"""The commands the container runs, run here for real: the health check (the image's and compose's) against a live
HTTP server, and the entrypoint with deploy/.env.example as an operator would first copy it."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from tests.conftest import free_port
from tests.deploy_files import DEPLOY, dockerfile_stages, env_example, parse_healthcheck, yaml_document


def _health_commands() -> dict[str, list[str]]:
    healthcheck = dockerfile_stages()[-1].last("HEALTHCHECK")
    assert healthcheck is not None
    _, image = parse_healthcheck(healthcheck.value)
    form, *compose = yaml_document(DEPLOY / "compose.yaml")["services"]["bot"]["healthcheck"]["test"]
    assert form == "CMD"
    return {"Dockerfile": image, "compose.yaml": compose}


@dataclass
class Bot:
    """Stands in for the bot's /healthz: answers with ``status`` and records the paths asked for."""

    status: int = 200
    asked: list[str] = field(default_factory=list)
    port: int = 0


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    state = Bot()

    async def anything(request: web.Request) -> web.Response:
        state.asked.append(request.path)
        return web.json_response({"ok": state.status == 200}, status=state.status)

    app = web.Application()
    app.router.add_get("/{tail:.*}", anything)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = runner.addresses[0][1]
    try:
        yield state
    finally:
        await runner.cleanup()


async def _run(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def _probe(argv: list[str], port: int) -> int:
    # The image's "python" is the one on its PATH; here it is this interpreter.
    assert argv[0] == "python"
    code, _ = await _run([sys.executable, *argv[1:]], {"PORT": str(port), "PATH": os.environ.get("PATH", "")})
    return code


@pytest.mark.parametrize("source", ["Dockerfile", "compose.yaml"])
async def test_the_health_check_passes_only_while_healthz_answers_200(bot: Bot, source: str) -> None:
    argv = _health_commands()[source]
    assert await _probe(argv, bot.port) == 0
    bot.status = 503  # the watcher's loop is stuck
    assert await _probe(argv, bot.port) != 0
    assert bot.asked == ["/healthz", "/healthz"]
    assert await _probe(argv, free_port()) != 0  # nothing listens: the bot is gone


async def test_the_entrypoint_with_env_example_as_copied_names_the_first_missing_token(tmp_path: Path) -> None:
    """``docker run --env-file deploy/.env deploybot`` before anyone filled in a token: one line, no traceback."""
    env = {line.name: line.value for line in env_example() if not line.commented}
    env |= {"PATH": os.environ.get("PATH", ""), "DEPLOYBOT_SECRETS_DIR": str(tmp_path / "no-secrets")}
    deploybot = Path(sys.executable).parent / "deploybot"  # the console script the image's ENTRYPOINT runs
    code, output = await _run([str(deploybot), "serve"], env)
    assert code == 2, output
    assert output.strip().splitlines() == ["deploybot: SLACK_BOT_TOKEN is not set (deploybot serve needs it)"]
