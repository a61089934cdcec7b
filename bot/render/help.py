"""``/deploy help``: every command with its usage and examples, built from the grammar's own table."""

from __future__ import annotations

from bot.command import SPECS, usage_of
from bot.render.message import Message, context, section
from bot.render.text import escape

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
    lines = []
    if topic is None:
        lines.append(
            "• `/deploy update|preview|refresh|destroy STACK [--branch B | --commit SHA] [--env K=V] …`\n"
            "    run a Pulumi operation remotely — `/deploy help update` lists every option"
        )
    verbs = [v for v in _ORDER if topic is None or v.startswith(topic)]
    lines.extend(f"• `/deploy {escape(SPECS[v].usage)}`\n    {escape(SPECS[v].summary)}" for v in verbs)
    body = "\n".join(lines)
    return Message(
        text="Deploybot commands",
        blocks=[
            section("*Deploybot* runs Pulumi Deployments from Slack. Commands:"),
            section(body),
            context(
                "Stacks are `project/stack` (default organization) or `org/project/stack`. "
                "Add `--help` to any command for details and examples."
            ),
        ],
    )
