"""A whole story through a real ``deploybot serve`` at DEBUG, then its output grepped: every log line is JSON, and no
token, signing secret, webhook secret, secret value or Pulumi ciphertext appears in any of it."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiohttp

from bot.log import BODY_LOGGERS
from tests.conftest import free_port
from tests.e2e.conftest import CHANNEL, STACKS, BotProcess, eventually, process_env, text_of
from tests.pulumi_sandbox import PulumiSandbox
from tests.slack_sandbox import SlackSandbox

# Updates wait for one approval from someone other than the requester; previews run at once.
POLICY = '[defaults]\nrequire_approval = ["update"]\napprovals = 1\n'


async def _drain(stream: asyncio.StreamReader | None, into: bytearray) -> None:
    """Read a pipe as the bot writes it: at DEBUG a full story outgrows the pipe's buffer, and a bot blocked on a
    full stderr would stall the story rather than fail it."""
    assert stream is not None
    while chunk := await stream.read(65536):
        into += chunk


async def _newest_with(slack: SlackSandbox, contains: str, *, ts: str | None = None) -> dict[str, Any]:
    """The newest top-level message (or the one at ``ts``) whose blocks or text contain ``contains``."""

    def matching(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        shown = [m for m in messages if contains in text_of(m.get("blocks") or m["text"])]
        return [m for m in shown if ts is None or m["ts"] == ts]

    found = await eventually(lambda: slack.messages(CHANNEL), lambda ms: bool(matching(ms)), within=10)
    return matching(found)[-1]


async def _in_thread(slack: SlackSandbox, parent: dict[str, Any], *contains: str) -> list[dict[str, Any]]:
    def has_all(thread: list[dict[str, Any]]) -> bool:
        return all(part in text_of(thread) for part in contains)

    return await eventually(lambda: slack.thread(CHANNEL, parent["ts"]), has_all, within=15)


async def _request_and_approve(slack: SlackSandbox, command: str) -> dict[str, Any]:
    """U_CARA asks for ``command``, U_BEN approves; returns the deployment's parent message once it exists."""
    asked = await slack.command("U_CARA", CHANNEL, command)
    assert asked.error is None
    assert "needs" in text_of(await asked.responses())
    request = await _newest_with(slack, "approval.approve")
    await slack.click("U_BEN", request, "approval.approve")
    return await _newest_with(slack, "deployment.cancel", ts=request["ts"])


async def _answer(slack: SlackSandbox, user: str, command: str) -> str:
    result = await slack.command(user, CHANNEL, command)
    assert result.error is None
    return text_of(await result.responses())


