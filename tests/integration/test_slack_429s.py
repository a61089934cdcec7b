"""Slack's 429s in the metrics: the bot's own Slack clients (bot.app.slack_client) and Chat against the fake Slack
over HTTP. Each 429 answer is counted once, whether slack_sdk retries it or the caller gets SlackRateLimited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from slack_sdk.errors import SlackApiError

from bot.app import slack_client
from bot.chat import Chat
from bot.config import load_settings
from bot.errors import SlackRateLimited
from bot.metrics import Metrics
from bot.render.message import text_message
from tests.slack_sandbox import SlackSandbox

CHANNEL = "C_DEPLOYS"
OK = 'deploybot_slack_calls_total{method="chat.postMessage",outcome="ok"}'
RATELIMITED = 'deploybot_slack_calls_total{method="chat.postMessage",outcome="ratelimited"}'


def counted(metrics: str, line_start: str) -> float:
    found = [line for line in metrics.splitlines() if line.startswith(line_start + " ")]
    return float(found[0].rsplit(" ", 1)[1]) if found else 0.0


async def use_up_the_post_budget(slack: SlackSandbox) -> int:
    """Post as another client until the fake answers 429; returns the length of its call log then."""
    other = slack.web_client(retry_handlers=[])
    for n in range(20):
        try:
            await other.chat_postMessage(channel=CHANNEL, text=f"filler {n}")
        except SlackApiError as error:
            if error.response.status_code != 429:
                raise
            return len(await slack.calls())
    raise AssertionError("the fake Slack never answered 429")


async def answers_since(slack: SlackSandbox, since: int) -> list[int]:
    return [call["status"] for call in (await slack.calls())[since:] if call["method"] == "chat.postMessage"]


@asynccontextmanager
async def counting_chat(slack: SlackSandbox, *, retry_rate_limits: bool) -> AsyncIterator[tuple[Metrics, Chat]]:
    """Chat on the bot's request-path client (slack_sdk retries 429s) or on the outbox's (it does not)."""
    environ = {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_API_URL": slack.api_url, "PULUMI_ACCESS_TOKEN": "p"}
    metrics = Metrics()
    chat = Chat(slack_client(load_settings(environ), retry_rate_limits=retry_rate_limits), on_call=metrics.slack_call)
    chat.open()
    try:
        yield metrics, chat
    finally:
        await chat.close()


async def test_a_429_slack_sdk_retries_is_counted_beside_the_calls_success(slack_sandbox: SlackSandbox) -> None:
    async with counting_chat(slack_sandbox, retry_rate_limits=True) as (metrics, chat):
        since = await use_up_the_post_budget(slack_sandbox)
        await chat.post(CHANNEL, text_message("after the wait"))
        answers = await answers_since(slack_sandbox, since)
        text = (await metrics.render()).decode()
    assert answers[0] == 429
    assert answers[-1] == 200
    assert counted(text, RATELIMITED) == answers.count(429)
    assert counted(text, OK) == 1


async def test_a_429_handed_to_the_caller_is_counted_once(slack_sandbox: SlackSandbox) -> None:
    async with counting_chat(slack_sandbox, retry_rate_limits=False) as (metrics, chat):
        since = await use_up_the_post_budget(slack_sandbox)
        with pytest.raises(SlackRateLimited):
            await chat.post(CHANNEL, text_message("too soon"))
        assert await answers_since(slack_sandbox, since) == [429]
        text = (await metrics.render()).decode()
    assert counted(text, RATELIMITED) == 1
    assert counted(text, OK) == 0
    assert 'outcome="error"' not in text
