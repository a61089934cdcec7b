"""The approval policy: which operations Slack may request for a stack, which need whose approval, and who the admins
are. A TOML file (``deploy/policy.example.toml`` documents every key) or, without one, the built-in defaults.

    [defaults]            applies to every stack
    [[stacks]] match=…    overrides the defaults for the stacks its glob covers; one entry applies per stack

"The most specific match wins": each ``match`` is ``org/project/stack`` with ``*`` and ``?`` wildcards, matched part
by part and ignoring case. Among the entries that match, the one with the fewest ``*`` wins, then the fewest ``?``,
then the most literal characters; a tie goes to the later entry. The winner's keys override the defaults; keys it
leaves out keep the defaults' values (entries never combine with each other).
"""

from __future__ import annotations

from bot.command.types import Operation
from bot.policy.fields import Principal
from bot.policy.policy import Policy
from bot.policy.problems import PolicyError
from bot.policy.rule import Rule

__all__ = ["Operation", "Policy", "PolicyError", "Principal", "Rule"]
