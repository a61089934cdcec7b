"""The boundary where Slack's payloads (recorded in tests/payloads/slack, shaped as Slack documents them) become
our types; anything malformed is a PayloadError, never a KeyError deep inside a handler."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack_payload import Click, PayloadError, SlashCommand

PAYLOADS = Path(__file__).parents[1] / "payloads" / "slack"


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())  # type: ignore[no-any-return]


def test_a_slash_command() -> None:
    command = SlashCommand.from_body(load("slash_command.json"))
    assert (command.user_id, command.channel_id) == ("U2147483697", "C2147483705")
    assert command.text == "status web/dev #12"
    assert command.trigger_id == "13345224609.738474920.8088930838d88f008e0"


def test_a_button_click() -> None:
    click = Click.from_body(load("block_actions.json"))
    assert click.action_id == "deployment.cancel"
    assert click.value == "9e5e1331-a018-4845-8714-1598ba8dc52e"
    assert (click.user_id, click.channel_id, click.message_ts) == ("W111", "C111", "111.222")
    assert click.delivery_id == "111.222.valid"
    assert click.is_ephemeral is False


@pytest.mark.parametrize("drop", ["user_id", "channel_id", "trigger_id"])
def test_a_command_missing_what_every_command_has(drop: str) -> None:
    body = load("slash_command.json")
    del body[drop]
    with pytest.raises(PayloadError):
        SlashCommand.from_body(body)


json_values = st.recursive(
    st.none() | st.text() | st.integers(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)
)


@given(json_values)
def test_any_json_is_a_click_or_a_payload_error(value: Any) -> None:
    body = load("block_actions.json")
    body["actions"] = value
    try:
        click = Click.from_body(body)
    except PayloadError:
        return
    assert isinstance(click.action_id, str)
