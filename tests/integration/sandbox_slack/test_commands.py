"""Slash commands from the fake to a real Bolt app: signing Bolt accepts, synchronous replies, response_url rules."""

from __future__ import annotations

import aiohttp
import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from tests.slack_sandbox import SandboxError, SlackSandbox


async def test_a_signed_command_reaches_bolt_as_slack_would_send_it(slack: SlackSandbox, bot: AsyncApp) -> None:
    result = await slack.command("U_ANA", "C_DEPLOYS", "hello")

    assert result.status == 200
    assert result.payload["command"] == "/deploy"
    assert result.payload["user_id"] == "U_ANA"
    assert result.payload["channel_name"] == "deploys"
    assert result.payload["response_url"].startswith(slack.url + "/hooks/commands/")
    # A plain-text reply is shown to the invoking user only.
    [shown] = await slack.ephemerals("U_ANA")
    assert shown["text"] == "Hello <@U_ANA>"
    assert shown["source"] == "command_reply"
    assert await slack.messages("C_DEPLOYS") == []


async def test_bolt_looks_up_the_bot_once_with_auth_test(slack: SlackSandbox, bot: AsyncApp) -> None:
    await slack.command("U_ANA", "C_DEPLOYS", "hello")
    await slack.command("U_BEN", "C_DEPLOYS", "hello")

    assert [c["ok"] for c in await slack.calls("auth.test")] == [True]


async def test_an_in_channel_reply_shows_the_command_and_the_answer(slack: SlackSandbox, bot: AsyncApp) -> None:
    await slack.command("U_ANA", "C_DEPLOYS", "announce")

    echo, answer = await slack.messages("C_DEPLOYS")
    assert (echo["user"], echo["text"], echo["source"]) == ("U_ANA", "/deploy announce", "command")
    assert (answer["bot_id"], answer["text"]) == ("B_DEPLOYBOT", "Deploying web/dev")
    # The echoed command is the user's message: the bot may not edit or delete it.
    client = slack.web_client()
    with pytest.raises(SlackApiError) as update:
        await client.chat_update(channel="C_DEPLOYS", ts=echo["ts"], text="x")
    with pytest.raises(SlackApiError) as delete:
        await client.chat_delete(channel="C_DEPLOYS", ts=echo["ts"])
    assert (update.value.response["error"], delete.value.response["error"]) == (
        "cant_update_message",
        "cant_delete_message",
    )


async def test_a_response_url_post_is_ephemeral_by_default(slack: SlackSandbox, bot: AsyncApp) -> None:
    result = await slack.command("U_BEN", "C_DEPLOYS", "status web/dev")

    assert result.reply is None  # a bare ack
    [posted] = await result.responses()
    assert (posted["status"], posted["payload"]["text"]) == (200, "status of web/dev: green")
    [shown] = await slack.ephemerals("U_BEN")
    assert shown["text"] == "status of web/dev: green"
    assert shown["interaction"] == result.id


async def test_a_command_whose_text_says_payload_is_lost_in_bolt(slack: SlackSandbox, bot: AsyncApp) -> None:
    # Bolt parses any form body containing "payload" as an interaction (reference §1): Slack's body triggers it.
    result = await slack.command("U_ANA", "C_DEPLOYS", "hello payload")

    assert (result.status, result.error) == (404, "dispatch_failed")


async def test_a_response_url_takes_five_posts_then_refuses(slack: SlackSandbox, bot: AsyncApp) -> None:
    result = await slack.command("U_CARA", "C_DEPLOYS", "status api")
    await result.responses(min=1)
    assert result.response_url is not None
    async with aiohttp.ClientSession() as http:
        statuses = []
        for n in range(5):
            async with http.post(result.response_url, json={"text": f"again {n}"}) as response:
                statuses.append((response.status, (await response.json()).get("error")))

    assert statuses == [(200, None)] * 4 + [(404, "used_url")]
    assert len(await slack.ephemerals("U_CARA")) == 5


async def test_a_response_url_expires_after_thirty_minutes(slack: SlackSandbox, bot: AsyncApp) -> None:
    result = await slack.command("U_CARA", "C_DEPLOYS", "hello")
    assert result.response_url is not None
    await slack.advance_clock(30 * 60 + 1)
    async with aiohttp.ClientSession() as http, http.post(result.response_url, json={"text": "late"}) as response:
        assert response.status == 404
        assert (await response.json())["error"] == "expired_url"


async def test_response_url_replace_original_replaces_the_earlier_reply(slack: SlackSandbox, bot: AsyncApp) -> None:
    result = await slack.command("U_ANA", "C_DEPLOYS", "hello")
    assert result.response_url is not None
    async with aiohttp.ClientSession() as http:
        await http.post(result.response_url, json={"text": "Hello again", "replace_original": "true"})

    [shown] = await slack.ephemerals("U_ANA")
    assert shown["text"] == "Hello again"
    assert [h["text"] for h in shown["history"]] == ["Hello <@U_ANA>"]


async def test_a_response_url_post_with_invalid_blocks_is_refused(slack: SlackSandbox, bot: AsyncApp) -> None:
    result = await slack.command("U_ANA", "C_DEPLOYS", "hello")
    assert result.response_url is not None
    too_long = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}
    async with aiohttp.ClientSession() as http, http.post(result.response_url, json={"blocks": [too_long]}) as response:
        body = await response.json()

    assert (response.status, body["error"]) == (400, "invalid_blocks")
    assert "must be less than 151 characters" in body["response_metadata"]["messages"][0]


async def test_the_user_must_be_in_the_channel_to_type_a_command(slack: SlackSandbox, bot: AsyncApp) -> None:
    with pytest.raises(SandboxError, match="U_DAN is not a member of C_DEPLOYS"):
        await slack.command("U_DAN", "C_DEPLOYS", "hello")
    with pytest.raises(SandboxError, match="unknown channel"):
        await slack.command("U_DAN", "C_NOPE", "hello")


async def test_without_a_request_url_the_control_api_says_so(slack: SlackSandbox) -> None:
    with pytest.raises(SandboxError, match="no request URL") as raised:
        await slack.command("U_ANA", "C_DEPLOYS", "hello")
    assert raised.value.status == 409
