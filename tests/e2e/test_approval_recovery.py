"""The approval flow when creating goes wrong: a lost update create never adopts the preview.
Real Redis, the emulator's faults, the fake Slack."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import CHANNEL, Bot, channel_message, text_of
from tests.e2e.test_approvals import click, creates, gated  # noqa: F401  # gated: the fixture

PREVIEW_FIRST = "[defaults]\npreview_first = true\n"


def request_id(message: dict[str, Any]) -> str:
    """The request id the message's buttons carry."""
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if str(element.get("action_id", "")).startswith("approval."):
                return str(element["value"])
    raise AssertionError(f"no approval button in {text_of(message)[:500]}")


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
