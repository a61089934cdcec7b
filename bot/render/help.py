"""``/deploy help``: every command with its usage and examples, built from the grammar's own table."""

from __future__ import annotations

from bot.command import SPECS, usage_of
from bot.render.message import Message, context, section
from bot.render.text import SECTION_TEXT, escape

_OPERATIONS = ("update", "preview", "refresh", "destroy")
_ORDER = (
    "status",
    "list",
    "logs",
    "cancel",
    "pause",
    "resume",
    "info",
    "settings show",
    "settings set",
    "settings clear",
    "subscribe",
    "unsubscribe",
    "subscriptions",
    "approvals",
    "policy",
    "audit",
)


def help_message(topic: str | None = None) -> Message:
    """All commands, or one command in detail."""
    if topic is not None and topic in SPECS and topic != "settings":
        spec = SPECS[topic]
        lines = [f"*{escape(spec.summary.capitalize())}*", f"`{escape(usage_of(topic))}`"]
        if spec.examples:
            lines.append("Examples:")
            lines.extend(f"• `/deploy {escape(example)}`" for example in spec.examples)
        return Message(text=f"/deploy {topic}: {spec.summary}", blocks=[section("\n".join(lines))])
    entries = []
    if topic is None:
        examples = " · ".join(_example(op) for op in _OPERATIONS)
        entries.append(
            "• `/deploy update|preview|refresh|destroy STACK [--branch B | --commit SHA] [--env K=V] …`\n"
            "    run a Pulumi operation remotely — `/deploy help update` lists every option\n"
            f"    e.g. {examples}"
        )
    verbs = [v for v in _ORDER if topic is None or v.startswith(topic)]
    for verb in verbs:
        entry = f"• `/deploy {escape(SPECS[verb].usage)}`\n    {escape(SPECS[verb].summary)}"
        if SPECS[verb].examples:
            entry += f"\n    e.g. {_example(verb)}"
        entries.append(entry)
    return Message(
        text="Deploybot commands",
        blocks=[
            section("*Deploybot* runs Pulumi Deployments from Slack. Commands:"),
            *(section(body) for body in _packed(entries, SECTION_TEXT)),
            context(
                "Stacks are `project/stack` (default organization) or `org/project/stack`. "
                "Add `--help` to any command for details and examples."
            ),
        ],
    )


def _example(verb: str) -> str:
    """The first example of ``verb``, as typed."""
    return f"`/deploy {escape(SPECS[verb].examples[0])}`"


def _packed(entries: list[str], limit: int) -> list[str]:
    """Entries joined by newlines into as few texts of at most ``limit`` characters as they fit in (an entry longer
    than ``limit`` on its own is left for ``section`` to cut)."""
    texts: list[str] = []
    for entry in entries:
        if texts and len(texts[-1]) + 1 + len(entry) <= limit:
            texts[-1] += "\n" + entry
        else:
            texts.append(entry)
    return texts