def _ciphertexts(value: Any) -> Iterator[str]:
    """Every ``"ciphertext"`` value in a JSON document (the emulator's request log keeps them, hides plaintext)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "ciphertext" and isinstance(item, str):
                yield item
            else:
                yield from _ciphertexts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _ciphertexts(item)


async def test_a_full_story_at_debug_level_logs_json_and_no_secret(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object, tmp_path: Path
) -> None:
    slack, pulumi = slack_sandbox, pulumi_sandbox
    run = uuid4().hex[:10]  # makes every value below unique to this run, so a hit can only be a leak
    webhook_secret = f"whsec-{run}"
    db_password = f"dbpw-{run}"  # --secret-env
    api_key = f"apikey-{run}"  # a {"secret": …} in --set
    echoed = f"echoed-{run}"  # printed by the failing deployment, so it sits in the log tail the bot posts
    settings_password = f"setpw-{run}"  # settings set, {"secret": …}
    preview_token = f"pvtok-{run}"  # --secret-env on the deployment that is cancelled

    await pulumi.create_stacks(*STACKS)
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    env = process_env(
        slack, pulumi, redis_url, free_port(),
        LOG_LEVEL="DEBUG", PULUMI_WEBHOOK_SECRET=webhook_secret, DEPLOYBOT_POLICY=str(policy),
        DEPLOYBOT_POLL_INTERVAL="0.2",
    )  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = bytearray(), bytearray()
    readers = [asyncio.create_task(_drain(process.stdout, stdout)), asyncio.create_task(_drain(process.stderr, stderr))]
    bot = BotProcess(process, f"http://127.0.0.1:{env['PORT']}")
    try:
        await eventually(bot.health, lambda status: status == 200, within=20)
        await slack.set_request_url(bot.url + "/slack/events")
        await pulumi.add_webhook(bot.url + "/webhooks/pulumi", secret=webhook_secret)

        # An approved update runs to the end; the watcher's loop, poked by signed webhooks, reports it.
        first = await _request_and_approve(slack, f"update web/dev --secret-env DB_PASSWORD={db_password} --env X=1")
        await pulumi.run_until_idle()
        await _in_thread(slack, first, "succeeded in")

        # A failing one: its redacted log tail is broadcast in the thread.
        commands = json.dumps([f"echo SERVICE_PASSWORD={echoed}"])
        secret_key = json.dumps({"secret": api_key})
        second = await _request_and_approve(
            slack,
            f"update web/dev --env SANDBOX_FAIL_STEP=5 --set operationContext.preRunCommands='{commands}' "
            f"--set 'operationContext.environmentVariables.API_KEY={secret_key}'",
        )
        await pulumi.run_until_idle()
        await _in_thread(slack, second, "✗ failed", "```", "SERVICE_PASSWORD=")

        secret_setting = json.dumps({"secret": settings_password})
        changed = f"settings set web/dev 'operationContext.environmentVariables.SETTINGS_PASSWORD={secret_setting}'"
        await slack.command("U_ANA", CHANNEL, changed)
        await _newest_with(slack, "changed the deployment settings")

        # A preview (no approval needed) cancelled while queued, after the usual confirmation.
        await slack.command("U_CARA", CHANNEL, f"preview web/dev --secret-env PREVIEW_TOKEN={preview_token}")
        third = await _newest_with(slack, "#3")
        assert "Cancel" in await _answer(slack, "U_CARA", "cancel web/dev #3")
        confirms = await eventually(
            lambda: slack.ephemerals("U_CARA"), lambda ms: "confirm.yes" in text_of(ms), within=10
        )
        confirm = next(m for m in reversed(confirms) if "confirm.yes" in text_of(m.get("blocks")))
        await slack.click("U_CARA", confirm, "confirm.yes")
        await _in_thread(slack, third, "cancelled")

        assert "Log of" in await _answer(slack, "U_BEN", "logs web/dev #2 --tail 20")

        deliveries = await pulumi.webhook_deliveries(min=8, idle=True, wait=15)
        assert {d["status"] for d in deliveries} == {200}  # every one verified and accepted by the bot
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), timeout=30)
        await asyncio.wait_for(asyncio.gather(*readers), timeout=10)
    out, err = stdout.decode(), stderr.decode()
    assert code == 0, err[-3000:]

    assert out.strip().splitlines() == [f"deploybot: serving on {bot.url}/slack/events"]  # the banner, not a log line
    entries = []
    for line in err.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"a log line that is not JSON: {line[:500]}") from None
        assert isinstance(entry, dict), line[:500]
        assert {"ts", "level", "logger", "msg"} <= entry.keys(), line[:500]
        entries.append(entry)
    assert any(entry["level"] == "debug" for entry in entries)  # DEBUG really was on
    # ...but not for the libraries that log request and response bodies at DEBUG (Bolt's ack bodies among them).
    chatty = [e for e in entries if e["level"] == "debug" and e["logger"].startswith(BODY_LOGGERS)]
    assert chatty == [], chatty[:3]
    assert any("deployment_id" in entry for entry in entries)

    # The bot seals --secret-env and {"secret": …} values before sending them (the request log shows those); the
    # settings secret is sealed by Pulumi, so its ciphertext is read back from the stack's settings.
    ciphertexts = {c for r in await pulumi.requests() for c in _ciphertexts(r.get("body"))}
    settings_url = f"{pulumi.url}/api/stacks/acme/web/dev/deployments/settings"
    async with aiohttp.ClientSession(headers=pulumi.headers()) as session, session.get(settings_url) as response:
        ciphertexts |= set(_ciphertexts(await response.json()))
    assert len(ciphertexts) >= 4  # DB_PASSWORD, API_KEY and PREVIEW_TOKEN in requests; SETTINGS_PASSWORD stored
    secrets = {
        "Slack bot token": slack.bot_token,
        "Slack app token": slack.app_token,
        "Slack signing secret": slack.signing_secret,
        "Pulumi access token": pulumi.token,
        "webhook secret": webhook_secret,
        "--secret-env value": db_password,
        '{"secret": …} value in --set': api_key,
        "secret-looking value in a log tail": echoed,
        "settings secret value": settings_password,
        "--secret-env value of the cancelled preview": preview_token,
    } | {f"Pulumi ciphertext {c[:12]}…": c for c in ciphertexts}
    lines = (out + err).splitlines()
    leaked = {
        name: next(line for line in lines if value in line)[:600]
        for name, value in secrets.items()
        if value in out + err
    }
    assert leaked == {}, json.dumps(leaked, indent=1)[:4000]
