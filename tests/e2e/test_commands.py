"""/deploy end to end: signed commands into the bot's HTTP endpoint; outcomes read from the fake Slack and emulator."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import CHANNEL, Bot, channel_message, ephemeral_with, eventually, text_of


async def creates(bot: Bot) -> list[dict[str, Any]]:
    """Create-deployment requests the emulator received."""
    requests = await bot.pulumi.requests()
    return [r for r in requests if r["method"] == "POST" and r["path"].endswith("/deployments")]


async def test_help_is_ephemeral_and_lists_commands(bot: Bot) -> None:
    result = await bot.slack.command("U_CARA", CHANNEL, "help")
    assert result.error is None
    [answer] = await result.responses()
    assert "/deploy status" in text_of(answer)
    assert answer["payload"]["response_type"] == "ephemeral"
    assert answer["effect"]["ephemeral"] is True
    assert await bot.slack.messages(CHANNEL) == []


async def test_update_creates_the_deployment_and_announces_it_without_secrets(bot: Bot) -> None:
    command = "update web/dev --branch main --env REGION=eu --secret-env TOKEN=s3cr3t --message 'ship it'"
    result = await bot.slack.command("U_CARA", CHANNEL, command)
    assert result.error is None
    message = await channel_message(bot, "#1")
    shown = text_of(message)
    assert "*update* `acme/web/dev` #1" in shown
    assert "<@U_CARA>" in shown
    assert "ship it" in shown
    assert "deployment.cancel" in shown
    assert "s3cr3t" not in shown
    [create] = await creates(bot)
    body = create["body"]
    assert body["operation"] == "update"
    assert body["inheritSettings"] is True
    assert body["sourceContext"]["git"] == {"branch": "refs/heads/main", "commit": None}
    env = body["operationContext"]["environmentVariables"]
    assert env["REGION"] == "eu"
    assert set(env["TOKEN"]) == {"ciphertext"}  # encrypted first: the plaintext went only to the encrypt endpoint
    assert "s3cr3t" not in text_of(await bot.slack.calls())


async def test_a_stack_pulumi_does_not_know_leaves_no_message_behind(bot: Bot) -> None:
    result = await bot.slack.command("U_CARA", CHANNEL, "update web/nope")
    [answer] = await result.responses()
    assert "Pulumi says" in text_of(answer)
    assert "web/nope" in text_of(answer)
    assert await bot.slack.messages(CHANNEL, deleted=False) == []
    assert await creates(bot) != []  # it was Pulumi that refused


async def test_not_in_the_channel_says_how_to_invite_and_starts_nothing(bot: Bot) -> None:
    result = await bot.slack.command("U_CARA", "C_RANDOM", "update web/dev")
    [answer] = await result.responses()
    assert "/invite @Deploybot" in text_of(answer)
    assert await creates(bot) == []


async def test_bad_input_gets_the_usage_line_privately(bot: Bot) -> None:
    for command, expected in [
        ("frobnicate web/dev", "there is no command"),
        ("update web/dev --frob", "unknown option --frob"),
        ("logs web/dev", "Usage: `/deploy logs STACK"),
        ("status web/dev <!channel>", "is not a deployment id"),
    ]:
        result = await bot.slack.command("U_CARA", CHANNEL, command)
        [answer] = await result.responses()
        assert expected in text_of(answer), command
        assert "<!channel>" not in text_of(answer)
    assert await bot.slack.messages(CHANNEL) == []


async def test_the_word_payload_in_a_command_is_not_lost(bot: Bot) -> None:
    result = await bot.slack.command("U_CARA", CHANNEL, "settings set web/dev tag=payload")
    assert result.error is None
    message = await channel_message(bot, "changed the deployment settings")
    assert '`tag` → `\\"payload\\"`' in text_of(message)


async def test_status_shows_steps_and_configuration(bot: Bot) -> None:
    await bot.slack.command("U_CARA", CHANNEL, "update web/dev --env REGION=eu --secret-env TOKEN=x1")
    await channel_message(bot, "#1")
    await bot.pulumi.run_until_idle()
    result = await bot.slack.command("U_BEN", CHANNEL, "status web/dev")
    [answer] = await result.responses()
    shown = text_of(answer)
    assert "✓ succeeded" in shown
    assert "✓ 1. Setup" in shown
    assert "`REGION`=`eu`" in shown
    assert "`TOKEN`=🔒 hidden" in shown
    assert "<@U_CARA>" in shown  # the Slack requester, not Pulumi's token owner
    result = await bot.slack.command("U_BEN", CHANNEL, "status web/dev #1")
    [again] = await result.responses()
    assert "#1" in text_of(again)


async def test_list_pages_in_place(bot: Bot) -> None:
    for _ in range(3):
        await bot.slack.command("U_CARA", CHANNEL, "preview web/dev")
    await eventually(lambda: creates(bot), lambda found: len(found) == 3)
    result = await bot.slack.command("U_CARA", CHANNEL, "list web/dev --page-size 1")
    [first] = await result.responses()
    assert "page 1 of 3" in text_of(first)
    assert "#3" in text_of(first)
    clicked = await bot.slack.click("U_CARA", await ephemeral_with(bot, "U_CARA", "list.next"), "list.next")
    [second] = await clicked.responses()
    assert second["payload"]["replace_original"] is True
    assert "replaced" in text_of(second["effect"])
    assert "page 2 of 3" in text_of(second)
    assert "#2" in text_of(second)


async def test_logs_tail_and_step_paging(bot: Bot) -> None:
    await bot.slack.command("U_CARA", CHANNEL, "update web/dev")
    await channel_message(bot, "#1")
    await bot.pulumi.run_until_idle()
    result = await bot.slack.command("U_CARA", CHANNEL, "logs web/dev #1 --tail 5")
    [tail] = await result.responses()
    assert "Log of" in text_of(tail)
    assert "Resources" in text_of(tail) or "unchanged" in text_of(tail) or "created" in text_of(tail)
    result = await bot.slack.command("U_CARA", CHANNEL, "logs web/dev #1 --step 1 --count 1")
    [page] = await result.responses()
    assert "Step 1: Setup" in text_of(page)
    assert "lines 1 to 1" in text_of(page)
    more = await bot.slack.click("U_CARA", await ephemeral_with(bot, "U_CARA", "logs.more"), "logs.more")
    [next_page] = await more.responses()
    assert "lines 2 to 2" in text_of(next_page)


async def test_cancel_asks_first_then_cancels_and_says_who(bot: Bot) -> None:
    await bot.slack.command("U_CARA", CHANNEL, "update web/dev")
    parent = await channel_message(bot, "#1")
    result = await bot.slack.command("U_BEN", CHANNEL, "cancel web/dev #1")
    [question] = await result.responses()
    assert "can leave the stack" in text_of(question)
    confirmed = await bot.slack.click("U_BEN", await ephemeral_with(bot, "U_BEN", "confirm.yes"), "confirm.yes")
    assert confirmed.error is None
    thread = await eventually(
        lambda: bot.slack.thread(CHANNEL, parent["ts"]), lambda t: "cancelled" in text_of(t), within=5
    )
    assert "<@U_BEN> cancelled" in text_of(thread)
    updated = await channel_message(bot, "failed")
    assert "deployment.cancel" not in text_of(updated["blocks"])


async def test_the_cancel_button_cancels(bot: Bot) -> None:
    await bot.slack.command("U_CARA", CHANNEL, "update web/dev")
    parent = await channel_message(bot, "deployment.cancel")
    await bot.slack.click("U_ANA", parent, "deployment.cancel")
    updated = await channel_message(bot, "✗ failed")
    assert "deployment.cancel" not in text_of(updated["blocks"])
    cancels = [r for r in await bot.pulumi.requests() if r["path"].endswith("/cancel")]
    assert len(cancels) == 1


async def test_pause_resume_and_info(bot: Bot) -> None:
    await bot.slack.command("U_ANA", CHANNEL, "pause web/prod")
    await channel_message(bot, "paused deployments for `acme/web/prod`")
    result = await bot.slack.command("U_ANA", CHANNEL, "info web/prod")
    [info] = await result.responses()
    assert "⏸ paused" in text_of(info)
    await bot.slack.command("U_ANA", CHANNEL, "resume web/prod")
    await channel_message(bot, "resumed deployments")
    result = await bot.slack.command("U_ANA", CHANNEL, "info --org")
    [org] = await result.responses()
    assert "Concurrency:" in text_of(org)


async def test_settings_show_set_and_clear(bot: Bot) -> None:
    result = await bot.slack.command("U_ANA", CHANNEL, "settings show web/dev")
    [shown] = await result.responses()
    assert "github.com/acme/web.git" in text_of(shown)
    await bot.slack.command(
        "U_ANA", CHANNEL, 'settings set web/dev operationContext.environmentVariables.KEY=\'{"secret": "hush"}\''
    )
    changed = await channel_message(bot, "changed the deployment settings")
    assert "hush" not in text_of(changed)
    result = await bot.slack.command("U_ANA", CHANNEL, "settings show web/dev")
    [after] = await result.responses()
    assert "🔒 hidden" in text_of(after)
    assert "hush" not in text_of(after)
    result = await bot.slack.command("U_ANA", CHANNEL, "settings clear web/dev")
    [question] = await result.responses()
    assert "Clear all deployment settings" in text_of(question)
    await bot.slack.click("U_ANA", await ephemeral_with(bot, "U_ANA", "confirm.yes"), "confirm.yes")
    await channel_message(bot, "cleared the deployment settings")
    result = await bot.slack.command("U_ANA", CHANNEL, "settings show web/dev")
    [gone] = await result.responses()
    assert "has no deployment settings" in text_of(gone)


async def test_view_logs_button_answers_privately(bot: Bot) -> None:
    await bot.slack.command("U_CARA", CHANNEL, "update web/dev")
    parent = await channel_message(bot, "deployment.logs")
    await bot.pulumi.run_until_idle()
    clicked = await bot.slack.click("U_BEN", parent, "deployment.logs")
    [answer] = await clicked.responses()
    assert "Log of" in text_of(answer)
    assert answer["payload"]["response_type"] == "ephemeral"
    assert answer["payload"]["replace_original"] is False  # the channel message stays as it is


async def test_keep_cancels_nothing_and_previous_pages_back(bot: Bot) -> None:
    for _ in range(2):
        await bot.slack.command("U_CARA", CHANNEL, "preview web/dev")
    await eventually(lambda: creates(bot), lambda found: len(found) == 2)
    await bot.slack.command("U_CARA", CHANNEL, "cancel web/dev #2")
    kept = await bot.slack.click("U_CARA", await ephemeral_with(bot, "U_CARA", "confirm.no"), "confirm.no")
    [answer] = await kept.responses()
    assert "nothing was changed" in text_of(answer)
    assert [r for r in await bot.pulumi.requests() if r["path"].endswith("/cancel")] == []
    await bot.slack.command("U_CARA", CHANNEL, "list web/dev --page 2 --page-size 1")
    back = await bot.slack.click("U_CARA", await ephemeral_with(bot, "U_CARA", "list.previous"), "list.previous")
    [first] = await back.responses()
    assert "page 1 of 2" in text_of(first)


async def test_every_command_has_help(bot: Bot) -> None:
    result = await bot.slack.command("U_CARA", CHANNEL, "")
    [everything] = await result.responses()
    assert "/deploy logs" in text_of(everything)
    for verb in ("update", "status", "list", "logs", "cancel", "pause", "info", "settings set"):
        result = await bot.slack.command("U_CARA", CHANNEL, f"{verb} --help")
        [answer] = await result.responses()
        assert f"/deploy {verb}" in text_of(answer), verb
        assert "Examples" in text_of(answer), verb
