"""Requests Slack did not sign are refused; deliveries Slack (or a double click) repeats act once; button values
from elsewhere change nothing."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.e2e.conftest import CHANNEL, Bot, channel_message, ephemeral_with, eventually, text_of


def command_body(text: str, trigger_id: str, response_url: str = "http://127.0.0.1:9/unused") -> str:
    return urlencode(
        {
            "token": "unused",
            "team_id": "T_SANDBOX",
            "channel_id": CHANNEL,
            "user_id": "U_CARA",
            "command": "/deploy",
            "text": text,
            "response_url": response_url,
            "trigger_id": trigger_id,
            "api_app_id": "A_DEPLOYBOT",
        }
    )


async def pulumi_calls(bot: Bot) -> list[dict[str, object]]:
    return [r for r in await bot.pulumi.requests() if str(r["path"]).startswith("/api/")]


@pytest.mark.parametrize("signature", ["none", "stale", "forged"])
async def test_unsigned_stale_or_forged_requests_get_401_and_do_nothing(http_bot: Bot, signature: str) -> None:
    answer = await http_bot.slack.raw(command_body("update web/dev", "1.2.forged"), signature=signature)
    assert answer["status"] == 401
    assert await pulumi_calls(http_bot) == []
    assert await http_bot.slack.messages(CHANNEL) == []


async def test_a_command_delivered_twice_runs_once(http_bot: Bot) -> None:
    body = command_body("update web/dev", "1.2.twice")
    first = await http_bot.slack.raw(body)
    second = await http_bot.slack.raw(body)
    assert first["status"] == second["status"] == 200
    await channel_message(http_bot, "#1")
    creates = [r for r in await pulumi_calls(http_bot) if r["method"] == "POST"]
    assert len(creates) == 1


async def test_a_retry_with_slack_retry_headers_is_ignored(http_bot: Bot) -> None:
    body = command_body("preview web/dev", "1.2.retried")
    stamp = str(int(time.time()))
    digest = hmac.new(http_bot.slack.signing_secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }
    async with aiohttp.ClientSession() as session:
        for retry in (None, "1", "2"):
            extra = {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
            async with session.post(http_bot.url + "/slack/events", data=body, headers=headers | extra) as response:
                assert response.status == 200
    await channel_message(http_bot, "#1")
    creates = [r for r in await pulumi_calls(http_bot) if r["method"] == "POST"]
    assert len(creates) == 1


async def test_a_double_click_on_confirm_cancels_once(bot: Bot) -> None:
    await bot.slack.command("U_CARA", CHANNEL, "update web/dev")
    await channel_message(bot, "#1")
    await bot.slack.command("U_CARA", CHANNEL, "cancel web/dev #1")
    confirm = await ephemeral_with(bot, "U_CARA", "confirm.yes")
    # Both clicks leave the client before the bot's answer replaces the buttons.
    await asyncio.gather(*(bot.slack.click("U_CARA", confirm, "confirm.yes") for _ in range(2)))
    await channel_message(bot, "✗ failed")
    cancels = [r for r in await pulumi_calls(bot) if str(r["path"]).endswith("/cancel")]
    assert len(cancels) == 1


async def test_a_tampered_button_value_changes_nothing(http_bot: Bot) -> None:
    await http_bot.slack.command("U_CARA", CHANNEL, "list web/dev")
    listing = await http_bot.slack.command("U_CARA", CHANNEL, "preview web/dev")
    await channel_message(http_bot, "#1")
    parent = await channel_message(http_bot, "deployment.cancel")
    clicked = await http_bot.slack.click("U_CARA", parent, "deployment.logs")
    payload = clicked.payload
    for forged in ("not-a-deployment", "../../etc", "x" * 300):
        payload["actions"][0]["action_id"] = "deployment.cancel"
        payload["actions"][0]["value"] = forged
        payload["trigger_id"] = f"9.9.{len(forged)}"
        answer = await http_bot.slack.raw(urlencode({"payload": json.dumps(payload)}))
        assert answer["status"] == 200
    responses = await eventually(lambda: http_bot.slack.responses(clicked.id), lambda rs: len(rs) >= 4)
    assert all("no record of that deployment" in text_of(r) for r in responses[1:])
    assert [r for r in await pulumi_calls(http_bot) if str(r["path"]).endswith("/cancel")] == []
    assert listing.error is None
