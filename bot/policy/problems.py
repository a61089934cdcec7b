"""PolicyError and its one-line problems: "policy.toml: stacks[2].approvals: must be at least 1", naming the key
and the problem, with the closest known key suggested for one that is misspelt."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from bot.errors import ConfigError
from bot.policy.fields import closest
from bot.policy.schema import RULE_KEYS, STACK_KEYS, TOP_KEYS

Location = tuple[str | int, ...]

# Names people plausibly write for a key (the Rule's own attribute names among them), mapped to the real key.
_ALIASES = {
    "self_approval": "allow_self_approval",
    "approval_required": "require_approval",
    "required_approvals": "approvals",
    "expires": "expires_after",
    "expiry": "expires_after",
    "timeout": "expires_after",
    "pattern": "match",
    "stack": "match",
}


class PolicyError(ConfigError):
    """A policy file that cannot be used. ``problems`` holds one line per problem; ``str()`` is all of them."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


def key_path(loc: Location) -> str:
    """``("stacks", 2, "approvals")`` as ``stacks[2].approvals``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text or "(file)"


def problem(source: str, loc: Location, message: str, data: object) -> str:
    """One line naming the file, the key and the problem, and the entry's match when it is in a ``[[stacks]]``."""
    return f"{source}: {key_path(loc)}: {message}{_entry_hint(loc, data)}"


def from_validation(source: str, error: ValidationError, data: object) -> list[str]:
    return [problem(source, tuple(item["loc"]), _message(item), data) for item in error.errors()]


def _message(item: Any) -> str:
    kind: str = item["type"]
    loc: Location = tuple(item["loc"])
    ctx = item.get("ctx") or {}
    if kind == "extra_forbidden":
        return _unknown_key(loc)
    if kind == "missing" and loc[-1] == "match":
        return 'is required: every [[stacks]] entry needs one, e.g. match = "acme/*/prod"'
    if kind == "missing":
        return "is required"
    if kind == "value_error":
        return str(ctx["error"])
    if kind.startswith("int_"):
        return "must be a whole number, e.g. 2"
    if kind.startswith("bool_"):
        return "must be true or false"
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']}"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return "must be a table: write [defaults] with its keys below" if loc == ("defaults",) else "must be a table"
    if kind == "list_type":
        return 'must be an array of tables: write each entry as [[stacks]] with its own match = "…"'
    return str(item["msg"])


def _unknown_key(loc: Location) -> str:
    key = str(loc[-1])
    inside = loc[:-1]
    if not inside:
        if key in RULE_KEYS:
            return "is not a top-level key: rule keys go under [defaults] or in a [[stacks]] entry"
        known = TOP_KEYS
    elif inside == ("defaults",):
        if key == "match":
            return "[defaults] has no match; only [[stacks]] entries do"
        known = RULE_KEYS
    else:
        known = STACK_KEYS
    guess = _ALIASES.get(key) if _ALIASES.get(key) in known else closest(key, known)
    hint = f' (did you mean "{guess}"?)' if guess else f": known keys are {', '.join(known)}"
    return f"unknown key{hint}"


def _entry_hint(loc: Location, data: object) -> str:
    if len(loc) < 2 or loc[0] != "stacks" or not isinstance(loc[1], int) or not isinstance(data, dict):
        return ""
    entries = data.get("stacks")
    if not isinstance(entries, list) or not 0 <= loc[1] < len(entries) or not isinstance(entries[loc[1]], dict):
        return ""
    match = entries[loc[1]].get("match")
    return f' (in the entry with match = "{match}")' if isinstance(match, str) and loc[2:] != ("match",) else ""
