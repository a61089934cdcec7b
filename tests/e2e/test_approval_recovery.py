"""The approval flow when creating goes wrong, and what requesters and approvers are shown: a lost update create never
adopts the preview, a request is never stuck in ``creating``, the requester hears before the preview runs, and
approvers see every override. Real Redis, the emulator's faults, the fake Slack's logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bot import approvals
from tests.e2e.conftest import CHANNEL, Bot, channel_message, text_of
from tests.e2e.test_approvals import click, creates, gated, request_message  # noqa: F401  # gated: the fixture

PREVIEW_FIRST = "[defaults]\npreview_first = true\n"
STUCK = timedelta(minutes=10)  # past the few minutes a create may take before the expiry chore steps in


def request_id(message: dict[str, Any]) -> str:
    """The request id the message's buttons carry."""
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if str(element.get("action_id", "")).startswith("approval."):
                return str(element["value"])
    raise AssertionError(f"no approval button in {text_of(message)[:500]}")


def sections(message: dict[str, Any]) -> str:
    """The message's mrkdwn (sections and context lines) as Slack shows it, not JSON-quoted."""
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    texts += [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"] if "text" in e]
    return "\n".join(texts)


def instant(rfc3339: str) -> float:
    """Seconds since the epoch of the emulator's nanosecond timestamps (fromisoformat takes at most 6 digits)."""
    whole, _, fraction = rfc3339.removesuffix("Z").partition(".")
    return datetime.fromisoformat(whole).replace(tzinfo=UTC).timestamp() + float("0." + (fraction or "0"))


async def previewed_request(bot: Bot) -> dict[str, Any]:
    """A preview_first request whose preview succeeded: the message offering Approve."""
    await bot.slack.command("U_CARA", CHANNEL, "update web/dev")
    await channel_message(bot, "Preview #1 is running")
    for _ in range(12):
        await bot.tick()
    return await channel_message(bot, "approval.approve")


@pytest.mark.policy(PREVIEW_FIRST)
async def test_a_lost_update_create_never_adopts_the_preview(gated: Bot) -> None:  # noqa: F811
    opened = await previewed_request(gated)
    rid = request_id(opened)
    stored = await gated.deps.requests.get(rid)
    assert stored is not None
    assert stored.preview is not None
    preview_id = stored.preview.deployment_id
    await gated.pulumi.add_fault(method="POST", path="/deployments$", status=502, count=1)
    await click(gated, "U_BEN", opened, "approval.approve")
    failed = await channel_message(gated, "Could not start")  # nothing of this request's operation was made
    after = await gated.deps.requests.get(rid)
    assert after is not None
    assert (after.state, after.deployment_id) == ("failed", None)  # the preview was not taken for the update
    await click(gated, "U_BEN", failed, "approval.retry")
    parent = await channel_message(gated, "*update* `acme/web/dev` #2")
    assert parent["ts"] == opened["ts"]
    made = [c for c in await creates(gated) if c["status"] == 202]
    assert [c["body"]["operation"] for c in made] == ["preview", "update"]
    running = await gated.deps.requests.get(rid)
    assert running is not None
    assert running.state == "running"
    assert running.deployment_id not in (None, preview_id)
    await gated.pulumi.run_until_idle()
    await gated.watcher.poll_once()
    await channel_message(gated, "*update* `acme/web/dev` #2 — ✓ succeeded")


async def test_pulumi_unreachable_during_create_fails_with_retry_instead_of_sticking(gated: Bot) -> None:  # noqa: F811
    message = await request_message(gated)
    rid = request_id(message)
    # The create gets a 503, and so does every look for what it may have made (the client's retries included).
    await gated.pulumi.add_fault(path="/deployments$", status=503)
    await click(gated, "U_BEN", message, "approval.approve")
    failed = await channel_message(gated, "Could not start", within=20)
    assert "could not be asked whether the deployment exists" in sections(failed)
    assert "approval.retry" in text_of(failed["blocks"])
    stuck = await gated.deps.requests.get(rid)
    assert stuck is not None
    assert stuck.state == "failed"
    await gated.pulumi.clear_faults()
    await click(gated, "U_CARA", failed, "approval.retry")
    await channel_message(gated, "deployment.cancel")
    assert len([c for c in await creates(gated) if c["status"] == 202]) == 1


async def test_a_request_left_in_creating_is_failed_by_the_expiry_chore(gated: Bot) -> None:  # noqa: F811
    message = await request_message(gated)
    rid = request_id(message)
    now = datetime.now(UTC)
    # A replica won the move to creating, then died before creating anything.
    await gated.deps.requests.change(rid, approvals.approve("U_BEN", now, may_approve=True, self_approval=False))
    assert await gated.deps.gate.expire_due(now + timedelta(seconds=30)) == 0  # still within its grace period
    assert await gated.deps.gate.expire_due(now + STUCK) == 1
    failed = await channel_message(gated, "Could not start")
    assert "Pulumi has no deployment for it" in sections(failed)
    await click(gated, "U_BEN", failed, "approval.retry")
    await channel_message(gated, "deployment.cancel")
    assert len(await creates(gated)) == 1


async def test_a_request_left_in_creating_adopts_what_pulumi_made(gated: Bot) -> None:  # noqa: F811
    message = await request_message(gated)
    rid = request_id(message)
    now = datetime.now(UTC)
    await gated.deps.requests.change(rid, approvals.approve("U_BEN", now, may_approve=True, self_approval=False))
    # The replica's create reached Pulumi, and the replica died before recording it.
    body = {"operation": "update", "operationContext": {"environmentVariables": {approvals.REQUEST_ID_ENV: rid}}}
    url = f"{gated.pulumi.url}/api/stacks/acme/web/dev/deployments"
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=gated.pulumi.headers()) as r:
        assert r.status == 202
        made = (await r.json())["id"]
    assert await gated.deps.gate.expire_due(now + STUCK) == 1
    parent = await channel_message(gated, "deployment.cancel")
    assert parent["ts"] == message["ts"]
    adopted = await gated.deps.requests.get(rid)
    assert adopted is not None
    assert (adopted.state, adopted.deployment_id) == ("running", made)
    assert len(await creates(gated)) == 1  # the one the replica made; no second


@pytest.mark.policy(PREVIEW_FIRST)
async def test_the_requester_hears_approval_is_needed_before_the_preview_runs(gated: Bot) -> None:  # noqa: F811
    result = await gated.slack.command("U_CARA", CHANNEL, "update web/dev")
    await channel_message(gated, "Preview #1 is running")
    told = [
        call
        for call in await gated.slack.calls("chat.postEphemeral", min=1)
        if call["args"].get("user") == "U_CARA" and "needs one approval" in text_of(call["args"])
    ]
    assert told, "the requester was not told in the channel"
    [preview] = [c for c in await creates(gated) if c["body"]["operation"] == "preview"]
    assert told[0]["at"] < instant(preview["at"])  # told before the preview was created
    [answer] = await result.responses()
    assert "Preview #1 is running" in text_of(answer)  # then the command's answer says how the preview started


async def test_approvers_see_every_override(gated: Bot) -> None:  # noqa: F811
    fork = "https://github.com/mallory/web.git"
    command = f"update web/dev --set sourceContext.git.repoUrl={fork} --set executorContext.executorImage=evil/x:1"
    message = await request_message(gated, command)
    shown = sections(message)
    assert f'sourceContext.git.repoUrl = "{fork}"' in shown
    assert 'executorContext.executorImage.reference = "evil/x:1"' in shown
