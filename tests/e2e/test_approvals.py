"""The approval flow end to end: policies from real TOML files, clicks and modal submissions from the fake Slack,
deployments counted in the emulator."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.e2e.conftest import CHANNEL, Bot, channel_message, running_bot, text_of
from tests.pulumi_sandbox import PulumiSandbox
from tests.slack_sandbox import SlackSandbox


@pytest.fixture
async def gated(
    slack_sandbox: SlackSandbox,
    pulumi_sandbox: PulumiSandbox,
    redis_url: str,
    redis: object,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Bot]:
    """The bot with the policy a test gives with ``@pytest.mark.policy(toml_text)`` (default: no policy file)."""
    marker = request.node.get_closest_marker("policy")
    extra = {"DEPLOYBOT_POLICY": ""}
    if marker is not None:
        path = tmp_path / "policy.toml"
        path.write_text(marker.args[0])
        extra = {"DEPLOYBOT_POLICY": str(path)}
    async with running_bot("serve", slack_sandbox, pulumi_sandbox, redis_url, **extra) as bot:
        yield bot


async def creates(bot: Bot) -> list[dict[str, Any]]:
    requests = await bot.pulumi.requests()
    return [r for r in requests if r["method"] == "POST" and r["path"].endswith("/deployments")]


async def request_message(bot: Bot, command: str = "update web/dev", user: str = "U_CARA") -> dict[str, Any]:
    result = await bot.slack.command(user, CHANNEL, command)
    [note] = await result.responses()
    assert "needs" in text_of(note)
    return await channel_message(bot, "approval.approve")


async def current(bot: Bot, message: dict[str, Any]) -> dict[str, Any]:
    [now] = [m for m in await bot.slack.messages(CHANNEL) if m["ts"] == message["ts"]]
    return now


async def click(bot: Bot, user: str, message: dict[str, Any], action: str) -> str:
    """Click and return what the clicker was told privately (empty when nothing)."""
    result = await bot.slack.click(user, await current(bot, message), action)
    answers = await bot.slack.responses(result.id, wait=1.0)
    return text_of(answers)


async def test_the_default_policy_wants_one_approval_from_someone_else(gated: Bot) -> None:
    message = await request_message(gated)
    assert "0 of 1" in text_of(message)
    assert await creates(gated) == []  # nothing runs before approval
    told = await click(gated, "U_CARA", message, "approval.approve")
    assert "someone else has to approve" in told
    await click(gated, "U_BEN", message, "approval.approve")
    parent = await channel_message(gated, "approved by <@U_BEN>")
    assert parent["ts"] == message["ts"]  # the request's message became the deployment's parent
    assert "deployment.cancel" in text_of(parent)
    [create] = await creates(gated)
    env = create["body"]["operationContext"]["environmentVariables"]
    assert env["DEPLOYBOT_REQUEST_ID"].startswith("r-")


@pytest.mark.policy('[defaults]\napprovals = 2\napprovers = ["@sre"]\n')
async def test_two_approvals_from_a_user_group(gated: Bot) -> None:
    message = await request_message(gated)
    assert "<!subteam^S_SRE>" in text_of(message)  # approvers in groups are mentioned
    assert "not one of this stack's approvers" in await click(gated, "U_DAN", message, "approval.approve")
    await click(gated, "U_ANA", message, "approval.approve")
    shown = await channel_message(gated, "1 of 2: approved by <@U_ANA>")  # the edit comes after the ack
    assert shown["ts"] == message["ts"]
    assert "already" in await click(gated, "U_ANA", message, "approval.approve")
    await click(gated, "U_BEN", message, "approval.approve")
    await channel_message(gated, "approved by <@U_ANA>, <@U_BEN>")
    assert len(await creates(gated)) == 1


async def test_deny_with_a_reason_closes_it_and_tells_the_requester(gated: Bot) -> None:
    message = await request_message(gated)
    await click(gated, "U_BEN", message, "approval.deny")
    [view] = await gated.slack.views("U_BEN", status="open", min=1)
    await gated.slack.submit("U_BEN", view["id"], {"approval.reason": {"approval.reason": "not on a Friday"}})
    closed = await channel_message(gated, "Denied by <@U_BEN>: not on a Friday")
    assert "approval.approve" not in text_of(closed["blocks"])
    told = await gated.slack.ephemerals("U_CARA", min=1)
    assert "not on a Friday" in text_of(told)
    assert await creates(gated) == []


async def test_only_the_requester_withdraws(gated: Bot) -> None:
    message = await request_message(gated)
    assert "only the person who asked" in await click(gated, "U_BEN", message, "approval.withdraw")
    await click(gated, "U_CARA", message, "approval.withdraw")
    await channel_message(gated, "Withdrawn by <@U_CARA>")
    assert await creates(gated) == []


async def test_an_expired_request_closes_and_cannot_be_approved(gated: Bot) -> None:
    message = await request_message(gated)
    assert await gated.deps.gate.expire_due(datetime.now(UTC) + timedelta(hours=5)) == 1
    await channel_message(gated, "⌛ Expired")
    assert "⌛ Expired" in text_of(await gated.slack.ephemerals("U_CARA", min=2))
    assert "approval.approve" not in text_of((await current(gated, message))["blocks"])


@pytest.mark.policy("[defaults]\nconfirm_destroy = true\n")
async def test_a_destroy_needs_the_stack_name_typed(gated: Bot) -> None:
    message = await request_message(gated, "destroy web/dev")
    await click(gated, "U_BEN", message, "approval.approve")
    [view] = await gated.slack.views("U_BEN", status="open", min=1)
    wrong = await gated.slack.submit("U_BEN", view["id"], {"approval.stack_name": {"approval.stack_name": "web/dev"}})
    assert "Type acme/web/dev exactly" in text_of(wrong.reply)
    assert await creates(gated) == []
    await gated.slack.submit("U_BEN", view["id"], {"approval.stack_name": {"approval.stack_name": "acme/web/dev"}})
    await channel_message(gated, "approved by <@U_BEN>")
    [create] = await creates(gated)
    assert create["body"]["operation"] == "destroy"


@pytest.mark.policy('[defaults]\nallowed_operations = ["preview", "update"]\nrequesters = ["U_ANA", "U_CARA"]\n')
async def test_who_may_request_what(gated: Bot) -> None:
    result = await gated.slack.command("U_BEN", CHANNEL, "update web/dev")
    assert "only <@U_ANA>, <@U_CARA> may request" in text_of(await result.responses())
    result = await gated.slack.command("U_CARA", CHANNEL, "destroy web/dev")
    assert "cannot be requested from Slack" in text_of(await result.responses())
    result = await gated.slack.command("U_CARA", CHANNEL, "preview web/dev")  # allowed, and not gated
    await channel_message(gated, "*preview* `acme/web/dev` #1")
    assert await gated.slack.messages(CHANNEL) != []


async def test_tampered_and_repeated_clicks_change_nothing(gated: Bot) -> None:
    first = await request_message(gated)
    second = await request_message(gated, "update web/prod")
    result = await gated.slack.click("U_BEN", await current(gated, first), "approval.approve")
    payload = result.payload  # a real click, replayed as Slack would on a retry, then with forged values
    answer = await gated.slack.raw(urlencode({"payload": json.dumps(payload)}))
    assert answer["status"] == 200
    # The second request's own id, on the first request's message: a signed delivery, but not the button's.
    [other] = re.findall(r'"value": "(r-[0-9a-f]+)"', text_of((await current(gated, second))["blocks"]))[:1]
    for forged in ("garbage", "r-0000000000000000", "../../x", other):
        payload["actions"][0]["value"] = forged
        payload["trigger_id"] = f"9.9.{forged}"
        await gated.slack.raw(urlencode({"payload": json.dumps(payload)}))
    await channel_message(gated, "approved by <@U_BEN>")
    await asyncio.sleep(0.3)
    assert len(await creates(gated)) == 1
    assert "0 of 1" in text_of((await current(gated, second))["blocks"])


@pytest.mark.policy("[defaults]\nallow_self_approval = true\n")
async def test_twenty_concurrent_approvals_create_one_deployment(gated: Bot) -> None:
    message = await request_message(gated)
    now = await current(gated, message)
    clickers = ["U_ANA", "U_BEN", "U_CARA"] * 7
    await asyncio.gather(*(gated.slack.click(user, now, "approval.approve") for user in clickers[:20]))
    await channel_message(gated, "approved by")
    await asyncio.sleep(0.5)
    assert len(await creates(gated)) == 1


@pytest.mark.policy("[defaults]\npreview_first = true\n")
async def test_preview_first_pins_the_update_to_the_previewed_commit(gated: Bot) -> None:
    await gated.slack.command("U_CARA", CHANNEL, "update web/dev")
    message = await channel_message(gated, "Preview #1 is running")  # the preview exists and is followed
    assert "approval.approve" not in text_of(message["blocks"])
    for _ in range(12):
        await gated.tick()
    opened = await channel_message(gated, "approval.approve")
    previewed = await gated.pulumi.head("https://github.com/acme/web.git")
    assert f"commit `{previewed[:12]}`" in text_of(opened)
    await gated.pulumi.push("https://github.com/acme/web.git", "refs/heads/main")  # someone pushes meanwhile
    await click(gated, "U_BEN", opened, "approval.approve")
    await channel_message(gated, "approved by <@U_BEN>")
    update = [c for c in await creates(gated) if c["body"]["operation"] == "update"]
    assert update[0]["body"]["sourceContext"]["git"] == {"commit": previewed, "branch": None}
    thread = await gated.slack.thread(CHANNEL, message["ts"])
    assert "*preview*" in text_of(thread)  # the preview's story is in the request's thread


@pytest.mark.policy("[defaults]\npreview_first = true\n")
async def test_preview_first_previews_updates_only(gated: Bot) -> None:
    # A preview shows what an update would change; a destroy's approvers are asked at once, and nothing runs first.
    await gated.slack.command("U_CARA", CHANNEL, "destroy web/dev")
    message = await channel_message(gated, "approval.approve")
    assert "Preview" not in text_of(message["blocks"])
    assert await creates(gated) == []
    result = await gated.slack.command("U_CARA", CHANNEL, "policy web/dev")
    [answer] = await result.responses()
    assert "an update runs a preview first" in text_of(answer)


@pytest.mark.policy("[defaults]\npreview_first = true\n")
async def test_a_failed_preview_closes_the_request(gated: Bot) -> None:
    await gated.slack.command("U_CARA", CHANNEL, "update web/dev --env SANDBOX_FAIL_STEP=5")
    await channel_message(gated, "Preview #1 is running")
    for _ in range(12):
        await gated.tick()
    closed = await channel_message(gated, "Could not start")
    assert "approval.approve" not in text_of(closed["blocks"])
    assert len(await creates(gated)) == 1  # the preview only


@pytest.mark.policy('[defaults]\napprovals = 2\napprovers = ["@sre"]\nadmins = ["@sre"]\n')
async def test_the_channel_can_see_what_waits_the_rules_and_the_trail(gated: Bot) -> None:
    message = await request_message(gated)
    result = await gated.slack.command("U_CARA", CHANNEL, "approvals")
    [listing] = await result.responses()
    assert "*update* `acme/web/dev` by <@U_CARA>" in text_of(listing)
    assert "0 of 2" in text_of(listing)
    assert "archives" in text_of(listing)  # a link to the request's message
    result = await gated.slack.command("U_CARA", CHANNEL, "policy web/dev")
    [rule] = await result.responses()
    assert "2 approvals" in text_of(rule)
    await click(gated, "U_ANA", message, "approval.approve")
    await click(gated, "U_BEN", message, "approval.deny")
    [view] = await gated.slack.views("U_BEN", status="open", min=1)
    await gated.slack.submit("U_BEN", view["id"], {"approval.reason": {"approval.reason": "TOKEN=hunter2 oops"}})
    await channel_message(gated, "Denied by <@U_BEN>")
    result = await gated.slack.command("U_CARA", CHANNEL, "audit web/dev")
    [trail] = await result.responses()
    for action in ("requested", "approved", "denied"):
        assert action in text_of(trail), action
    assert "hunter2" not in text_of(trail)
    entries = await gated.deps.audit.recent(stack="acme/web/dev")
    who = {(e.action, e.user, e.user_name) for e in entries}
    assert who >= {("requested", "U_CARA", "cara"), ("approved", "U_ANA", "ana")}


@pytest.mark.policy('[defaults]\nrequire_approval = []\nadmins = ["@sre"]\n')
async def test_admin_only_actions(gated: Bot) -> None:
    result = await gated.slack.command("U_CARA", CHANNEL, "pause --org")
    assert "only <!subteam^S_SRE> may pause a whole organization" in text_of(await result.responses())
    result = await gated.slack.command("U_CARA", CHANNEL, "settings set web/dev tag=x")
    assert "may change deployment settings" in text_of(await result.responses())
    await gated.slack.command("U_ANA", CHANNEL, "update web/dev")
    parent = await channel_message(gated, "deployment.cancel")
    told = await click(gated, "U_CARA", parent, "deployment.cancel")
    assert "cancel someone else's deployment" in told
    assert [r for r in await gated.pulumi.requests() if str(r["path"]).endswith("/cancel")] == []
    await gated.slack.command("U_BEN", CHANNEL, "pause --org")  # an admin may
    await channel_message(gated, "paused deployments for organization")


@pytest.mark.policy('[defaults]\nrequire_approval = []\nadmins = ["@sre"]\n')
async def test_a_non_admin_is_refused_before_the_confirmation_not_after(gated: Bot) -> None:
    await gated.slack.command("U_ANA", CHANNEL, "update web/dev")
    await channel_message(gated, "deployment.cancel")
    result = await gated.slack.command("U_CARA", CHANNEL, "cancel web/dev #1")
    [answer] = await result.responses()
    assert "cancel someone else's deployment" in text_of(answer)
    assert "confirm." not in text_of(answer)  # no Confirm button to press first
    result = await gated.slack.command("U_CARA", CHANNEL, "settings clear web/dev")
    [answer] = await result.responses()
    assert "may clear deployment settings" in text_of(answer)
    assert "confirm." not in text_of(answer)
    result = await gated.slack.command("U_ANA", CHANNEL, "cancel web/dev #1")  # her own: the dialog as before
    [answer] = await result.responses()
    assert "confirm." in text_of(answer)


async def test_two_replicas_approving_at_once_create_one_deployment(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    async with (
        running_bot("serve", slack_sandbox, pulumi_sandbox, redis_url, DEPLOYBOT_POLICY="") as first,
        running_bot("serve", slack_sandbox, pulumi_sandbox, redis_url, stacks=False, DEPLOYBOT_POLICY="") as second,
    ):
        await slack_sandbox.set_request_url(first.url + "/slack/events")
        message = await request_message(first)
        now = await current(first, message)
        seen = await slack_sandbox.click("U_DAN", now, "approval.withdraw")  # a real payload to copy (refused)
        payload = seen.payload | {"user": {"id": "U_BEN", "name": "ben"}, "trigger_id": "7.7.second-replica"}
        payload["actions"] = [dict(payload["actions"][0], action_id="approval.approve")]
        body = urlencode({"payload": json.dumps(payload)})
        stamp = str(int(datetime.now(UTC).timestamp()))
        digest = hmac.new(slack_sandbox.signing_secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": "v0=" + digest.hexdigest(),
        }

        async def through_second() -> None:
            url = second.url + "/slack/events"
            async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
                assert response.status == 200

        await asyncio.gather(slack_sandbox.click("U_ANA", now, "approval.approve"), through_second())
        await channel_message(first, "approved by")
        await asyncio.sleep(0.5)
        assert len(await creates(first)) == 1


async def test_an_invalid_policy_stops_start_up_naming_the_key(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[defaults]\naprovers = ["@sre"]\n')
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SLACK_BOT_TOKEN": "xoxb-x",
        "SLACK_SIGNING_SECRET": "s",
        "PULUMI_ACCESS_TOKEN": "pul-x",
        "DEPLOYBOT_POLICY": str(policy),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert "aprovers" in stderr.decode()
    assert "Traceback" not in stderr.decode()


async def test_a_create_pulumi_refuses_offers_retry_and_the_story_stays_in_one_thread(gated: Bot) -> None:
    await gated.pulumi.add_fault(method="POST", path="/deployments$", status=503, count=1)
    message = await request_message(gated)
    await click(gated, "U_ANA", message, "approval.approve")
    failed = await channel_message(gated, "Could not start")
    assert "approval.retry" in text_of(failed["blocks"])
    await click(gated, "U_CARA", failed, "approval.retry")
    await channel_message(gated, "approved by <@U_ANA>")
    thread = await gated.slack.thread(CHANNEL, message["ts"])
    assert "<@U_ANA> approved (1 of 1)" in text_of(thread)
    assert len([c for c in await creates(gated) if c["status"] == 202]) == 1


async def test_a_create_whose_answer_was_lost_is_adopted_not_repeated(gated: Bot) -> None:
    await gated.pulumi.add_fault(method="POST", path="/deployments$", status=502, afterHandler=True, count=1)
    message = await request_message(gated)
    await click(gated, "U_ANA", message, "approval.approve")
    await channel_message(gated, "approved by <@U_ANA>")  # the deployment Pulumi did create is the one shown
    assert len(await creates(gated)) == 1
