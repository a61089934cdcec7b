"""User groups steered at runtime with ``POST /_sandbox/usergroups``, read back through slack_sdk's AsyncWebClient."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.slack import SeedUserGroup
from tests.slack_sandbox import SandboxError, SlackSandbox, start_slack_sandbox


@pytest.fixture
def client(slack: SlackSandbox) -> AsyncWebClient:
    return slack.web_client()


async def _users(client: AsyncWebClient, group: str, *, include_disabled: bool = False) -> list[str] | str:
    """The group's members, or Slack's error code."""
    try:
        return list((await client.usergroups_users_list(usergroup=group, include_disabled=include_disabled))["users"])
    except SlackApiError as error:
        return str(error.response["error"])


async def _handles(client: AsyncWebClient) -> dict[str, str]:
    return {g["handle"]: g["id"] for g in (await client.usergroups_list())["usergroups"]}


async def test_members_change_by_id_or_by_handle_in_any_case(slack: SlackSandbox, client: AsyncWebClient) -> None:
    changed = await slack.set_usergroup(id="S_SRE", members=["U_CARA"])

    assert changed == {"id": "S_SRE", "handle": "sre", "users": ["U_CARA"], "disabled": False}
    assert await _users(client, "S_SRE") == ["U_CARA"]

    await slack.set_usergroup(handle="@SRE", members=["U_BEN", "U_DAN", "U_BEN"])

    assert await _users(client, "S_SRE") == ["U_BEN", "U_DAN"]
    assert (await client.usergroups_list(include_users=True))["usergroups"][0]["users"] == ["U_BEN", "U_DAN"]
    workspace_groups = (await slack.workspace())["usergroups"]
    assert workspace_groups == [{"id": "S_SRE", "handle": "sre", "users": ["U_BEN", "U_DAN"], "disabled": False}]


async def test_a_new_id_with_a_handle_creates_a_group(slack: SlackSandbox, client: AsyncWebClient) -> None:
    await slack.set_usergroup(id="S_DBA", handle="@DBA", members=["U_DAN"])

    assert await _handles(client) == {"sre": "S_SRE", "dba": "S_DBA"}
    assert await _users(client, "S_DBA") == ["U_DAN"]


async def test_a_handle_can_be_renamed_but_not_taken_from_another_group(
    slack: SlackSandbox, client: AsyncWebClient
) -> None:
    await slack.set_usergroup(id="S_DBA", handle="dba")
    await slack.set_usergroup(id="S_SRE", handle="oncall")

    assert await _handles(client) == {"oncall": "S_SRE", "dba": "S_DBA"}
    with pytest.raises(SandboxError, match="belongs to another group") as raised:
        await slack.set_usergroup(id="S_SRE", handle="@DBA")
    assert raised.value.status == 409


async def test_a_disabled_group_is_hidden_unless_asked_for_and_keeps_its_members(
    slack: SlackSandbox, client: AsyncWebClient
) -> None:
    disabled = await slack.set_usergroup(handle="sre", disabled=True)

    assert disabled["disabled"] is True
    assert await _handles(client) == {}
    [listed] = (await client.usergroups_list(include_disabled=True))["usergroups"]
    assert listed["id"] == "S_SRE"
    assert listed["date_delete"] > 0
    assert await _users(client, "S_SRE") == "no_such_subteam"
    assert await _users(client, "S_SRE", include_disabled=True) == ["U_ANA", "U_BEN"]

    await slack.set_usergroup(id="S_SRE", disabled=False)

    assert await _handles(client) == {"sre": "S_SRE"}
    assert (await client.usergroups_list())["usergroups"][0]["date_delete"] == 0
    assert await _users(client, "S_SRE") == ["U_ANA", "U_BEN"]


async def test_a_group_can_be_seeded_disabled() -> None:
    groups = (SeedUserGroup("S_OLD", "old", ("U_ANA",), disabled_at=1_700_000_000),)
    async with start_slack_sandbox(usergroups=groups) as slack:
        client = slack.web_client()
        assert await _handles(client) == {}
        assert (await client.usergroups_list(include_disabled=True))["usergroups"][0]["date_delete"] == 1_700_000_000


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"id": "S_NOPE", "members": ["U_ANA"]}, 404, "pass both 'id' and 'handle'"),
        ({"handle": "nope"}, 404, "unknown user group"),
        ({"members": ["U_ANA"]}, 400, "'handle' is required"),
        ({"id": "S_SRE", "members": "U_ANA"}, 400, "'members' must be a list of user ids"),
        ({"id": "S_SRE", "members": [1]}, 400, "'members' must be a list of user ids"),
        ({"id": "S_SRE", "members": ["U_ANA", "U_NOPE"]}, 404, "unknown user 'U_NOPE'"),
        ({"id": "S_SRE", "disabled": "yes"}, 400, "'disabled' must be true or false"),
        ({"id": "S_SRE", "handle": "@"}, 409, "is empty"),
    ],
)
async def test_mistakes_answer_with_a_sentence(
    slack: SlackSandbox, client: AsyncWebClient, body: dict[str, object], status: int, message: str
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{slack.url}/_sandbox/usergroups", json=body) as response,
    ):
        answer = await response.json()

    assert response.status == status
    assert answer["ok"] is False
    assert message in answer["error"]
    assert await _users(client, "S_SRE") == ["U_ANA", "U_BEN"]  # nothing changed
