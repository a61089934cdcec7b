"""The demo console's mrkdwn reader: what a person would read in Slack, for any text the bot may send."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.demo.mrkdwn import Names, plain
from bot.render.text import date_token, escape

NAMES = Names(
    users={"U_ANA": "ana", "U_BEN": "ben"}, groups={"S_SRE": "sre"}, channels={"C_DEPLOYS": "deploys"}, tz=UTC
)
NOW = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
# Words without mrkdwn's own characters: they must come through exactly as written.
WORDS = st.text(alphabet=st.characters(blacklist_characters="*_~`<>&|\n", blacklist_categories=["Cs"]), max_size=40)


def test_mentions_groups_channels_and_specials_read_as_names() -> None:
    text = "<@U_ANA> and <@U_ZED> ask <!subteam^S_SRE> in <#C_DEPLOYS> and <#C_OTHER|ops>, cc <!here>"
    assert plain(text, NAMES) == "@ana and @U_ZED ask @sre in #deploys and #ops, cc @here"


def test_links_show_their_label_and_address() -> None:
    assert plain("<https://app.pulumi.com/x|Pulumi console>", NAMES) == "Pulumi console (https://app.pulumi.com/x)"
    assert plain("see <https://example.com>", NAMES) == "see https://example.com"


def test_a_mention_inside_a_link_label_still_reads_as_a_name() -> None:
    # The bot's approvals list puts a mention inside a link's label; Slack does not nest them, the console copes.
    assert (
        plain("<https://s/archives/C/p1|update `x` by <@U_BEN>>", NAMES)
        == "update `x` by @ben (https://s/archives/C/p1)"
    )


def test_emphasis_markers_are_dropped_but_snake_case_and_arithmetic_stay() -> None:
    assert plain("*update* `web/dev` _now_ ~old~", NAMES) == "update `web/dev` now old"
    assert plain("DEPLOYBOT_REQUEST_ID and 2*3*4", NAMES) == "DEPLOYBOT_REQUEST_ID and 2*3*4"


def test_date_tokens_read_in_the_time_zone_given() -> None:
    moment = datetime(2026, 11, 28, 2, 38, 25, tzinfo=UTC)
    assert plain(date_token(moment), NAMES, now=NOW) == "tomorrow 02:38"
    token = f"<!date^{int(moment.timestamp())}^{{date_num}} {{time_secs}} {{date_long}} {{unknown}}|fallback>"
    assert plain(token, NAMES, now=NOW) == "2026-11-28 02:38:25 Saturday, Nov 28, 2026 {unknown}"
    assert plain("<!date^not-a-number^{date}|the fallback>", NAMES) == "the fallback"


@given(WORDS)
def test_escaped_words_come_back_exactly(words: str) -> None:
    assert plain(escape(words), NAMES) == words


@given(WORDS, st.sampled_from(sorted(NAMES.users)))
def test_escaped_tokens_stay_literal_text(words: str, user: str) -> None:
    """What a user typed that looks like a mention was escaped by the bot: it must not become one."""
    literal = f"<@{user}> {words} <!channel>"
    assert plain(escape(literal), NAMES) == literal


URLS = st.from_regex(r"https://[a-z]{1,10}\.example/[a-z0-9/]{0,20}", fullmatch=True)


@given(WORDS.filter(lambda w: w.strip() == w and w != ""), URLS)
def test_links_with_any_label(label: str, url: str) -> None:
    assert plain(f"<{url}|{escape(label)}>", NAMES) == f"{label} ({url})"


@given(st.text(alphabet="<>@!#^|&;*_~`ab \n", max_size=200))
def test_any_text_reads_without_an_error(text: str) -> None:
    out = plain(text, NAMES)
    assert "<@U_ANA>" not in out or "&lt;@U_ANA&gt;" in text  # a real mention never survives as a raw token
