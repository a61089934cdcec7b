"""A Rule in plain words for ``/deploy policy STACK`` and ``deploybot policy check``: what may be requested, what
needs whose approval, for how long, and who the admins are. Slack mrkdwn-safe; no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.command.types import Operation
from bot.policy.fields import OPERATIONS, Principal
from bot.render.text import escape

if TYPE_CHECKING:  # rule.py imports this module to give Rule its explain()
    from bot.policy.rule import Rule

_NOUNS: dict[Operation, str] = {
    "update": "updates",
    "preview": "previews",
    "refresh": "refreshes",
    "destroy": "destroys",
}
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def explain(rule: Rule, stack: str, *, mentions: bool = True) -> str:
    # Backticks would end the code span early; names Pulumi accepts never contain them anyway.
    name = f"`{escape(stack.replace('`', ''))}`"
    allowed = [op for op in OPERATIONS if op in rule.allowed_operations]
    gated = [op for op in allowed if op in rule.approval_required]
    direct = [op for op in allowed if op not in rule.approval_required]
    refused = [op for op in OPERATIONS if op not in rule.allowed_operations]

    if not allowed:
        return f"Nothing may be requested from Slack for {name}. {_admins(rule, mentions)} {_source(rule)}"
    sentences: list[str] = []
    if gated:
        sentences.append(_gate(rule, gated, name, mentions))
    if direct:
        subject = _nouns(direct) if gated else f"{_nouns(direct)} of {name}"
        sentences.append(f"{subject.capitalize()} run without approval.")
        if "destroy" in direct and rule.confirm_destroy:
            sentences.append("A destroy asks for the stack name to be typed before it starts.")
    if refused:
        sentences.append(f"{_nouns(refused).capitalize()} cannot be requested from Slack.")
    if rule.requesters:
        sentences.append(f"Only {_people(rule.requesters, mentions)} may request.")
    else:
        sentences.append("Anyone may request.")
    sentences += [_admins(rule, mentions), _source(rule)]
    return " ".join(sentences)


def _gate(rule: Rule, gated: list[Operation], name: str, mentions: bool) -> str:
    count = "1 approval" if rule.approvals == 1 else f"{rule.approvals} approvals"
    if rule.approvers:
        who = _people(rule.approvers, mentions)
        who += " (the requester may approve too)" if rule.self_approval else " (not the requester)"
    else:
        who = "anyone, the requester included" if rule.self_approval else "anyone but the requester"
    clauses = [f"{_nouns(gated).capitalize()} of {name} need {count} from {who}"]
    clauses.append(f"requests stay open {duration_text(rule.expires_after)}")
    if "update" in gated and rule.preview_first:
        clauses.append("an update runs a preview first and approvers see its plan")
    if "destroy" in gated and rule.confirm_destroy:
        clauses.append("a destroy asks approvers to type the stack name")
    return "; ".join(clauses) + "."


def _admins(rule: Rule, mentions: bool) -> str:
    if rule.admins:
        return f"Admins: {_people(rule.admins, mentions, 'and')}."
    return "Anyone may pause and resume, change settings and cancel others' deployments."


def _source(rule: Rule) -> str:
    if rule.matched is None:
        return "(Rule: the defaults.)"
    return f"(Rule: the defaults and `[[stacks]]` match `{escape(rule.matched)}`.)"


def _nouns(operations: Sequence[Operation]) -> str:
    return _join([_NOUNS[op] for op in operations], "and")


def _people(principals: Sequence[Principal], mentions: bool, word: str = "or") -> str:
    # User ids become mentions so Slack shows names; handles stay text: a group mention needs the group's id.
    shown = [f"<@{p}>" if mentions and not p.startswith("@") else escape(p) for p in principals]
    return _join(shown, word)


def _join(items: Sequence[str], word: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def duration_text(duration: timedelta) -> str:
    """``4 hours``, ``1 hour 30 minutes``, ``1 day``."""
    remaining = int(duration.total_seconds())
    parts = []
    for unit, size in _UNITS:
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts) or "0 seconds"
