"""The recorded Slack payloads in tests/payloads/slack, fed to the code that reads them: our boundary types
(bot/slack_payload.py), the modal handler's reading of a submission, and slack_sdk's Socket Mode envelope parser.

The fixtures are shaped after the Slack reference (shared/reference/slack-platform.md): view_submission after §2
"Modals" (Bolt's test_view_submission.py fixture), the event_callback after §9 "Payload fixtures usable as test
vectors" (Bolt's test_events_request_verification.py app_mention body), and the Socket Mode envelopes after §7
"Envelope" and §9 (Bolt's mock_socket_mode_server.py). Every id and token in them is made up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.socket_mode.request import SocketModeRequest

from bot import ids
from bot.render.modal import confirm_destroy_modal
from bot.slack_payload import Click, SlashCommand
from handlers.views import _value  # the one function the modal handlers read submitted values with

PAYLOADS = Path(__file__).parents[1] / "payloads" / "slack"
ENVELOPES = ("socket_mode_slash_commands.json", "socket_mode_interactive.json", "socket_mode_events_api.json")


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())  # type: ignore[no-any-return]


def test_no_fixture_carries_a_real_looking_token() -> None:
    for path in PAYLOADS.glob("*.json"):
        text = path.read_text()
        assert "xoxb-" not in text, path.name
        assert "xapp-" not in text, path.name
        assert "xoxp-" not in text, path.name


def test_a_view_submission_is_read_as_the_destroy_modal_handler_reads_it() -> None:
    body = load("view_submission.json")
    assert body["type"] == "view_submission"
    assert body["view"]["callback_id"] == ids.VIEW_CONFIRM_DESTROY
    request_id, _, stack = body["view"]["private_metadata"].partition("|")
    assert (request_id, stack) == ("r-0000000000fake00", "acme/web/prod")
    assert _value(body, ids.INPUT_STACK_NAME) == "acme/web/prod"
    assert _value(body, ids.INPUT_REASON) == ""  # an input the modal does not have reads as empty
    assert body["user"]["id"] == "U0FAKEUSER"


def test_the_view_submission_fixture_is_the_modal_we_render() -> None:
    """Slack echoes the view we opened (adding block ids, emoji flags, …): the inputs must be ours."""
    ours = confirm_destroy_modal("r-0000000000fake00", "acme/web/prod")
    theirs = load("view_submission.json")["view"]
    assert theirs["private_metadata"] == ours["private_metadata"]
    assert [(b["type"], b.get("block_id")) for b in theirs["blocks"] if b["type"] == "input"] == [
        (b["type"], b.get("block_id")) for b in ours["blocks"] if b["type"] == "input"
    ]
    [our_input] = [b["element"] for b in ours["blocks"] if b["type"] == "input"]
    [their_input] = [b["element"] for b in theirs["blocks"] if b["type"] == "input"]
    assert (their_input["type"], their_input["action_id"]) == (our_input["type"], our_input["action_id"])
    assert set(theirs["state"]["values"]) == {ids.INPUT_STACK_NAME}


def test_an_app_mention_carries_what_the_mention_handler_reads() -> None:
    body = load("app_mention.json")
    assert body["type"] == "event_callback"
    event = body["event"]
    assert event["type"] == "app_mention"
    assert isinstance(body["event_id"], str)  # the dedupe key
    assert isinstance(event["channel"], str)
    assert event["ts"] == event["event_ts"]  # the reply is threaded on ts


@pytest.mark.parametrize("name", ENVELOPES)
def test_socket_mode_envelopes_parse_as_slack_sdk_parses_them(name: str) -> None:
    envelope = load(name)
    request = SocketModeRequest.from_dict(envelope)
    assert request is not None
    assert request.envelope_id == envelope["envelope_id"]
    assert request.type in {"slash_commands", "interactive", "events_api"}
    assert request.payload == envelope["payload"]
    # §7: only commands (and view submissions) accept a payload in the ack.
    assert request.accepts_response_payload is (request.type == "slash_commands")


def test_a_socket_mode_slash_command_becomes_our_command() -> None:
    command = SlashCommand.from_body(load("socket_mode_slash_commands.json")["payload"])
    assert (command.user_id, command.channel_id, command.text) == ("U0FAKEUSER", "C0FAKECHAN", "status web/dev #12")
    # Over Socket Mode the payload is the same flat command as over HTTP (only the transport differs).
    assert set(load("socket_mode_slash_commands.json")["payload"]) == set(load("slash_command.json")) - {
        "enterprise_id",
        "enterprise_name",
    }


def test_a_socket_mode_click_becomes_our_click() -> None:
    click = Click.from_body(load("socket_mode_interactive.json")["payload"])
    assert (click.action_id, click.value) == (ids.LIST_NEXT, "0fakevalue0000000")
    assert (click.channel_id, click.message_ts, click.is_ephemeral) == ("C0FAKECHAN", "1595926230.009600", True)


def test_a_socket_mode_event_wraps_the_same_event_callback_as_http() -> None:
    envelope = load("socket_mode_events_api.json")
    assert (envelope["retry_attempt"], envelope["retry_reason"]) == (1, "timeout")  # §3: Bolt's wording
    assert set(envelope["payload"]) == set(load("app_mention.json"))
    assert set(envelope["payload"]["event"]) == set(load("app_mention.json")["event"])
