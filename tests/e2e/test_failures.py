"""When Pulumi is slow, refuses or is gone, or an answer is too long: the asker gets a clear, private answer."""

from __future__ import annotations

import json

from tests.e2e.conftest import CHANNEL, Bot, channel_message, text_of


async def test_rate_limited_by_pulumi_says_when_to_try_again(http_bot: Bot) -> None:
    await http_bot.pulumi.add_fault(method="GET", path="/deployments$", status=429, retryAfter=120)
    result = await http_bot.slack.command("U_CARA", CHANNEL, "list web/dev")
    [answer] = await result.responses()
    assert "rate-limiting" in text_of(answer)
    assert "try again in 120 s" in text_of(answer)
    assert "Usage: `/deploy list [STACK | --org [ORG]]" in text_of(answer)  # the command's usage line, as issue 3 asks


async def test_pulumi_unreachable_is_said_plainly(http_bot: Bot) -> None:
    await http_bot.pulumi.add_fault(path="/metadata$", drop=True)
    result = await http_bot.slack.command("U_CARA", CHANNEL, "info web/dev")
    [answer] = await result.responses(wait=15)
    assert "cannot be reached" in text_of(answer)
    assert "Usage: `/deploy info STACK | --org [ORG]`" in text_of(answer)
    assert "Traceback" not in text_of(answer)


async def test_a_failed_deployment_shows_as_failed(bot: Bot) -> None:
    await bot.slack.command("U_CARA", CHANNEL, "update web/dev --env SANDBOX_FAIL_STEP=3")
    await channel_message(bot, "#1")
    await bot.pulumi.run_until_idle()
    result = await bot.slack.command("U_CARA", CHANNEL, "status web/dev #1")
    [answer] = await result.responses()
    assert "✗ failed" in text_of(answer)
    assert "✗ 3." in text_of(answer)


async def test_a_log_too_long_for_a_message_arrives_as_a_file_in_a_dm(http_bot: Bot) -> None:
    commands = json.dumps([f"echo a long line of output number {i:03d}" for i in range(80)])
    command = f"update web/dev --set operationContext.preRunCommands='{commands}'"
    await http_bot.slack.command("U_CARA", CHANNEL, command)
    await channel_message(http_bot, "#1")
    await http_bot.pulumi.run_until_idle()
    result = await http_bot.slack.command("U_CARA", CHANNEL, "logs web/dev #1 --tail 1000")
    [answer] = await result.responses()
    assert "sent to you as a file in a DM" in text_of(answer)
    [upload] = await http_bot.slack.uploads(min=1)
    assert "number 079" in text_of(upload)
    assert "number 000" in text_of(upload)
    assert str(upload["channel"]).startswith("D")  # the asker's DM with the bot, not the channel
