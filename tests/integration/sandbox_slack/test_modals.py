"""Modals: trigger_id rules, view limits, views.update/push, and submissions with Slack's response_action."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from tests.integration.sandbox_slack.conftest import DEPLOY_MODAL
from tests.slack_sandbox import SandboxError, SlackSandbox


async def _open_form(slack: SlackSandbox) -> dict[str, Any]:
    await slack.command("U_ANA", "C_DEPLOYS", "form")
    [view] = await slack.views("U_ANA", status="open", min=1)
    return view


async def _trigger(slack: SlackSandbox) -> str:
    """A fresh trigger_id, as the bot would get it from a command."""
    return (await slack.command("U_ANA", "C_DEPLOYS", "hello")).trigger_id


async def _error(call: Any) -> tuple[str, list[str]]:
    with pytest.raises(SlackApiError) as raised:
        await call
    response = raised.value.response
    assert response.status_code == 200
    return response["error"], response.get("response_metadata", {}).get("messages", [])


async def test_a_command_trigger_opens_the_modal(slack: SlackSandbox, bot: AsyncApp) -> None:
    view = await _open_form(slack)

    assert (view["callback_id"], view["private_metadata"], view["root_view_id"]) == (
        "deploy_form",
        "web/dev",
        view["id"],
    )
    assert [c["ok"] for c in await slack.calls("views.open")] == [True]


async def test_a_trigger_is_single_use_and_lives_three_seconds(slack: SlackSandbox, bot: AsyncApp) -> None:
    client = slack.web_client()
    trigger = await _trigger(slack)
    await client.views_open(trigger_id=trigger, view=DEPLOY_MODAL)
    assert await _error(client.views_open(trigger_id=trigger, view=DEPLOY_MODAL)) == ("exchanged_trigger_id", [])

    late = await _trigger(slack)
    await slack.advance_clock(3.5)
    assert await _error(client.views_open(trigger_id=late, view=DEPLOY_MODAL)) == ("expired_trigger_id", [])
    assert await _error(client.views_open(trigger_id="1.2.abc", view=DEPLOY_MODAL)) == ("invalid_trigger_id", [])


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"title": {"type": "plain_text", "text": "t" * 25}}, "/view/title/text"),
        ({"submit": {"type": "plain_text", "text": "s" * 25}}, "/view/submit/text"),
        ({"close": {"type": "plain_text", "text": "c" * 25}}, "/view/close/text"),
        ({"private_metadata": "m" * 3001}, "/view/private_metadata"),
        ({"callback_id": "c" * 256}, "/view/callback_id"),
        ({"submit": None}, "/view/submit"),
        ({"blocks": [{"type": "divider"}] * 101}, "/view/blocks"),
    ],
)
async def test_views_over_the_limits_are_refused(
    slack: SlackSandbox, bot: AsyncApp, change: dict[str, Any], pointer: str
) -> None:
    view = {k: v for k, v in (DEPLOY_MODAL | change).items() if v is not None}

    error, messages = await _error(slack.web_client().views_open(trigger_id=await _trigger(slack), view=view))

    assert error == "invalid_arguments"
    assert any(m.endswith(f"[json-pointer:{pointer}]") for m in messages), messages


async def test_a_huge_view_is_too_large(slack: SlackSandbox, bot: AsyncApp) -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3000}}
    view = DEPLOY_MODAL | {"blocks": [section] * 90}

    error, _ = await _error(slack.web_client().views_open(trigger_id=await _trigger(slack), view=view))

    assert error == "view_too_large"


async def test_a_submission_carries_state_values_and_closes_the_modal(slack: SlackSandbox, bot: AsyncApp) -> None:
    view = await _open_form(slack)

    result = await slack.submit("U_ANA", view["id"], {"reason": {"text": "hotfix"}, "env": {"choice": "prod"}})

    payload = result.payload
    assert payload["type"] == "view_submission"
    values = payload["view"]["state"]["values"]
    assert values["reason"]["text"] == {"type": "plain_text_input", "value": "hotfix"}
    assert values["env"]["choice"]["selected_option"]["value"] == "prod"
    assert result.effect == {"view": "closed"}
    [posted] = await slack.messages("C_DEPLOYS", min=1)
    assert posted["text"] == "web/dev: hotfix"
    assert await slack.views("U_ANA", status="open") == []


async def test_response_action_errors_keeps_the_modal_open(slack: SlackSandbox, bot: AsyncApp) -> None:
    view = await _open_form(slack)

    result = await slack.submit("U_ANA", view["id"], {"reason": {"text": "because"}})

    assert result.effect == {"view": "errors", "errors": {"reason": "Say more than 'because'"}}
    [still_open] = await slack.views("U_ANA", status="open")
    assert still_open["errors"] == {"reason": "Say more than 'because'"}


async def test_a_required_input_must_be_filled_before_submitting(slack: SlackSandbox, bot: AsyncApp) -> None:
    view = await _open_form(slack)

    with pytest.raises(SandboxError, match="input 'reason' is required"):
        await slack.submit("U_ANA", view["id"], {"env": {"choice": "dev"}})
    with pytest.raises(SandboxError, match="no input block"):
        await slack.submit("U_ANA", view["id"], {"reason": {"text": "x"}, "nope": {"a": "b"}})
    with pytest.raises(SandboxError, match="open for U_ANA"):
        await slack.submit("U_BEN", view["id"], {"reason": {"text": "x"}})


async def test_views_update_checks_the_hash_and_keeps_typed_values(slack: SlackSandbox, bot: AsyncApp) -> None:
    view = await _open_form(slack)
    client = slack.web_client()
    changed = copy.deepcopy(DEPLOY_MODAL)
    changed["title"]["text"] = "Deploy now"

    updated = await client.views_update(view_id=view["id"], hash=view["hash"], view=changed)
    assert updated["view"]["title"]["text"] == "Deploy now"
    assert await _error(client.views_update(view_id=view["id"], hash=view["hash"], view=changed)) == (
        "hash_conflict",
        [],
    )
    assert await _error(client.views_update(view_id="V_NOPE", view=changed)) == ("not_found", [])


async def test_views_push_needs_a_modal_and_stops_at_three(slack: SlackSandbox, bot: AsyncApp) -> None:
    view = await _open_form(slack)
    client = slack.web_client()
    next_button = {"type": "button", "action_id": "next", "text": {"type": "plain_text", "text": "Next"}}
    step = DEPLOY_MODAL | {"callback_id": "step", "blocks": [{"type": "actions", "elements": [next_button]}]}
    view = (await client.views_update(view_id=view["id"], view=step))["view"]
    assert await _error(client.views_push(trigger_id=await _trigger(slack), view=step)) == ("not_found", [])

    top = view
    for _ in range(2):
        pushed_from = await slack.click_in_view("U_ANA", top["id"], "next")
        top = (await client.views_push(trigger_id=pushed_from.trigger_id, view=step))["view"]
    last = await slack.click_in_view("U_ANA", top["id"], "next")

    assert await _error(client.views_push(trigger_id=last.trigger_id, view=step)) == ("push_limit_reached", [])
    assert len(await slack.views("U_ANA", status="open")) == 3


async def test_an_input_without_dispatch_action_only_remembers_its_value(slack: SlackSandbox, bot: AsyncApp) -> None:
    view = await _open_form(slack)

    changed = await slack.click_in_view("U_ANA", view["id"], "choice", value="prod")
    result = await slack.submit("U_ANA", view["id"], {"reason": {"text": "hotfix"}})

    assert changed.record["delivered"] is False
    assert result.payload["view"]["state"]["values"]["env"]["choice"]["selected_option"]["value"] == "prod"
