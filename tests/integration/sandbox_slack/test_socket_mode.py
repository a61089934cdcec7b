"""Socket Mode end to end with slack-bolt's own AsyncSocketModeHandler (aiohttp adapter) against the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncSay
from slack_sdk.errors import SlackApiError

from tests.integration.sandbox_slack.conftest import DEPLOY_MODAL
from tests.slack_sandbox import SandboxError, SlackSandbox


@pytest.fixture
async def socket_bot(slack: SlackSandbox) -> AsyncIterator[AsyncApp]:
    """A tiny Bolt app with no Request URL at all: everything reaches it over the WebSocket."""
    app = AsyncApp(client=slack.web_client())

    @app.command("/deploy")
    async def deploy(ack: AsyncAck, command: dict[str, Any], say: AsyncSay) -> None:
        if command["text"] == "form":
            await ack()
            await app.client.views_open(trigger_id=command["trigger_id"], view=DEPLOY_MODAL)
            return
        await ack(f"on it: {command['text']}")
        await say(f"<@{command['user_id']}> started {command['text']}")

    @app.view("deploy_form")
    async def submitted(ack: AsyncAck) -> None:
        await ack(response_action="errors", errors={"reason": "not over a socket"})

    @app.event("app_mention")
    async def mention(event: dict[str, Any], say: AsyncSay) -> None:
        await say(f"you said {event['text']}")

    handler = AsyncSocketModeHandler(app, slack.app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]  # slack_bolt leaves it unannotated
    assert (await slack.socket(wait_connected=True))["connected"]
    try:
        yield app
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]  # slack_bolt leaves it unannotated


async def test_a_command_is_acked_over_the_socket_and_the_bot_posts(slack: SlackSandbox, socket_bot: AsyncApp) -> None:
    assert (await slack.socket())["connected"] is True

    result = await slack.command("U_ANA", "C_DEPLOYS", "web/dev")

    assert result.record["transport"] == "socket"
    assert result.reply == {"text": "on it: web/dev"}
    [ack] = (await slack.socket())["acks"]
    assert ack["payload"] == {"text": "on it: web/dev"}
    [posted] = await slack.messages("C_DEPLOYS", min=1)
    assert posted["text"] == "<@U_ANA> started web/dev"
    [shown] = await slack.ephemerals("U_ANA")
    assert shown["text"] == "on it: web/dev"


async def test_a_submission_ack_carries_the_response_action(slack: SlackSandbox, socket_bot: AsyncApp) -> None:
    await slack.command("U_ANA", "C_DEPLOYS", "form")
    [view] = await slack.views("U_ANA", min=1)

    result = await slack.submit("U_ANA", view["id"], {"reason": {"text": "x"}})

    assert result.effect == {"view": "errors", "errors": {"reason": "not over a socket"}}


async def test_events_arrive_as_events_api_envelopes(slack: SlackSandbox, socket_bot: AsyncApp) -> None:
    event = {"type": "app_mention", "user": "U_BEN", "channel": "C_DEPLOYS", "text": "<@U_DEPLOYBOT> hi"}

    result = await slack.event(event)

    assert result.payload["type"] == "event_callback"
    [posted] = await slack.messages("C_DEPLOYS", min=1)
    assert posted["text"] == "you said <@U_DEPLOYBOT> hi"


async def test_http_can_still_be_chosen_explicitly(slack: SlackSandbox, socket_bot: AsyncApp) -> None:
    with pytest.raises(SandboxError, match="no request URL"):
        await slack.command("U_ANA", "C_DEPLOYS", "web/dev", transport="http")


async def test_connections_open_needs_the_app_token_in_the_header(slack: SlackSandbox) -> None:
    client = slack.web_client()
    with pytest.raises(SlackApiError) as raised:
        await client.apps_connections_open(app_token=slack.bot_token)
    assert raised.value.response["error"] == "not_allowed_token_type"

    url = (await client.apps_connections_open(app_token=slack.app_token))["url"]
    assert url.startswith(slack.url.replace("http://", "ws://") + "/link/?ticket=")
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url) as socket:
            hello = await socket.receive_json()
            assert hello["type"] == "hello"
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(url)  # tickets are single-use
