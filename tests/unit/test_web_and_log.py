"""The Bolt request correction for "payload" in command text, and log lines that never carry secrets."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

from bot.log import JsonFormatter, quiet_body_loggers, scrub
from bot.web import SlackRequest

FORM = {"content-type": "application/x-www-form-urlencoded"}


def test_command_text_containing_payload_is_not_lost() -> None:
    body = urlencode({"command": "/deploy", "text": "settings set web/dev payload=x", "user_id": "U1", "team_id": "T1"})
    request = SlackRequest(body=body, query="", headers=FORM)
    assert request.body["text"] == "settings set web/dev payload=x"
    assert request.context.user_id == "U1"
    assert request.to_copyable().body["text"] == "settings set web/dev payload=x"


def test_real_interactivity_payloads_still_parse() -> None:
    payload = {"type": "block_actions", "user": {"id": "U2"}, "team": {"id": "T1"}, "actions": []}
    request = SlackRequest(body=urlencode({"payload": json.dumps(payload)}), query="", headers=FORM)
    assert request.body["type"] == "block_actions"


def test_scrub_hides_token_shapes() -> None:
    pulumi = "pul-0123456789abcdef0123456789abcdef01234567"
    line = f"token xoxb-1234-5678-abcdef and {pulumi} and Authorization: token sekrit"
    cleaned = scrub(line)
    assert "xoxb-1234-5678-abcdef" not in cleaned
    assert pulumi not in cleaned
    assert "sekrit" not in cleaned


def test_json_lines_carry_extra_fields_and_no_secrets() -> None:
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "posted %s", ("xapp-1-A1-secretvalue",), None)
    record.deployment_id = "d-1"
    entry = json.loads(JsonFormatter().format(record))
    assert entry["deployment_id"] == "d-1"
    assert entry["level"] == "info"
    assert "secretvalue" not in entry["msg"]


def test_body_logging_libraries_stay_at_info_even_when_debug_is_asked() -> None:
    logging.getLogger("slack_bolt").setLevel(logging.DEBUG)
    quiet_body_loggers()
    assert logging.getLogger("slack_bolt").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("slack_sdk.web.async_base_client").getEffectiveLevel() >= logging.INFO
