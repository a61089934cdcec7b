"""Text for Slack: escaping that defuses mentions and links, truncation that stays within limits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.command import SPECS
from bot.render.help import _packed, help_message
from bot.render.text import ELLIPSIS, SECTION_TEXT, code_block, escape, truncate, truncate_escaped


def test_escape_defuses_mentions_and_links() -> None:
    assert escape("<!channel> & <https://evil|click>") == "&lt;!channel&gt; &amp; &lt;https://evil|click&gt;"


@given(st.text(), st.integers(min_value=1, max_value=300))
def test_truncate_stays_within_the_limit_and_shows_the_cut(text: str, limit: int) -> None:
    cut = truncate(text, limit)
    assert len(cut) <= limit
    assert cut == text or cut.endswith(ELLIPSIS)


@given(st.text(alphabet="<>&ab", max_size=200), st.integers(min_value=1, max_value=120))
def test_escaped_truncation_never_splits_an_entity(text: str, limit: int) -> None:
    cut = truncate_escaped(text, limit)
    assert len(cut) <= limit
    assert "<" not in cut
    assert ">" not in cut
    body = cut.removesuffix(ELLIPSIS)
    # every "&" that remains starts a whole entity
    for index, char in enumerate(body):
        if char == "&":
            assert body[index:].startswith(("&amp;", "&lt;", "&gt;"))


@given(st.lists(st.text(max_size=400), max_size=60), st.integers(min_value=20, max_value=3000))
def test_code_blocks_fit_and_cannot_be_closed_early(lines: list[str], limit: int) -> None:
    block = code_block(lines, limit)
    assert len(block) <= limit
    assert block.startswith("```\n")
    assert block.endswith("\n```")
    assert "```" not in block[4:-4]


def test_code_blocks_keep_the_newest_lines() -> None:
    block = code_block([f"line {i}" for i in range(1000)], 200)
    assert "line 999" in block
    assert "line 0\n" not in block
    assert ELLIPSIS in block


def test_help_lists_every_command_and_details_one() -> None:
    everything = str(help_message().block_dicts())
    for verb in ("update|preview|refresh|destroy", "status", "list", "logs", "cancel", "pause", "resume", "info"):
        assert f"/deploy {verb}" in everything
    assert "settings set" in everything
    detail = str(help_message("logs").block_dicts())
    assert "--count" in detail
    assert "Examples" in detail


def test_the_overview_shows_an_example_of_every_command_and_stays_in_sections_of_3000() -> None:
    blocks = help_message().block_dicts()
    sections = [block["text"]["text"] for block in blocks if block["type"] == "section"]
    assert all(len(text) <= SECTION_TEXT for text in sections)
    assert not any(text.endswith(ELLIPSIS) for text in sections)  # nothing was cut to fit
    everything = "\n".join(sections)
    for verb, spec in SPECS.items():
        if spec.examples:
            assert f"`/deploy {escape(spec.examples[0])}`" in everything, verb
    settings_only = str(help_message("settings").block_dicts())
    assert "/deploy settings set web/dev sourceContext.git.branch=refs/heads/main" in settings_only
    assert "/deploy status" not in settings_only


@given(st.lists(st.text(min_size=1, max_size=700), max_size=60), st.integers(min_value=50, max_value=3000))
def test_help_entries_are_packed_into_sections_that_fit_in_order(entries: list[str], limit: int) -> None:
    texts = _packed(entries, limit)
    assert "\n".join(texts) == "\n".join(entries)  # nothing lost, nothing reordered
    for text in texts:
        assert len(text) <= limit or text in entries  # only an entry too long on its own may exceed it
    assert len(texts) <= len(entries)
