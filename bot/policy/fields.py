"""The shapes of a policy's values: operations, principals, durations and ``match`` patterns, each parsed from TOML
with a message that says what was expected."""

from __future__ import annotations

import difflib
import json
import re
from datetime import timedelta
from typing import Annotated, get_args

from pydantic import BeforeValidator

from bot.command.types import Operation

Principal = str  # a Slack user id ("U123", "W123") or a user-group handle ("@sre")

OPERATIONS: tuple[Operation, ...] = get_args(Operation)

# Real Slack ids are upper-case letters and digits; the fake Slack's seed users ("U_ANA") add underscores, and the
# policy must be writable for them too. The shape check is there to catch names ("alice", "sre"), not to verify ids.
_USER_ID = re.compile(r"^[UW][A-Z0-9_]{2,31}$")
# Slack keeps user-group handles lower-case: letters, digits, '.', '_' and '-'.
_HANDLE = re.compile(r"^@[a-z0-9][a-z0-9._-]{0,79}$")
_MENTION = re.compile(r"^<@([UW][A-Z0-9_]+)(\|[^>]*)?>$")
_SUBTEAM = re.compile(r"^<!subteam\^[A-Z0-9_]+(\|@?([^>]*))?>$")

# "1d", "4h", "90m", "30s" and combinations in that order ("1h30m"). Written here because the stdlib and pydantic
# only read ISO 8601 ("PT4H") or "HH:MM:SS", neither of which people type into a config file.
_DURATION = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")
MIN_EXPIRY = timedelta(minutes=1)
MAX_EXPIRY = timedelta(days=7)

# A part of a pattern: a name as Pulumi allows it, with * (any run) and ? (one character) as wildcards.
_PATTERN_PART = re.compile(r"^[A-Za-z0-9_.*?-]{1,100}$")


def shown(value: object) -> str:
    """A value as TOML would spell it (double-quoted strings), for messages about a file written in TOML."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _or(words: tuple[str, ...]) -> str:
    return f"{', '.join(words[:-1])} or {words[-1]}"


def closest(word: str, known: list[str] | tuple[str, ...]) -> str | None:
    """The known word ``word`` was most likely meant to be, if any is close enough."""
    found = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return found[0] if found else None


def _listed(value: object, what: str, example: str) -> list[object]:
    if not isinstance(value, list | tuple | set | frozenset):
        raise ValueError(f"must be an array of {what}, e.g. {example}")
    return list(value)


def parse_operations(value: object) -> frozenset[Operation]:
    """An array of operation names; an unknown name is an error that suggests the closest real one."""
    chosen: set[Operation] = set()
    for item in _listed(value, "operations", '["update", "destroy"]'):
        for operation in OPERATIONS:
            if item == operation:
                chosen.add(operation)
                break
        else:
            guess = closest(item, OPERATIONS) if isinstance(item, str) else None
            hint = f' (did you mean "{guess}"?)' if guess else ""
            raise ValueError(f"{shown(item)} is not an operation{hint}; use {_or(OPERATIONS)}")
    return frozenset(chosen)


def parse_principal(item: object) -> Principal:
    """A Slack user id or a user-group handle; common near-misses get a message saying what to write instead."""
    if not isinstance(item, str):
        raise ValueError(f"{shown(item)} is not a string: write a Slack user id (U…/W…) or a user-group handle (@sre)")
    text = item.strip()
    if _USER_ID.match(text) or _HANDLE.match(text):
        return text
    if mention := _MENTION.match(text):
        instead = f"the bare user id {shown(mention.group(1))}"
    elif (subteam := _SUBTEAM.match(text)) and subteam.group(2):
        instead = f"the group's handle {shown('@' + subteam.group(2))}"
    elif _HANDLE.match(text.lower()):
        instead = f"{shown(text.lower())} (user-group handles are lower-case)"
    elif re.match(r"^S[A-Z0-9_]+$", text):
        instead = 'the group\'s handle, e.g. "@sre" (this looks like a user-group id)'
    elif _HANDLE.match("@" + text):
        instead = f"a Slack user id (U… or W…), or {shown('@' + text)} for a user group"
    else:
        instead = 'a Slack user id (U… or W…) or a user-group handle such as "@sre"'
    raise ValueError(f"{shown(item)} is not a user id or a handle: write {instead}")


def parse_principals(value: object) -> tuple[Principal, ...]:
    """An array of principals, duplicates dropped, order kept (it is the order explanations list them in)."""
    parsed = (parse_principal(item) for item in _listed(value, "Slack user ids or @handles", '["@sre", "U012AB3CD"]'))
    return tuple(dict.fromkeys(parsed))


def parse_duration(value: object) -> timedelta:
    """Whole seconds (an integer) or text such as "90m", "4h", "1d", "1h30m"; between a minute and a week."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError('must be a duration such as "90m", "4h", "1d", or whole seconds')
    if isinstance(value, int):
        seconds = value
    else:
        found = _DURATION.match(value.strip())
        if not value.strip() or not found:
            raise ValueError(f'{shown(value)} is not a duration: write e.g. "90m", "4h", "1d" or whole seconds')
        counts = (int(found.group(unit) or 0) for unit in "dhms")
        seconds = sum(count * size for count, size in zip(counts, (86400, 3600, 60, 1), strict=True))
    # Compared as whole seconds before building a timedelta, which overflows on absurd values.
    # A request that closes at once cannot be approved; one open for weeks asks approvers about a stale plan.
    if not MIN_EXPIRY.total_seconds() <= seconds <= MAX_EXPIRY.total_seconds():
        raise ValueError(f"{shown(value)} is out of range: requests stay open between 1 minute and 7 days")
    return timedelta(seconds=seconds)


def parse_pattern(value: object) -> str:
    """A ``match`` glob over ``org/project/stack``: three parts, each a name with ``*``/``?`` wildcards."""
    if not isinstance(value, str):
        raise ValueError('must be a string such as "acme/*/prod"')
    parts = value.split("/")
    if len(parts) != 3:
        raise ValueError(f'{shown(value)} must have three parts, org/project/stack ("*" for any), e.g. "acme/*/prod"')
    for part in parts:
        if not _PATTERN_PART.match(part):
            raise ValueError(
                f"{shown(value)}: each part is a name of letters, digits, '-', '_' or '.', "
                "with * (any characters) and ? (one character) as the only wildcards"
            )
    return value


Operations = Annotated[frozenset[Operation], BeforeValidator(parse_operations)]
Principals = Annotated[tuple[Principal, ...], BeforeValidator(parse_principals)]
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Pattern = Annotated[str, BeforeValidator(parse_pattern)]
