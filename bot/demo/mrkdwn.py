"""Slack mrkdwn as terminal text: mentions by name, links with their address, date tokens in local time, entities
decoded and emphasis markers dropped. Pure functions; the demo console's renderer is the only caller."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

# Slack wraps every special token in <…>; a token never contains another "<" or ">" (those arrive as entities).
_TOKEN = re.compile(r"<([^<>\n]*)>")
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}
_ENTITY = re.compile("|".join(_ENTITIES))
# *bold*, _italic_ and ~strike~ only count between word boundaries (as in Slack): snake_case and 2*3*4 stay.
_EMPHASIS = re.compile(r"(?<![\w*_~])([*_~])(?=\S)([^\n]+?)(?<=\S)\1(?![\w*_~])")


DateToken = Callable[[datetime, date], str]  # (the moment, today's date) -> the words for one {token}


@dataclass(frozen=True)
class Names:
    """How ids read in the terminal: users, user groups (by handle) and channels; unknown ids stay as they are."""

    users: Mapping[str, str] = field(default_factory=dict)
    groups: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)
    tz: tzinfo | None = None  # None: the machine's local time zone


def plain(text: str, names: Names, now: datetime | None = None) -> str:
    """``text`` (Slack mrkdwn) as the words a person would read in Slack's client."""
    converted = _EMPHASIS.sub(lambda m: m.group(2), text)
    # Innermost tokens first, a few rounds: a mention inside a link's label (which Slack itself does not nest)
    # still reads as words. Entities are decoded only at the end, so an escaped "&lt;" never becomes a token.
    for _ in range(3):
        once = _TOKEN.sub(lambda m: _token(m.group(1), names, now), converted)
        if once == converted:
            break
        converted = once
    return _decode(converted)


def _decode(text: str) -> str:
    # One pass, so "&amp;lt;" becomes the literal "&lt;" a user typed, not "<".
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(0)], text)


def _token(inner: str, names: Names, now: datetime | None) -> str:
    """One ``<…>`` token as words; the result is still entity-encoded (``plain`` decodes everything once)."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + (label.removeprefix("@") or names.users.get(target[1:], target[1:]))
    if target.startswith("#"):
        return "#" + (label.removeprefix("#") or names.channels.get(target[1:], target[1:]))
    if target.startswith("!subteam^"):
        group = target.removeprefix("!subteam^")
        return "@" + (label.removeprefix("@") or names.groups.get(group, group))
    if target.startswith("!date^"):
        return _date(target, label, names.tz, now)
    if target.startswith("!"):
        return label or "@" + target[1:]  # <!here>, <!channel>, <!everyone>
    if not label or label == target:
        return target
    return f"{label} ({target})"


def _date(target: str, fallback: str, tz: tzinfo | None, now: datetime | None) -> str:
    """``<!date^EPOCH^FORMAT[^LINK]|FALLBACK>``: FORMAT's ``{tokens}`` filled in; the fallback if unreadable."""
    parts = target.split("^")
    try:
        moment = datetime.fromtimestamp(int(parts[1]), tz).astimezone(tz)
    except (IndexError, ValueError, OverflowError, OSError):
        return fallback or target
    today = (now or datetime.now(tz)).astimezone(tz).date()
    fmt = parts[2] if len(parts) > 2 else "{date_num} {time}"

    def fill(match: re.Match[str]) -> str:
        render = _DATE_TOKENS.get(match.group(1))
        return render(moment, today) if render is not None else match.group(0)

    return re.sub(r"\{(\w+)\}", fill, fmt)


def _pretty(plain_format: Callable[[datetime], str]) -> DateToken:
    def render(moment: datetime, today: date) -> str:
        relative = {0: "today", 1: "tomorrow", -1: "yesterday"}
        return relative.get((moment.date() - today).days) or plain_format(moment)

    return render


def _long(moment: datetime) -> str:
    return f"{moment:%A}, {_short(moment)}"


def _short(moment: datetime) -> str:
    return f"{moment:%b} {moment.day}, {moment.year}"


def _full(moment: datetime) -> str:
    return f"{moment:%B} {moment.day}, {moment.year}"


def _ago(moment: datetime, today: date) -> str:
    seconds = int((datetime.now(moment.tzinfo) - moment) / timedelta(seconds=1))
    if abs(seconds) < 60:
        return "just now"
    unit, size = next((u, s) for u, s in (("day", 86400), ("hour", 3600), ("minute", 60)) if abs(seconds) >= s)
    count = abs(seconds) // size
    words = f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{words} ago" if seconds > 0 else f"in {words}"


_DATE_TOKENS: dict[str, DateToken] = {
    "date_num": lambda m, _: f"{m:%Y-%m-%d}",
    "date": lambda m, _: _full(m),
    "date_short": lambda m, _: _short(m),
    "date_long": lambda m, _: _long(m),
    "date_pretty": _pretty(_full),
    "date_short_pretty": _pretty(_short),
    "date_long_pretty": _pretty(_long),
    "time": lambda m, _: f"{m:%H:%M}",
    "time_secs": lambda m, _: f"{m:%H:%M:%S}",
    "ago": _ago,
}
