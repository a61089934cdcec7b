"""Real ``deploybot serve`` processes on one Redis: two replicas share the watches (each reported once), one killed
with SIGKILL mid-run leaves nothing unreported, and a restarted bot reports what happened while it was down."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import free_port
from tests.e2e.conftest import BotProcess, eventually, process_env, text_of
from tests.pulumi_sandbox import PulumiSandbox
from tests.slack_sandbox import SlackSandbox, start_slack_sandbox

CHANNEL = "C_DEPLOYS"
STACKS = [f"acme/app{n}/dev" for n in range(6)]
FAST = {"DEPLOYBOT_POLL_INTERVAL": "0.2", "DEPLOYBOT_SLACK_RATE_SCALE": "50", "LOG_LEVEL": "INFO"}


@pytest.fixture
async def fast_slack() -> AsyncIterator[SlackSandbox]:
    """The fake Slack with its rate-limit windows 50 times shorter (the bots' budgets are scaled to match)."""
    async with start_slack_sandbox(rate_limit_scale=0.02) as slack:
        yield slack


async def start_deployments(slack: SlackSandbox, pulumi: PulumiSandbox) -> list[dict[str, Any]]:
    """One update per stack, each announced in the channel; returns the parent messages."""
    await pulumi.create_stacks(*STACKS)
    for stack in STACKS:
        result = await slack.command("U_CARA", CHANNEL, f"update {stack}")
        assert result.error is None

    async def announced() -> list[dict[str, Any]]:
        return await slack.messages(CHANNEL)

    messages = await eventually(announced, lambda ms: sum("deployment.cancel" in text_of(m) for m in ms) == 6)
    return messages


async def outcomes(slack: SlackSandbox, parents: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """For each deployment, its thread replies that report the outcome."""
    threads = [(await slack.thread(CHANNEL, parent["ts"]))[1:] for parent in parents]  # replies: the parent first
    return [[m for m in thread if "succeeded in" in text_of(m) or "failed" in text_of(m)] for thread in threads]


async def run_to_completion(slack: SlackSandbox, pulumi: PulumiSandbox, parents: list[dict[str, Any]]) -> None:
    await pulumi.run_until_idle()

    async def reported() -> list[list[dict[str, Any]]]:
        return await outcomes(slack, parents)

    await eventually(reported, lambda found: all(found), within=30)


async def test_two_replicas_share_the_watches_and_survive_a_sigkill(
    fast_slack: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    replicas = [
        await BotProcess.start(process_env(fast_slack, pulumi_sandbox, redis_url, free_port(), **FAST))
        for _ in range(2)
    ]
    await fast_slack.set_request_url(replicas[0].url + "/slack/events")
    parents = await start_deployments(fast_slack, pulumi_sandbox)
    for _ in range(5):  # well into the run: both replicas are polling
        await pulumi_sandbox.advance()
        await asyncio.sleep(0.3)
    await replicas[0].stop(signal.SIGKILL)
    await run_to_completion(fast_slack, pulumi_sandbox, parents)
    await asyncio.sleep(1.0)  # time for a duplicate to show, if the survivor were to send one
    found = await outcomes(fast_slack, parents)
    assert [len(replies) for replies in found] == [1] * 6
    for parent in parents:
        replies = [m["text"] for m in (await fast_slack.thread(CHANNEL, parent["ts"]))[1:]]
        assert len(replies) == len(set(replies)), replies  # no step reported twice
    code, _ = await replicas[1].stop()
    assert code == 0


async def test_a_restarted_bot_reports_what_happened_while_it_was_down(
    fast_slack: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    env = process_env(fast_slack, pulumi_sandbox, redis_url, free_port(), **FAST)
    bot = await BotProcess.start(env)
    await fast_slack.set_request_url(bot.url + "/slack/events")
    parents = await start_deployments(fast_slack, pulumi_sandbox)
    await pulumi_sandbox.advance(3)
    await asyncio.sleep(0.5)
    code, _ = await bot.stop(signal.SIGTERM)
    assert code == 0
    await pulumi_sandbox.run_until_idle()  # every deployment finishes while the bot is down
    bot = await BotProcess.start(env)
    await run_to_completion(fast_slack, pulumi_sandbox, parents)
    await asyncio.sleep(1.0)
    assert [len(replies) for replies in await outcomes(fast_slack, parents)] == [1] * 6
    await bot.stop()
