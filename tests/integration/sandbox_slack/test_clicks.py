"""Clicks on stored messages: Slack's block_actions payload, Bolt's acceptance, and response_url effects."""

from __future__ import annotations

import pytest
from slack_bolt.async_app import AsyncApp

from tests.slack_sandbox import SandboxError, SlackSandbox


async def _proposal(slack: SlackSandbox) -> dict[str, object]:
    await slack.command("U_ANA", "C_DEPLOYS", "propose")
    [message] = await slack.messages("C_DEPLOYS", min=1)
    return message


async def test_a_click_sends_block_actions_built_from_the_real_button(slack: SlackSandbox, bot: AsyncApp) -> None:
    message = await _proposal(slack)

    result = await slack.click("U_BEN", message, "approve")

    assert result.status == 200
    payload = result.payload
    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message",
        "message_ts": message["ts"],
        "channel_id": "C_DEPLOYS",
        "is_ephemeral": False,
    }
    [action] = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"]) == ("approve", "decision", "deployment-42")
    assert payload["message"]["ts"] == message["ts"]
    assert payload["message"]["blocks"][1]["elements"][0]["action_id"] == "approve"
    assert payload["response_url"].startswith(slack.url + "/hooks/actions/")
    assert payload["trigger_id"]


async def test_replace_original_edits_the_clicked_message_and_keeps_history(slack: SlackSandbox, bot: AsyncApp) -> None:
    message = await _proposal(slack)

    result = await slack.click("U_BEN", message, "approve")
    [response] = await result.responses()

    assert response["effect"] == {"replaced": message["ts"]}
    [now] = await slack.messages("C_DEPLOYS")
    assert now["text"] == "Approved by <@U_BEN>"
    assert "blocks" not in now
    assert [version["text"] for version in now["history"]] == ["web/dev wants to deploy"]
    assert now["history"][0]["blocks"][0]["block_id"] == "summary"


async def test_delete_original_removes_the_clicked_message(slack: SlackSandbox, bot: AsyncApp) -> None:
    message = await _proposal(slack)

    result = await slack.click("U_BEN", message, "discard")
    await result.responses()

    assert await slack.messages("C_DEPLOYS") == []
    [gone] = await slack.messages("C_DEPLOYS", deleted=True)
    assert gone["deleted"] is True


async def test_a_select_reports_the_chosen_option(slack: SlackSandbox, bot: AsyncApp) -> None:
    message = await _proposal(slack)

    result = await slack.click("U_CARA", message, "pick_env", value="prod")
    await result.responses()

    [action] = result.payload["actions"]
    assert action["selected_option"]["value"] == "prod"
    [shown] = await slack.ephemerals("U_CARA")
    assert shown["text"] == "picked prod"
    assert len(await slack.messages("C_DEPLOYS")) == 1  # replace_original=False leaves the proposal alone


async def test_clicking_what_is_not_there_is_refused(slack: SlackSandbox, bot: AsyncApp) -> None:
    message = await _proposal(slack)

    with pytest.raises(SandboxError, match="no element with action_id 'launch'"):
        await slack.click("U_BEN", message, "launch")
    with pytest.raises(SandboxError, match="'staging' is not an option"):
        await slack.click("U_BEN", message, "pick_env", value="staging")
    with pytest.raises(SandboxError, match="no message in C_DEPLOYS"):
        await slack.click("U_BEN", "1.000001", "approve", channel="C_DEPLOYS")


async def test_a_click_on_an_ephemeral_message_stays_ephemeral(slack: SlackSandbox, bot: AsyncApp) -> None:
    command = await slack.command("U_ANA", "C_DEPLOYS", "ask")
    await command.responses()
    [ephemeral] = await slack.ephemerals("U_ANA")

    result = await slack.click("U_ANA", ephemeral, "approve")
    await result.responses()

    assert result.payload["container"]["is_ephemeral"] is True
    assert "message" not in result.payload
    [replaced] = await slack.ephemerals("U_ANA")
    assert (replaced["ts"], replaced["text"]) == (ephemeral["ts"], "Approved by <@U_ANA>")
    assert await slack.messages("C_DEPLOYS") == []


async def test_only_its_owner_can_click_an_ephemeral_message(slack: SlackSandbox, bot: AsyncApp) -> None:
    command = await slack.command("U_ANA", "C_DEPLOYS", "ask")
    await command.responses()
    [ephemeral] = await slack.ephemerals("U_ANA")

    with pytest.raises(SandboxError, match="only visible to U_ANA"):
        await slack.click("U_BEN", ephemeral, "approve")
