"""Pulumi webhooks into the bot's real endpoint, sent by the emulator itself: verified, deduplicated, and turned
into an immediate poll. The watcher's loop runs with a 60 s interval, so only a webhook can explain a prompt report."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.e2e.conftest import CHANNEL, Bot, channel_message, eventually, running_bot, text_of
from tests.e2e.test_watcher import direct_create
from tests.pulumi_sandbox import PulumiSandbox
from tests.slack_sandbox import SlackSandbox

SECRET = "webhook-secret-for-tests"


@pytest.fixture
async def hooked_bot(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> AsyncIterator[Bot]:
    async with running_bot(
        "serve", slack_sandbox, pulumi_sandbox, redis_url, watch_loop=True,
        PULUMI_WEBHOOK_SECRET=SECRET, DEPLOYBOT_POLL_INTERVAL="60",
    ) as bot:  # fmt: skip
        await pulumi_sandbox.add_webhook(bot.url + "/webhooks/pulumi", secret=SECRET)
        yield bot


async def post(bot: Bot, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(bot.url + "/webhooks/pulumi", data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "Pulumi-Webhook-Signature": digest, "Pulumi-Webhook-Kind": "deployment"}


async def test_a_webhook_gets_a_change_reported_at_once(hooked_bot: Bot) -> None:
    bot = hooked_bot
    await bot.slack.command("U_CARA", CHANNEL, "update web/dev")
    parent = await channel_message(bot, "deployment.cancel")
    await bot.pulumi.advance(2)  # accepted, then running: Pulumi sends deployment_started
    await channel_message(bot, "⟳ running", within=10)
    await bot.pulumi.run_until_idle()  # Pulumi sends deployment_succeeded

    async def replies() -> list[dict[str, object]]:
        return await bot.slack.thread(CHANNEL, parent["ts"])

    thread = await eventually(replies, lambda t: "succeeded in" in text_of(t), within=15)
    assert sum("succeeded in" in text_of(m) for m in thread) == 1
    deliveries = await bot.pulumi.webhook_deliveries(min=3)
    assert all(d["status"] == 200 for d in deliveries)
    by_version = [r for r in await bot.pulumi.requests() if "/deployments/version/" in r["path"]]
    assert by_version == []  # the watch knows which deployment a delivery names: no lookup in Pulumi


async def test_deliveries_that_arrive_together_are_acted_on_together(hooked_bot: Bot) -> None:
    """Five deliveries posted at once, for four followed deployments and one the bot never saw: each followed one
    is reported at once (the poll interval is 60 s), and only the unknown one is looked up in Pulumi."""
    bot = hooked_bot
    stacks = [f"web/s{n}" for n in range(4)]
    await bot.pulumi.create_stacks(*stacks, "web/other")
    for stack in stacks:
        await bot.slack.command("U_CARA", CHANNEL, f"update {stack}")
        await channel_message(bot, f"`acme/{stack}` #1")
    await bot.pulumi.clear_webhooks()  # only this test's deliveries from here on
    await bot.pulumi.advance(2)  # every one is running now; nobody told the bot
    await direct_create(bot, "acme/web/other", {"operation": "update"})
    await bot.pulumi.clear_requests()

    def delivery(stack: str) -> bytes:
        project, name = stack.split("/")
        return json.dumps(
            {"organization": {"name": "acme"}, "projectName": project, "stackName": name, "version": 1}
        ).encode()

    answers = await asyncio.gather(*(post(bot, delivery(s), signed(delivery(s))) for s in [*stacks, "web/other"]))
    assert {status for status, _ in answers} == {200}
    for stack in stacks:
        await channel_message(bot, f"`acme/{stack}` #1 — ⟳ running", within=10)
    by_version = [r["path"] for r in await bot.pulumi.requests() if "/deployments/version/" in r["path"]]
    assert by_version == ["/api/stacks/acme/web/other/deployments/version/1"]


async def test_a_poke_is_polled_at_once_while_another_poll_is_stuck(hooked_bot: Bot) -> None:
    bot = hooked_bot
    for stack in ("web/prod", "web/dev"):
        await bot.slack.command("U_CARA", CHANNEL, f"update {stack}")
        await channel_message(bot, f"`acme/{stack}` #1")
    await bot.pulumi.add_fault(method="GET", path=r"/web/prod/deployments/[0-9a-f-]{36}$", delay=10, count=50)
    body = json.dumps({"organization": {"name": "acme"}, "projectName": "web", "stackName": "prod", "version": 1})
    assert (await post(bot, body.encode(), signed(body.encode())))[0] == 200  # its poll now waits 10 s on Pulumi
    await asyncio.sleep(0.5)
    await bot.pulumi.advance(2)  # web/dev starts: Pulumi sends deployment_started
    started = asyncio.get_running_loop().time()
    parent = await channel_message(bot, "⟳ running", within=8)
    assert "acme/web/dev" in text_of(parent)
    assert asyncio.get_running_loop().time() - started < 5  # well before the stuck poll ends


async def test_unsigned_or_forged_deliveries_are_refused(hooked_bot: Bot) -> None:
    body = json.dumps({"organization": {"name": "acme"}, "projectName": "web", "stackName": "dev", "version": 1})
    assert (await post(hooked_bot, body.encode(), {"Content-Type": "application/json"}))[0] == 401
    assert (await post(hooked_bot, body.encode(), signed(body.encode(), "wrong-secret")))[0] == 401
    tampered = signed(body.encode()) | {"Pulumi-Webhook-ID": "x"}
    assert (await post(hooked_bot, body.replace("dev", "prod").encode(), tampered))[0] == 401


async def test_a_replayed_delivery_is_ignored(hooked_bot: Bot) -> None:
    await hooked_bot.slack.command("U_CARA", CHANNEL, "update web/dev")
    await channel_message(hooked_bot, "#1")
    body = json.dumps({"organization": {"name": "acme"}, "projectName": "web", "stackName": "dev", "version": 1})
    headers = signed(body.encode()) | {"Pulumi-Webhook-ID": "delivery-1"}
    first = await post(hooked_bot, body.encode(), headers)
    again = await post(hooked_bot, body.encode(), headers)
    assert first == (200, json.dumps({"ok": True}))
    assert again[0] == 200
    assert json.loads(again[1])["duplicate"] is True


async def test_without_a_secret_there_is_no_webhook_route(http_bot: Bot) -> None:
    body = b"{}"
    assert (await post(http_bot, body, signed(body)))[0] == 404
