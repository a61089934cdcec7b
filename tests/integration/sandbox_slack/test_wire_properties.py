"""Argument parsing is encoding-blind: whatever text goes in by query, form or JSON is the text Slack stores."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.sandbox_slack.threaded import ThreadedSlack

# Any Unicode except surrogates (not encodable) and NUL; Slack keeps the text as sent, within 4000 characters.
_texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=300)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_texts.filter(str.strip), encoding=st.sampled_from(["query", "form", "json"]))
def test_text_survives_every_encoding(threaded_slack: ThreadedSlack, text: str, encoding: str) -> None:
    args = {"channel": "C_DEPLOYS", "text": text}
    if encoding == "query":
        answer = threaded_slack.call("chat.postMessage", query=args)
    elif encoding == "form":
        answer = threaded_slack.call("chat.postMessage", form=args)
    else:
        answer = threaded_slack.call("chat.postMessage", json_args=args)

    assert answer["ok"], answer
    assert answer["message"]["text"] == text


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(channel_in=st.sampled_from(["query", "form"]), text_in=st.sampled_from(["query", "form", "json"]))
def test_arguments_merge_across_query_and_body(threaded_slack: ThreadedSlack, channel_in: str, text_in: str) -> None:
    parts: dict[str, dict[str, str]] = {"query": {}, "form": {}, "json": {}}
    parts[channel_in]["channel"] = "C_DEPLOYS"
    parts[text_in]["text"] = "merged"
    if parts["json"] and parts["form"]:
        # One body per request: form fields move to the query string when the body is JSON.
        parts["query"] |= parts.pop("form")

    answer = threaded_slack.call(
        "chat.postMessage",
        query=parts.get("query") or None,
        form=parts.get("form") or None,
        json_args=parts.get("json") or None,
    )

    assert (answer["ok"], answer["channel"], answer["message"]["text"]) == (True, "C_DEPLOYS", "merged")
