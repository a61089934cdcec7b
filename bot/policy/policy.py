"""Policy: a validated policy file (or the built-in defaults) and the effective Rule for any stack."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from bot.policy.match import most_specific
from bot.policy.problems import PolicyError, from_validation, problem
from bot.policy.rule import Rule
from bot.policy.schema import PolicyFile, RuleSettings, StackEntry
from bot.pulumi.stack import StackRef, check_org


class Policy:
    """Defaults for every stack, overridden by the most specific ``[[stacks]]`` entry whose ``match`` covers it."""

    def __init__(self, defaults: RuleSettings, stacks: Sequence[StackEntry] = (), source: str | None = None) -> None:
        self.source = source  # the file it came from; None for the built-in defaults
        self.defaults = Rule.from_settings(defaults)
        merged = (defaults.model_copy(update=entry.overrides()) for entry in stacks)
        self.entries = tuple(
            (entry.match, Rule.from_settings(settings, matched=entry.match))
            for entry, settings in zip(stacks, merged, strict=True)
        )

    @classmethod
    def default(cls) -> Policy:
        """No policy file: updates and destroys need one approval by someone other than the requester, everything
        else runs directly, and everyone may do everything else."""
        return cls(RuleSettings())

    @classmethod
    def load(cls, path: Path) -> Policy:
        """Read and validate ``path``; any problem raises PolicyError (a ConfigError), one line per problem."""
        source = str(path)
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError as exc:
            raise PolicyError([f"{source}: cannot read the policy file: {exc.strerror or exc}"]) from None
        except UnicodeDecodeError:
            raise PolicyError([f"{source}: is not UTF-8 text, so it is not TOML"]) from None
        return cls.loads(text, source=source)

    @classmethod
    def loads(cls, text: str, *, source: str = "policy.toml") -> Policy:
        """Validate TOML text; ``source`` is the name problems are reported under."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError([f"{source}: is not valid TOML: {exc}"]) from None
        try:
            parsed = PolicyFile.model_validate(data)
        except ValidationError as exc:
            raise PolicyError(from_validation(source, exc, data)) from None
        problems = _consistency(source, parsed, data)
        if problems:
            raise PolicyError(problems)
        return cls(parsed.defaults, parsed.stacks, source)

    def rule_for(self, stack: str | StackRef) -> Rule:
        """The effective rule for ``org/project/stack``; a malformed name is a ValueError saying what to write."""
        text = str(StackRef.parse(str(stack)))
        best = most_specific([pattern for pattern, _ in self.entries], text)
        return self.defaults if best is None else self.entries[best][1]

    def rule_for_org(self, org: str) -> Rule:
        """The rule for what concerns a whole organization (pausing and resuming it): the defaults, or the most
        specific entry whose match covers every stack of ``org`` (``acme/*/*``, ``*/*/*``)."""
        check_org(org)
        whole_org = [(pattern, rule) for pattern, rule in self.entries if pattern.split("/")[1:] == ["*", "*"]]
        # Any project and stack name stands in: the candidates' last two parts are "*" and match all of them.
        best = most_specific([pattern for pattern, _ in whole_org], f"{org}/any/any")
        return self.defaults if best is None else whole_org[best][1]


def _consistency(source: str, parsed: PolicyFile, data: object) -> list[str]:
    """What pydantic cannot see key by key: repeated matches, and more approvals than the listed approvers."""
    problems: list[str] = []
    first_seen: dict[str, int] = {}
    for index, entry in enumerate(parsed.stacks):
        earlier = first_seen.setdefault(entry.match.lower(), index)
        if earlier != index:
            message = f'"{entry.match}" is already the match of stacks[{earlier}]; merge the two entries'
            problems.append(problem(source, ("stacks", index, "match"), message, data))
    problems += _enough_approvers(source, ("defaults",), parsed.defaults, set(parsed.defaults.model_fields_set), data)
    for index, entry in enumerate(parsed.stacks):
        merged = parsed.defaults.model_copy(update=entry.overrides())
        problems += _enough_approvers(source, ("stacks", index), merged, entry.model_fields_set, data)
    return problems


def _enough_approvers(
    source: str, where: tuple[str | int, ...], settings: RuleSettings, own: set[str], data: object
) -> list[str]:
    """A rule that asks for more approvals than the people it lists could ever give (groups can grow; ids can't)."""
    listed = settings.approvers
    if not listed or any(p.startswith("@") for p in listed) or settings.approvals <= len(listed):
        return []
    if not own & {"approvals", "approvers"}:
        return []  # inherited unchanged from [defaults], which reports it once
    key = "approvals" if "approvals" in own else "approvers"
    people = "1 user" if len(listed) == 1 else f"{len(listed)} users"
    message = f"{settings.approvals} approvals are needed but approvers lists only {people}"
    return [problem(source, (*where, key), message, data)]
