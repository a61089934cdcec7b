"""The recorded Slack payloads of tests/payloads/slack against the real bot and the fake Slack: each is signed and
POSTed to /slack/events (or handed to Bolt's Socket Mode dispatch) and must do what Slack's own would; and the fake
Slack's payloads and envelopes must have the keys of the recorded ones (Slack reference §2 "Modals", §7, §9).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.app import build_bolt
from tests.e2e.conftest import CHANNEL, Bot, channel_message, eventually, running_bot, text_of
from tests.e2e.test_commands import creates
from tests.pulumi_sandbox import PulumiSandbox
from tests.slack_sandbox import InteractionResult, SlackSandbox

PAYLOADS = Path(__file__).parents[1] / "payloads" / "slack"


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())  # type: ignore[no-any-return]


def mention_in(channel: str) -> dict[str, Any]:
    """The recorded app_mention, moved to a channel of the fake workspace (the bot can only answer there)."""
    body = load("app_mention.json")
    body["event"]["channel"] = channel
    return body


@pytest.fixture
async def gated(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> AsyncIterator[Bot]:
    """The bot with the default policy (no policy file): an update waits for one approval from someone else."""
    async with running_bot("serve", slack_sandbox, pulumi_sandbox, redis_url, DEPLOYBOT_POLICY="") as bot:
        yield bot


async def test_the_view_submission_fixture_reaches_the_destroy_check(http_bot: Bot) -> None:
    typo = load("view_submission.json")
    typo["view"]["state"]["values"][ids.INPUT_STACK_NAME][ids.INPUT_STACK_NAME]["value"] = "web/prod"
    refused = await http_bot.slack.raw(urlencode({"payload": json.dumps(typo)}))
    assert refused["status"] == 200
    assert json.loads(refused["body"]) == {
        "response_action": "errors",
        "errors": {ids.INPUT_STACK_NAME: "Type acme/web/prod exactly to approve."},
    }
    typed = await http_bot.slack.raw(urlencode({"payload": json.dumps(load("view_submission.json"))}))
    assert (typed["status"], typed["body"]) == (200, "")  # a bare ack closes the modal
    assert await creates(http_bot) == []  # the fixture's request id is made up: there is nothing to approve


async def test_the_fake_slack_submits_a_modal_with_the_keys_of_the_recorded_one(gated: Bot) -> None:
    result = await gated.slack.command("U_CARA", CHANNEL, "update web/dev")
    await result.responses()
    message = await channel_message(gated, ids.APPROVAL_DENY)
    await gated.slack.click("U_BEN", message, ids.APPROVAL_DENY)
    [view] = await gated.slack.views("U_BEN", status="open", min=1)
    submitted = await gated.slack.submit("U_BEN", view["id"], {ids.INPUT_REASON: {ids.INPUT_REASON: "not today"}})
    fake, recorded = submitted.payload, load("view_submission.json")
    assert set(fake) == set(recorded)
    for part in ("user", "team", "view"):
        assert set(fake[part]) == set(recorded[part]), part
    [(block, entry)] = [(b, e) for b, actions in fake["view"]["state"]["values"].items() for e in actions.values()]
    [recorded_entry] = recorded["view"]["state"]["values"][ids.INPUT_STACK_NAME].values()
    assert block == ids.INPUT_REASON
    assert set(entry) == set(recorded_entry) == {"type", "value"}
    await channel_message(gated, "Denied by <@U_BEN>: not today")  # and the bot understood the fake's one


async def test_the_app_mention_fixture_is_answered_in_a_thread(http_bot: Bot) -> None:
    body = mention_in(CHANNEL)
    answer = await http_bot.slack.raw(json.dumps(body), content_type="application/json")
    assert answer["status"] == 200
    ts = body["event"]["ts"]
    thread = await eventually(lambda: http_bot.slack.thread(CHANNEL, ts), lambda t: "/deploy help" in text_of(t))
    assert "<@U0FAKEUSER>" in text_of(thread)


async def test_the_fake_slack_sends_events_with_the_keys_of_the_recorded_one(http_bot: Bot) -> None:
    recorded = mention_in(CHANNEL)
    event = {k: v for k, v in recorded["event"].items() if k != "event_ts"} | {"ts": "1595926231.000100"}
    fake = (await http_bot.slack.event(event)).payload
    assert set(fake) == set(recorded)
    assert set(fake["event"]) == set(recorded["event"])
    # Slack's authorizations also name the enterprise (null outside Enterprise Grid); the fake leaves those out,
    # and the bot never reads them.
    assert set(fake["authorizations"][0]) | {"enterprise_id", "is_enterprise_install"} == set(
        recorded["authorizations"][0]
    )


async def test_the_socket_mode_event_fixture_is_answered_through_bolts_socket_dispatch(http_bot: Bot) -> None:
    envelope = load("socket_mode_events_api.json")
    envelope["payload"]["event"]["channel"] = CHANNEL
    request = SocketModeRequest.from_dict(envelope)
    assert request is not None
    bolt = build_bolt(http_bot.deps, signing_secret=http_bot.slack.signing_secret)
    response = await run_async_bolt_app(bolt, request)  # what AsyncSocketModeHandler does with each envelope
    assert response.status == 200
    ts = envelope["payload"]["event"]["ts"]
    await eventually(lambda: http_bot.slack.thread(CHANNEL, ts), lambda t: "/deploy help" in text_of(t))


async def test_the_fake_slack_sends_socket_mode_envelopes_with_the_keys_of_the_recorded_ones(
    slack_sandbox: SlackSandbox,
) -> None:
    """Our own WebSocket client takes the bot's place, to read the fake's envelopes as they are sent."""
    client = AsyncWebClient(token=slack_sandbox.bot_token, base_url=slack_sandbox.api_url)
    button = {
        "type": "button",
        "action_id": ids.LIST_NEXT,
        "value": "v1",
        "text": {"type": "plain_text", "text": "Next"},
    }
    posted = await client.chat_postMessage(
        channel=CHANNEL, text="page", blocks=[{"type": "actions", "elements": [button]}]
    )
    opened = await client.apps_connections_open(app_token=slack_sandbox.app_token)
    async with aiohttp.ClientSession() as session, session.ws_connect(str(opened["url"])) as socket:
        hello = await socket.receive_json(timeout=5)
        assert hello["type"] == "hello"
        await eventually(slack_sandbox.socket, lambda state: bool(state["connected"]))

        async def envelope_of(interaction: asyncio.Task[InteractionResult]) -> dict[str, Any]:
            envelope: dict[str, Any] = await socket.receive_json(timeout=5)
            await socket.send_json({"envelope_id": envelope["envelope_id"]})
            await interaction
            return envelope

        sent = [
            await envelope_of(
                asyncio.create_task(slack_sandbox.command("U_CARA", CHANNEL, "help", transport="socket"))
            ),
            await envelope_of(
                asyncio.create_task(
                    slack_sandbox.click("U_CARA", str(posted["ts"]), ids.LIST_NEXT, channel=CHANNEL, transport="socket")
                )
            ),
            await envelope_of(
                asyncio.create_task(
                    slack_sandbox.event(mention_in(CHANNEL)["event"] | {"ts": "1.000100"}, transport="socket")
                )
            ),
        ]
    recorded = [
        load(name)
        for name in ("socket_mode_slash_commands.json", "socket_mode_interactive.json", "socket_mode_events_api.json")
    ]
    for fake, known in zip(sent, recorded, strict=True):
        assert fake["type"] == known["type"]
        assert set(fake) == set(known), known["type"]
        assert fake["accepts_response_payload"] == known["accepts_response_payload"], known["type"]
    assert set(sent[0]["payload"]) == set(recorded[0]["payload"])
    assert set(recorded[1]["payload"]) <= set(sent[1]["payload"])  # a public message's click also carries it
    assert set(sent[2]["payload"]) == set(recorded[2]["payload"])
