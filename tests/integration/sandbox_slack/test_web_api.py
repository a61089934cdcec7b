"""The Web API through slack_sdk's AsyncWebClient (the bot's own client): shapes, errors, edit history."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import SeedChannel, SeedUser, SeedUserGroup
from tests.slack_sandbox import SlackSandbox, start_slack_sandbox


@pytest.fixture
def client(slack: SlackSandbox) -> AsyncWebClient:
    return slack.web_client()


async def _error(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    assert raised.value.response.status_code == 200  # Slack reports API errors with HTTP 200
    return str(raised.value.response["error"])


async def test_auth_test_names_the_bot_and_its_scopes(client: AsyncWebClient) -> None:
    response = await client.auth_test()

    assert (response["user_id"], response["bot_id"], response["team_id"]) == ("U_DEPLOYBOT", "B_DEPLOYBOT", "T_SANDBOX")
    assert "chat:write" in response.headers["x-oauth-scopes"].split(",")


async def test_tokens_are_checked(slack: SlackSandbox) -> None:
    assert await _error(AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()) == "invalid_auth"
    assert await _error(AsyncWebClient(base_url=slack.api_url).auth_test()) == "not_authed"
    app_token_client = AsyncWebClient(token=slack.app_token, base_url=slack.api_url)
    assert await _error(app_token_client.chat_postMessage(channel="C_DEPLOYS", text="x")) == "not_allowed_token_type"


async def test_unknown_methods_are_refused(client: AsyncWebClient) -> None:
    assert await _error(client.api_call("chat.teleport")) == "unknown_method"


async def test_post_message_returns_the_stored_message(slack: SlackSandbox, client: AsyncWebClient) -> None:
    response = await client.chat_postMessage(channel="C_DEPLOYS", text="deploying")

    assert response["channel"] == "C_DEPLOYS"
    assert response["message"]["bot_id"] == "B_DEPLOYBOT"
    [stored] = await slack.messages("C_DEPLOYS")
    assert (stored["ts"], stored["text"], stored["user"]) == (response["ts"], "deploying", "U_DEPLOYBOT")


async def test_post_message_channel_rules(client: AsyncWebClient) -> None:
    assert await _error(client.chat_postMessage(channel="C_RANDOM", text="hi")) == "not_in_channel"
    assert await _error(client.chat_postMessage(channel="C_NOPE", text="hi")) == "channel_not_found"
    with pytest.warns(UserWarning, match="`text` argument is missing"):
        assert await _error(client.chat_postMessage(channel="C_DEPLOYS")) == "no_text"
    assert (await client.chat_postMessage(channel="#deploys", text="by name"))["channel"] == "C_DEPLOYS"


async def test_private_channels_the_bot_is_not_in_do_not_exist_for_it(
    slack: SlackSandbox, client: AsyncWebClient
) -> None:
    await slack.set_membership("G_OPS", "U_DEPLOYBOT", member=False)

    assert await _error(client.conversations_info(channel="G_OPS")) == "channel_not_found"
    assert await _error(client.chat_postMessage(channel="G_OPS", text="x")) == "channel_not_found"


async def test_long_text_is_truncated_by_post_message_and_refused_by_update(
    slack: SlackSandbox, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel="C_DEPLOYS", text="y" * 40_010)

    assert len((await slack.messages("C_DEPLOYS"))[0]["text"]) == 40_000
    assert await _error(client.chat_update(channel="C_DEPLOYS", ts=posted["ts"], text="z" * 4001)) == "msg_too_long"
    too_long = client.chat_postEphemeral(channel="C_DEPLOYS", user="U_ANA", text="z" * 4001)
    assert await _error(too_long) == "msg_too_long"


async def test_threads_and_broadcasts(slack: SlackSandbox, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="C_DEPLOYS", text="deploy #7")
    await client.chat_postMessage(channel="C_DEPLOYS", text="log line", thread_ts=parent["ts"])
    await client.chat_postMessage(channel="C_DEPLOYS", text="failed!", thread_ts=parent["ts"], reply_broadcast=True)

    top = await slack.messages("C_DEPLOYS")
    assert [m["text"] for m in top] == ["deploy #7", "failed!"]
    assert top[0]["reply_count"] == 2
    assert top[1]["subtype"] == "thread_broadcast"
    assert [m["text"] for m in await slack.thread("C_DEPLOYS", parent["ts"])] == ["deploy #7", "log line", "failed!"]


async def test_update_keeps_every_earlier_version(slack: SlackSandbox, client: AsyncWebClient) -> None:
    section = [{"type": "section", "block_id": "s1", "text": {"type": "mrkdwn", "text": "*running*"}}]
    posted = await client.chat_postMessage(channel="C_DEPLOYS", text="running", blocks=section)

    await client.chat_update(channel="C_DEPLOYS", ts=posted["ts"], attachments=[{"text": "extra", "fallback": "extra"}])
    after_keep = (await slack.messages("C_DEPLOYS"))[0]
    await client.chat_update(channel="C_DEPLOYS", ts=posted["ts"], text="succeeded")
    after_text = (await slack.messages("C_DEPLOYS"))[0]

    # Neither text nor blocks sent: both kept. Text without blocks: the blocks go.
    assert (after_keep["text"], after_keep["blocks"][0]["block_id"]) == ("running", "s1")
    assert after_text["text"] == "succeeded"
    assert "blocks" not in after_text
    assert [v["text"] for v in after_text["history"]] == ["running", "running"]
    assert after_text["edited"]["user"] == "U_DEPLOYBOT"


async def test_update_refuses_unknown_and_ephemeral_messages(client: AsyncWebClient) -> None:
    assert await _error(client.chat_update(channel="C_DEPLOYS", ts="123.456", text="x")) == "message_not_found"
    ephemeral = await client.chat_postEphemeral(channel="C_DEPLOYS", user="U_ANA", text="psst")
    assert await _error(client.chat_update(channel="C_DEPLOYS", ts=ephemeral["message_ts"], text="x")) == (
        "message_not_found"
    )


async def test_post_ephemeral_needs_the_user_in_the_channel(slack: SlackSandbox, client: AsyncWebClient) -> None:
    assert await _error(client.chat_postEphemeral(channel="C_DEPLOYS", user="U_DAN", text="x")) == (
        "user_not_in_channel"
    )
    assert await _error(client.chat_postEphemeral(channel="C_DEPLOYS", user="U_NOPE", text="x")) == "user_not_found"

    await slack.set_membership("C_DEPLOYS", "U_DAN")
    await client.chat_postEphemeral(channel="C_DEPLOYS", user="U_DAN", text="welcome")
    assert [m["text"] for m in await slack.ephemerals("U_DAN")] == ["welcome"]


async def test_permalinks_and_deletion(slack: SlackSandbox, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="C_DEPLOYS", text="p")
    reply = await client.chat_postMessage(channel="C_DEPLOYS", text="r", thread_ts=parent["ts"])

    link = (await client.chat_getPermalink(channel="C_DEPLOYS", message_ts=reply["ts"]))["permalink"]
    assert link == (
        f"https://sandbox.slack.com/archives/C_DEPLOYS/p{reply['ts'].replace('.', '')}"
        f"?thread_ts={parent['ts']}&cid=C_DEPLOYS"
    )
    await client.chat_delete(channel="C_DEPLOYS", ts=parent["ts"])
    assert await slack.messages("C_DEPLOYS") == []
    assert await _error(client.chat_getPermalink(channel="C_DEPLOYS", message_ts=parent["ts"])) == ("message_not_found")


async def test_directory_lookups(client: AsyncWebClient) -> None:
    ana = (await client.users_info(user="U_ANA"))["user"]
    assert (ana["name"], ana["is_admin"], ana["profile"]["real_name"]) == ("ana", True, "Ana Admin")
    assert await _error(client.users_info(user="U_NOPE")) == "user_not_found"

    groups = (await client.usergroups_list())["usergroups"]
    assert [(g["id"], g["handle"]) for g in groups] == [("S_SRE", "sre")]
    assert (await client.usergroups_users_list(usergroup="S_SRE"))["users"] == ["U_ANA", "U_BEN"]
    assert await _error(client.usergroups_users_list(usergroup="S_NOPE")) == "no_such_subteam"

    deploys = (await client.conversations_info(channel="C_DEPLOYS", include_num_members=True))["channel"]
    assert (deploys["name"], deploys["is_member"], deploys["num_members"]) == ("deploys", True, 4)
    random = (await client.conversations_info(channel="C_RANDOM"))["channel"]
    assert random["is_member"] is False
    assert "U_DEPLOYBOT" in (await client.conversations_members(channel="C_DEPLOYS"))["members"]


async def test_a_dm_opened_by_the_bot_can_be_posted_to(slack: SlackSandbox, client: AsyncWebClient) -> None:
    dm = (await client.conversations_open(users="U_CARA"))["channel"]["id"]
    await client.chat_postMessage(channel=dm, text="your deploy finished")

    assert [m["text"] for m in await slack.messages(dm)] == ["your deploy finished"]
    assert await _error(client.conversations_open(users="U_NOPE")) == "user_not_found"


async def test_the_workspace_is_configurable() -> None:
    users = (SeedUser("U1", "eve", "Eve Ops", is_admin=True), SeedUser("U2", "finn", "Finn"))
    channels = (SeedChannel("C1", "ops", ("U1", "U_DEPLOYBOT")),)
    groups = (SeedUserGroup("S1", "oncall", ("U2",)),)
    async with start_slack_sandbox(users=users, channels=channels, usergroups=groups, bot_token="xoxb-other") as slack:
        client = slack.web_client()
        assert (await client.users_info(user="U1"))["user"]["is_admin"] is True
        assert (await client.usergroups_list())["usergroups"][0]["name"] == "oncall"
        assert (await client.conversations_info(channel="C1"))["channel"]["name"] == "ops"
        assert await _error(client.conversations_info(channel="C_DEPLOYS")) == "channel_not_found"
