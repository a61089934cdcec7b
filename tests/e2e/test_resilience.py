"""Faults on every side: Pulumi answering 500s, 429s and slowly; Slack rate-limiting; Redis going away. Every
deployment still reaches its one outcome report, and people are told plainly when the bot cannot act."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import CHANNEL, Bot, channel_message, eventually, running_bot, text_of
from tests.pulumi_sandbox import PulumiSandbox
from tests.slack_sandbox import SlackSandbox
from tests.tcp_proxy import TcpProxy, tcp_proxy

STACKS = ["acme/web/dev", "acme/web/prod", "acme/api/dev"]


async def outcomes(bot: Bot, parents: list[dict[str, object]]) -> list[int]:
    counts = []
    for parent in parents:
        replies = (await bot.slack.thread(CHANNEL, str(parent["ts"])))[1:]
        counts.append(sum("succeeded in" in text_of(m) or "✗" in text_of(m.get("blocks")) for m in replies))
    return counts


async def test_pulumi_and_slack_faults_delay_reports_but_lose_none(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    # The outbox is told Slack allows 20 times more than it does, so Slack answers 429s it must honour.
    async with running_bot("serve", slack_sandbox, pulumi_sandbox, redis_url, DEPLOYBOT_SLACK_RATE_SCALE="20") as bot:
        parents = []
        for stack in STACKS:
            await bot.slack.command("U_CARA", CHANNEL, f"update {stack}")
            parents.append(await channel_message(bot, f"`{stack}` #1"))
        await bot.pulumi.add_fault(method="GET", status=500, rate=0.3)
        await bot.pulumi.add_fault(status=429, retryAfter=1, count=3)
        await bot.pulumi.add_fault(delay=0.3, count=5)
        for _ in range(60):
            await bot.pulumi.advance()
            await bot.watcher.poll_once()
            if all(await outcomes(bot, parents)):
                break
        assert await outcomes(bot, parents) == [1, 1, 1]
        faults = [r for r in await bot.pulumi.requests() if r.get("fault")]
        assert len(faults) >= 5  # the faults really happened
        throttled = [c for c in await bot.slack.calls() if c.get("status") == 429]
        assert throttled  # and Slack really pushed back


@pytest.fixture
async def redis_behind_proxy(redis_url: str, redis: object) -> AsyncIterator[TcpProxy]:
    target = urlsplit(redis_url)
    async with tcp_proxy(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        yield proxy


async def test_redis_going_away_is_said_plainly_and_the_watcher_carries_on(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis_behind_proxy: TcpProxy
) -> None:
    proxied = redis_url.replace(f":{urlsplit(redis_url).port}/", f":{redis_behind_proxy.port}/")
    async with running_bot(
        "serve", slack_sandbox, pulumi_sandbox, proxied, watch_loop=True, DEPLOYBOT_POLL_INTERVAL="0.2"
    ) as bot:
        await bot.slack.command("U_CARA", CHANNEL, "update web/dev")
        parent = await channel_message(bot, "deployment.cancel")
        await redis_behind_proxy.cut()
        result = await bot.slack.command("U_CARA", CHANNEL, "status web/dev")
        [answer] = await result.responses(wait=15)
        assert "state store (Redis) is unavailable" in text_of(answer)
        await bot.pulumi.run_until_idle()  # it finishes while the watcher cannot record anything
        await asyncio.sleep(1.0)  # the watcher fails a few rounds and backs off
        await redis_behind_proxy.restore()

        async def thread() -> list[dict[str, object]]:
            return await bot.slack.thread(CHANNEL, parent["ts"])

        replies = await eventually(thread, lambda t: "succeeded in" in text_of(t), within=20)
        assert sum("succeeded in" in text_of(m) for m in replies) == 1
