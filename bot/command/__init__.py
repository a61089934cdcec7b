"""The ``/deploy`` grammar: Slack command text becomes one typed command, or a CommandError with usage."""

from __future__ import annotations

from bot.command.build import BUILDERS
from bot.command.lexer import split, tokenize
from bot.command.spec import SPECS, Spec, usage_of
from bot.command.types import (
    ApprovalsCommand,
    AuditCommand,
    CancelCommand,
    Command,
    CommandError,
    DeployCommand,
    DeploymentRef,
    HelpCommand,
    InfoCommand,
    ListCommand,
    LogsCommand,
    Operation,
    OrgTarget,
    PauseCommand,
    PolicyCommand,
    SettingsClearCommand,
    SettingsSetCommand,
    SettingsShowCommand,
    StatusCommand,
    SubscribeCommand,
    SubscriptionsCommand,
    Target,
    UnsubscribeCommand,
)
from bot.overrides import OverrideError

__all__ = [
    "SPECS",
    "ApprovalsCommand",
    "AuditCommand",
    "CancelCommand",
    "Command",
    "CommandError",
    "DeployCommand",
    "DeploymentRef",
    "HelpCommand",
    "InfoCommand",
    "ListCommand",
    "LogsCommand",
    "Operation",
    "OrgTarget",
    "PauseCommand",
    "PolicyCommand",
    "SettingsClearCommand",
    "SettingsSetCommand",
    "SettingsShowCommand",
    "Spec",
    "StatusCommand",
    "SubscribeCommand",
    "SubscriptionsCommand",
    "Target",
    "UnsubscribeCommand",
    "parse_command",
    "usage_of",
]

_HELP_WORDS = {"help", "--help", "-h"}


def parse_command(text: str, default_org: str | None = None) -> Command:
    """Parse the text after ``/deploy``. Bad input raises CommandError, and nothing else does."""
    words = split(text)
    if not words or words[0].lower() in _HELP_WORDS:
        topic = " ".join(words[1:]).lower() or None
        if topic is not None and topic not in SPECS:
            raise CommandError(f"there is no command {topic!r}")
        return HelpCommand(topic)
    verb = words[0].lower()
    if verb == "settings":
        if len(words) == 1 or f"settings {words[1].lower()}" not in SPECS:
            raise CommandError("settings needs show, set or clear", "settings")
        verb, words = f"settings {words[1].lower()}", words[1:]
    spec = SPECS.get(verb)
    if spec is None or verb == "settings":
        raise CommandError(f"there is no command {words[0]!r}")
    if any(word in _HELP_WORDS - {"help"} for word in words[1:]):
        return HelpCommand(verb)
    try:
        return BUILDERS[verb](tokenize(spec, words[1:]), default_org)
    except OverrideError as exc:
        raise CommandError(str(exc), verb) from None
