"""Events API: a mention gets a threaded pointer to /deploy help, once per event_id however often Slack retries."""

from __future__ import annotations

import json
import time

from tests.e2e.conftest import CHANNEL, Bot, eventually, text_of


async def test_a_mention_is_answered_in_a_thread(bot: Bot) -> None:
    result = await bot.slack.event(
        {"type": "app_mention", "user": "U_BEN", "channel": CHANNEL, "text": "<@U_DEPLOYBOT> hi", "ts": "1.000100"}
    )
    assert result.error is None
    thread = await eventually(
        lambda: bot.slack.thread(CHANNEL, "1.000100"), lambda t: "/deploy help" in text_of(t), within=5
    )
    assert "<@U_BEN>" in text_of(thread)


async def test_a_retried_event_is_answered_once(http_bot: Bot) -> None:
    envelope = {
        "type": "event_callback",
        "team_id": "T_SANDBOX",
        "api_app_id": "A_DEPLOYBOT",
        "event_id": "Ev_RETRIED",
        "event_time": int(time.time()),
        "event": {"type": "app_mention", "user": "U_BEN", "channel": CHANNEL, "text": "hi", "ts": "2.000200"},
    }
    for _ in range(3):
        answer = await http_bot.slack.raw(json.dumps(envelope), content_type="application/json")
        assert answer["status"] == 200
    # A later, different event: once it is answered, the retries (handled before it) have had their chance.
    sentinel = envelope | {"event_id": "Ev_LATER", "event": dict(envelope["event"], ts="3.000300")}  # type: ignore[call-overload]
    await http_bot.slack.raw(json.dumps(sentinel), content_type="application/json")
    await eventually(lambda: http_bot.slack.calls("chat.postMessage"), lambda calls: "3.000300" in text_of(calls))
    replies = [c for c in await http_bot.slack.calls("chat.postMessage") if "2.000200" in text_of(c)]
    assert len(replies) == 1
