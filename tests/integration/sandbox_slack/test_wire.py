"""The Web API over plain aiohttp: every encoding Slack accepts, and Slack's HTTP status rules."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.slack_sandbox import SlackSandbox


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _call(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with http.request(method, url, **kwargs) as response:
        return response.status, await response.json()


async def test_form_post_with_the_token_as_a_parameter(slack: SlackSandbox, http: aiohttp.ClientSession) -> None:
    blocks = json.dumps([{"type": "section", "text": {"type": "mrkdwn", "text": "*form*"}}])
    form = {"token": slack.bot_token, "channel": "C_DEPLOYS", "text": "form", "blocks": blocks}

    status, body = await _call(http, "POST", slack.api_url + "chat.postMessage", data=form)

    assert (status, body["ok"]) == (200, True)
    assert body["message"]["blocks"][0]["text"]["text"] == "*form*"


async def test_get_with_query_arguments_and_bearer_token(slack: SlackSandbox, http: aiohttp.ClientSession) -> None:
    headers = {"Authorization": f"Bearer {slack.bot_token}"}

    status, body = await _call(http, "GET", slack.api_url + "users.info", params={"user": "U_BEN"}, headers=headers)

    assert (status, body["user"]["name"]) == (200, "ben")


async def test_query_form_and_json_arguments_merge(slack: SlackSandbox, http: aiohttp.ClientSession) -> None:
    headers = {"Authorization": f"Bearer {slack.bot_token}"}
    url = slack.api_url + "chat.postMessage?channel=C_DEPLOYS"

    status, body = await _call(http, "POST", url, json={"text": "merged"}, headers=headers)

    assert (status, body["channel"], body["message"]["text"]) == (200, "C_DEPLOYS", "merged")


async def test_a_token_inside_a_json_body_is_ignored(slack: SlackSandbox, http: aiohttp.ClientSession) -> None:
    payload = {"token": slack.bot_token, "channel": "C_DEPLOYS", "text": "x"}

    status, body = await _call(http, "POST", slack.api_url + "chat.postMessage", json=payload)

    assert (status, body) == (200, {"ok": False, "error": "not_authed"})


async def test_broken_bodies_get_slack_errors_not_500s(slack: SlackSandbox, http: aiohttp.ClientSession) -> None:
    headers = {"Authorization": f"Bearer {slack.bot_token}", "Content-Type": "application/json"}
    url = slack.api_url + "chat.postMessage"

    status, body = await _call(http, "POST", url, data="{nope", headers=headers)
    assert (status, body["error"]) == (200, "invalid_json")
    status, body = await _call(http, "POST", url, data="[1]", headers=headers)
    assert (status, body["error"]) == (200, "json_not_object")
    form = {"token": slack.bot_token, "channel": "C_DEPLOYS", "blocks": "[{"}
    status, body = await _call(http, "POST", url, data=form)
    assert (status, body["error"]) == (200, "invalid_blocks_format")


async def test_unknown_method_is_checked_before_the_token(slack: SlackSandbox, http: aiohttp.ClientSession) -> None:
    assert await _call(http, "POST", slack.api_url + "nope.nope") == (200, {"ok": False, "error": "unknown_method"})


async def test_the_call_log_records_arguments_and_outcomes(slack: SlackSandbox, http: aiohttp.ClientSession) -> None:
    await _call(http, "GET", slack.api_url + "users.info", params={"user": "U_ANA", "token": "xoxb-bad"})

    [call] = await slack.calls("users.info")
    assert (call["http_method"], call["args"], call["status"], call["error"]) == (
        "GET",
        {"user": "U_ANA"},
        200,
        "invalid_auth",
    )


async def test_control_api_mistakes_are_explained(slack: SlackSandbox, http: aiohttp.ClientSession) -> None:
    status, body = await _call(http, "POST", slack.url + "/_sandbox/command", data="not json")
    assert (status, body["error"]) == (400, "the request body must be a JSON object")
    status, body = await _call(http, "POST", slack.url + "/_sandbox/command", json={"user": "U_ANA"})
    assert (status, body["error"]) == (400, "'channel' is required and must be a non-empty string")
    status, body = await _call(http, "GET", slack.url + "/_sandbox/messages", params={"channel": "C_X"})
    assert (status, body["error"]) == (404, "unknown channel 'C_X'; pass ?channel=<id>")
    status, body = await _call(http, "POST", slack.url + "/_sandbox/clock", json={"advance": "soon"})
    assert (status, body["error"]) == (400, "'advance' must be a non-negative number of seconds")
