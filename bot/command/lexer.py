"""From Slack's command text to words, and from words to positional arguments and flag values."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from bot.command.spec import Spec
from bot.command.types import CommandError

MAX_TEXT = 8000  # Slack sends far less; anything longer is not a command worth reading

_LINK = re.compile(r"<((?:https?|mailto):[^>|]*)(?:\|[^>]*)?>")
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'"})


def normalize(text: str) -> str:
    """Undo Slack's escaping of command text: unwrap ``<url|label>`` links, decode entities, fix quotes.

    Slack clients turn typed quotes into curly ones: left as they are, ``--message “ship it”`` splits in two.
    """
    text = _LINK.sub(r"\1", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text.translate(_QUOTES)


def split(text: str) -> list[str]:
    if len(text) > MAX_TEXT:
        raise CommandError(f"that command is too long ({len(text)} characters)")
    try:
        return shlex.split(normalize(text))
    except ValueError as exc:  # shlex reports an unbalanced quote this way
        raise CommandError(f"could not read the arguments: {exc}") from None


@dataclass
class Parsed:
    """Positional arguments and flag values of one command line, before they are typed."""

    spec: Spec
    args: list[str] = field(default_factory=list)
    flags: dict[str, list[str]] = field(default_factory=dict)

    def error(self, message: str) -> CommandError:
        return CommandError(message, self.spec.verb)

    def has(self, flag: str) -> bool:
        return flag in self.flags

    def one(self, flag: str) -> str | None:
        values = self.flags.get(flag)
        return values[-1] if values else None

    def many(self, flag: str) -> list[str]:
        return self.flags.get(flag, [])

    def integer(self, flag: str, default: int, low: int, high: int) -> int:
        text = self.one(flag)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise self.error(f"{flag} takes a number, not {text!r}") from None
        if not low <= value <= high:
            raise self.error(f"{flag} must be between {low} and {high}")
        return value


def tokenize(spec: Spec, words: list[str]) -> Parsed:
    """Sort ``words`` into positionals and flags as ``spec`` declares (``--flag value``, ``--flag=value``)."""
    parsed = Parsed(spec)
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if not word.startswith("--") or word == "--":
            parsed.args.append(word)
            continue
        name, eq, inline = word.partition("=")
        kind = spec.flags.get(name)
        if kind is None:
            raise parsed.error(f"unknown option {name}")
        if kind == "bool" and eq:
            raise parsed.error(f"{name} takes no value")
        value_left_out = kind == "optional" and not eq and (i >= len(words) or words[i].startswith("--"))
        if kind == "bool" or value_left_out:
            value = ""
        elif eq:
            value = inline
        elif i < len(words):
            value = words[i]
            i += 1
        else:
            raise parsed.error(f"{name} needs a value")
        parsed.flags.setdefault(name, []).append(value)
    if not spec.min_args <= len(parsed.args) <= spec.max_args:
        raise parsed.error("wrong number of arguments")
    return parsed
