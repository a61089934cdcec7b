"""Fixtures for the fake Slack's tests: a sandbox on a free port, and a tiny Bolt app served over aiohttp as the bot.

The Bolt app verifies signatures with Bolt's own middleware, so a payload it accepts is one Slack could have sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond, AsyncSay
from slack_sdk.web.async_client import AsyncWebClient

from tests.integration.sandbox_slack.threaded import ThreadedSlack
from tests.slack_sandbox import SlackSandbox, start_slack_sandbox

APPROVAL_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "block_id": "summary", "text": {"type": "mrkdwn", "text": "*web/dev* wants to deploy"}},
    {
        "type": "actions",
        "block_id": "decision",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "text": {"type": "plain_text", "text": "Approve"},
                "value": "deployment-42",
                "style": "primary",
                "confirm": {
                    "title": {"type": "plain_text", "text": "Sure?"},
                    "text": {"type": "mrkdwn", "text": "Deploy *web/dev*?"},
                    "confirm": {"type": "plain_text", "text": "Deploy"},
                    "deny": {"type": "plain_text", "text": "Stop"},
                },
            },
            {"type": "button", "action_id": "discard", "text": {"type": "plain_text", "text": "Discard"}},
            {
                "type": "static_select",
                "action_id": "pick_env",
                "placeholder": {"type": "plain_text", "text": "Environment"},
                "options": [
                    {"text": {"type": "plain_text", "text": "dev"}, "value": "dev"},
                    {"text": {"type": "plain_text", "text": "prod"}, "value": "prod"},
                ],
            },
        ],
    },
]

DEPLOY_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "deploy_form",
    "private_metadata": "web/dev",
    "title": {"type": "plain_text", "text": "Deploy"},
    "submit": {"type": "plain_text", "text": "Go"},
    "blocks": [
        {
            "type": "input",
            "block_id": "reason",
            "label": {"type": "plain_text", "text": "Reason"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        },
        {
            "type": "input",
            "block_id": "env",
            "optional": True,
            "label": {"type": "plain_text", "text": "Environment"},
            "element": {
                "type": "static_select",
                "action_id": "choice",
                "options": [
                    {"text": {"type": "plain_text", "text": "dev"}, "value": "dev"},
                    {"text": {"type": "plain_text", "text": "prod"}, "value": "prod"},
                ],
            },
        },
    ],
}


def build_bolt_bot(slack: SlackSandbox, client: AsyncWebClient | None = None) -> AsyncApp:
    """A minimal bot: each /deploy sub-command exercises one way of answering Slack."""
    app = AsyncApp(signing_secret=slack.signing_secret, client=client or slack.web_client())
    _register_command(app)
    _register_interactions(app)
    return app


def _register_command(app: AsyncApp) -> None:
    @app.command("/deploy")
    async def deploy(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, say: AsyncSay) -> None:
        verb = command["text"].split(" ")[0]
        if verb == "hello":
            await ack(f"Hello <@{command['user_id']}>")
            return
        if verb == "announce":
            await ack(response_type="in_channel", text="Deploying web/dev")
            return
        await ack()
        if verb == "status":
            await respond(f"status of {command['text'].removeprefix('status ')}: green")
        elif verb == "propose":
            await say(text="web/dev wants to deploy", blocks=APPROVAL_BLOCKS)
        elif verb == "ask":
            await respond(text="Approve?", blocks=APPROVAL_BLOCKS)
        elif verb == "form":
            await app.client.views_open(trigger_id=command["trigger_id"], view=DEPLOY_MODAL)


def _register_interactions(app: AsyncApp) -> None:
    @app.action("approve")
    async def approve(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await respond(replace_original=True, text=f"Approved by <@{body['user']['id']}>")

    @app.action("discard")
    async def discard(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(delete_original=True)

    @app.action("pick_env")
    async def pick(ack: AsyncAck, action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await respond(f"picked {action['selected_option']['value']}", replace_original=False)

    @app.view("deploy_form")
    async def submitted(ack: AsyncAck, view: dict[str, Any]) -> None:
        reason = view["state"]["values"]["reason"]["text"]["value"]
        if reason == "because":
            await ack(response_action="errors", errors={"reason": "Say more than 'because'"})
            return
        await ack()
        await app.client.chat_postMessage(channel="C_DEPLOYS", text=f"{view['private_metadata']}: {reason}")


async def serve_bolt(app: AsyncApp) -> tuple[web.AppRunner, str]:
    """Serve the Bolt app at ``POST /slack/events`` on a free port, through Bolt's aiohttp adapter."""

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"


@pytest.fixture
async def slack() -> AsyncIterator[SlackSandbox]:
    async with start_slack_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def bot(slack: SlackSandbox) -> AsyncIterator[AsyncApp]:
    """The Bolt bot, served and registered as the sandbox's request URL."""
    app = build_bolt_bot(slack)
    runner, url = await serve_bolt(app)
    await slack.set_request_url(url)
    try:
        yield app
    finally:
        await runner.cleanup()


@pytest.fixture(scope="module")
def threaded_slack() -> Iterator[ThreadedSlack]:
    """A fake Slack for hypothesis tests (sync examples): served from a thread, shared by the module."""
    slack = ThreadedSlack()
    slack.start()
    yield slack
    slack.stop()
