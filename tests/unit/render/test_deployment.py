"""A deployment rendered for Slack: steps with icons and durations, secrets hidden, always within Block Kit limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from bot.pulumi.models import Deployment
from bot.pulumi.stack import StackRef
from bot.render.deployment import deployment_buttons, deployment_message, duration

PAYLOADS = Path(__file__).parents[2] / "payloads" / "pulumi"
STACK = StackRef("my-org", "aws-ts-s3-folder", "dev")
NOW = datetime(2022, 10, 17, 22, 13, 0, tzinfo=UTC)


def running() -> dict[str, Any]:
    return json.loads((PAYLOADS / "deployment_running.json").read_text())  # type: ignore[no-any-return]


def test_the_spec_example_renders_steps_requester_and_hidden_secrets() -> None:
    deployment = Deployment.model_validate(running())
    message = deployment_message(
        deployment, STACK, NOW, requester="U123", console_url="https://app.pulumi.com/x", with_configuration=True
    )
    text = json.dumps(message.block_dicts(), ensure_ascii=False)
    assert "*update* `my-org/aws-ts-s3-folder/dev` #34 — ⟳ running" in text
    assert "✓ 1. Download deployment executor (1s)" in text
    assert "⟳ 2. Get source (17s)" in text  # running: counted up to now
    assert "○ 3. Download dependencies\\n" in text
    assert "<@U123>" in text
    assert "`AWS_SECRET_ACCESS_KEY`=🔒 hidden" in text
    assert "`AWS_REGION`=`us-west-2`" in text
    assert "Pulumi console" in text
    buttons = json.dumps(deployment_message(deployment, STACK, NOW, buttons=True).block_dicts())
    assert "deployment.cancel" in buttons  # still running: cancel offered, behind a confirm dialog
    assert "can leave the stack" in buttons


def test_finished_deployments_offer_no_cancel_and_unknown_statuses_show_as_sent() -> None:
    raw = running()
    raw["status"] = "succeeded"
    finished = deployment_message(Deployment.model_validate(raw), STACK, NOW, buttons=True)
    assert "deployment.cancel" not in json.dumps(finished.block_dicts())
    assert "deployment.logs" in json.dumps(finished.block_dicts())
    raw["status"] = "paused-by-gremlins"
    text = json.dumps(deployment_message(Deployment.model_validate(raw), STACK, NOW).block_dicts())
    assert "? paused-by-gremlins" in text


def test_buttons_are_serialized_once_per_deployment_and_still_validated_by_slack_sdk() -> None:
    """The watcher edits a parent on every change: its buttons' dict is made (and checked) once, and is the same
    Block Kit a freshly built block gives."""
    deployment = Deployment.model_validate(running())
    first, again = deployment_buttons(deployment), deployment_buttons(deployment)
    assert first is again
    fresh = ActionsBlock(elements=[ButtonElement(**element) for element in first.to_dict()["elements"]]).to_dict()
    assert first.to_dict() == fresh
    assert [e["action_id"] for e in fresh["elements"]] == ["deployment.cancel", "deployment.logs"]
    assert all(e["value"] == deployment.id for e in fresh["elements"])
    with pytest.raises(SlackObjectFormationError):  # a value over Block Kit's 2,000 characters
        deployment_buttons(deployment.model_copy(update={"id": "x" * 2001}))


def test_user_text_cannot_ping_or_link() -> None:
    raw = running()
    raw["jobs"][0]["steps"][0]["name"] = "<!channel> <https://evil|click>"
    message = deployment_message(Deployment.model_validate(raw), STACK, NOW, message="<!here> deploy")
    text = json.dumps(message.block_dicts())
    assert "<!channel>" not in text
    assert "<!here>" not in text
    assert "&lt;!channel&gt;" in text


@given(
    names=st.lists(st.text(min_size=1, max_size=500), min_size=1, max_size=300),
    message=st.text(max_size=5000),
)
def test_any_steps_and_message_stay_within_block_kit_limits(names: list[str], message: str) -> None:
    raw = running()
    step = raw["jobs"][0]["steps"][0]
    raw["jobs"][0]["steps"] = [dict(step, name=name) for name in names]
    rendered = deployment_message(Deployment.model_validate(raw), STACK, NOW, message=message, buttons=True)
    blocks = rendered.block_dicts()  # slack_sdk raises on any violated limit
    assert len(blocks) <= 50
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000


def test_durations_read_naturally() -> None:
    assert [duration(s) for s in (0, 59, 60, 125, 3600, 3725)] == ["0s", "59s", "1m 00s", "2m 05s", "1h 00m", "1h 02m"]
