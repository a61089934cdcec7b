"""Uploads through slack_sdk's files_upload_v2, and request signing as Bolt's verification sees it."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.sandbox.slack.signing import signature
from tests.slack_sandbox import SlackSandbox, start_slack_sandbox


async def test_files_upload_v2_lands_in_the_channel_thread(slack: SlackSandbox) -> None:
    client = slack.web_client()
    parent = await client.chat_postMessage(channel="C_DEPLOYS", text="deploy #9 failed")

    response = await client.files_upload_v2(
        channel="C_DEPLOYS",
        thread_ts=parent["ts"],
        filename="deploy-9.log",
        content="step 1 ok\nstep 2 failed\n",
        initial_comment="full log",
    )

    assert response["file"]["name"] == "deploy-9.log"
    [upload] = await slack.uploads()
    assert (upload["filename"], upload["content"], upload["channel"], upload["thread_ts"]) == (
        "deploy-9.log",
        "step 1 ok\nstep 2 failed\n",
        "C_DEPLOYS",
        parent["ts"],
    )
    assert upload["length"] == upload["declared_length"] == len(b"step 1 ok\nstep 2 failed\n")
    _, reply = await slack.thread("C_DEPLOYS", parent["ts"])
    assert (reply["text"], reply["files"][0]["id"]) == ("full log", upload["id"])


async def test_completing_an_upload_that_never_arrived_fails(slack: SlackSandbox) -> None:
    client = slack.web_client()
    started = await client.files_getUploadURLExternal(filename="x.txt", length=3)

    with pytest.raises(SlackApiError) as raised:
        await client.files_completeUploadExternal(files=[{"id": started["file_id"]}], channel_id="C_DEPLOYS")

    assert raised.value.response["error"] == "file_not_found"
    assert await slack.uploads() == []


async def test_sharing_into_a_channel_needs_membership(slack: SlackSandbox) -> None:
    client = slack.web_client()

    with pytest.raises(SlackApiError) as raised:
        await client.files_upload_v2(channel="C_RANDOM", filename="x.txt", content="x")

    assert raised.value.response["error"] == "not_in_channel"


def test_the_signature_matches_slacks_published_example() -> None:
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )

    assert signature("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body) == (
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


@pytest.mark.parametrize(("mode", "status"), [("valid", 200), ("none", 401), ("stale", 401), ("forged", 401)])
async def test_bolt_rejects_what_slack_did_not_sign(slack: SlackSandbox, bot: AsyncApp, mode: str, status: int) -> None:
    body = "token=t&team_id=T_SANDBOX&channel_id=C_DEPLOYS&user_id=U_ANA&command=%2Fdeploy&text=hello"

    answer = await slack.raw(body, signature=mode)

    assert answer["status"] == status
    if status == 401:
        assert answer["body"] == '{"error": "invalid request"}'


async def test_a_bot_that_does_not_answer_in_time_is_a_timeout() -> None:
    release = asyncio.Event()

    async def stall(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response()

    stalling = web.Application()
    stalling.router.add_post("/slack/events", stall)
    runner, url = await _serve(stalling)
    try:
        async with start_slack_sandbox(ack_timeout=0.2, request_url=url) as slack:
            result = await slack.command("U_ANA", "C_DEPLOYS", "hello")

            assert (result.status, result.error) == (None, "operation_timeout")
            assert await slack.ephemerals() == []
    finally:
        release.set()
        await runner.cleanup()


async def test_an_unreachable_bot_is_a_dispatch_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with start_slack_sandbox(request_url=f"http://127.0.0.1:{port}/slack/events") as slack:
        result = await slack.command("U_ANA", "C_DEPLOYS", "hello")

    assert result.error == "dispatch_failed"


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
