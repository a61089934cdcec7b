"""Properties of the /deploy grammar: any text parses or fails with CommandError; patches are faithful."""

from __future__ import annotations

import json
import shlex
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.command import Command, CommandError, DeployCommand, SettingsSetCommand, parse_command
from bot.command.lexer import normalize
from bot.overrides import SETTINGS_ROOTS, build_patch

words = st.sampled_from(
    [
        "update", "preview", "destroy", "status", "list", "logs", "cancel", "pause", "resume", "info",
        "settings", "set", "show", "clear", "help", "web/dev", "acme/web/dev", "#3", "--org", "--env", "A=1",
        "--set", "tag=x", "--json", "{}", "--branch", "main", "--commit", "abcd", "--page", "0", "--count",
        "500", "--step", "'", '"', "“", "&lt;", "<https://x|y>", "--", "-h", "--message", "payload",
    ]
)  # fmt: skip


def outcome(text: str) -> Command | CommandError:
    """The parsed command, or the CommandError; any other exception fails the test."""
    try:
        return parse_command(text, default_org="acme")
    except CommandError as error:
        return error


@given(st.text(max_size=400))
@settings(max_examples=400)
def test_any_text_parses_or_raises_command_error(text: str) -> None:
    result = outcome(text)
    if isinstance(result, CommandError):
        assert result.message
        assert result.usage.startswith("/deploy ")


@given(st.lists(words, max_size=12).map(" ".join))
@settings(max_examples=600)
def test_command_like_text_parses_or_raises_command_error(text: str) -> None:
    result = outcome(text)
    assert not isinstance(result, CommandError) or result.message


def test_huge_and_deeply_nested_input_is_refused_cleanly() -> None:
    huge = outcome("update web/dev " + "x" * 100_000)
    assert isinstance(huge, CommandError)
    assert "too long" in huge.message
    deep = outcome("update web/dev --json '" + "[" * 5000 + "'")
    assert isinstance(deep, CommandError)
    assert "--json" in deep.message


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.text(max_size=12))


def nested(path: list[str], value: Any) -> dict[str, Any]:
    result: Any = value
    for part in reversed(path):
        result = {part: result}
    return result  # type: ignore[no-any-return]  # built from dicts only


assignments = st.tuples(st.sampled_from(SETTINGS_ROOTS), st.lists(names, max_size=3), json_scalars)


@given(st.lists(assignments, max_size=8))
def test_the_last_assignment_to_a_path_wins(assignments: list[tuple[str, list[str], Any]]) -> None:
    texts = [f"{'.'.join([root, *rest])}={json.dumps(value)}" for root, rest, value in assignments]
    patch = build_patch(texts)
    for index, (root, rest, value) in enumerate(assignments):
        path = [root, *rest]
        # A later assignment to this path, or to a prefix or extension of it, overrides this one.
        later = [[r, *x] for r, x, _ in assignments[index + 1 :]]
        if any(p[: len(path)] == path or path[: len(p)] == p for p in later):
            continue
        node: Any = patch
        for part in path:
            node = node[part]
        assert node == value


@given(st.dictionaries(names, st.text(max_size=20), max_size=5))
def test_env_values_survive_the_round_trip_through_the_shell_syntax(env: dict[str, str]) -> None:
    text = "update web/dev " + " ".join(f"--env {shlex.quote(f'{k}={v}')}" for k, v in env.items())
    try:
        command = parse_command(text, default_org="acme")
    except CommandError:
        # Only Slack's own escapes are rewritten; values containing them are not round-trippable by design.
        assert any(normalize(v) != v for v in env.values())
        return
    assert isinstance(command, DeployCommand)
    expected = {k: normalize(v) for k, v in env.items()}
    assert command.patch.get("operationContext", {}).get("environmentVariables", {}) == expected


@given(st.dictionaries(names, json_scalars, min_size=1, max_size=5))
def test_settings_set_json_equals_the_same_assignments(values: dict[str, Any]) -> None:
    document = json.dumps({"operationContext": {"environmentVariables": values}})
    as_json = parse_command("settings set web/dev --json " + shlex.quote(document), default_org="acme")
    pairs = [f"operationContext.environmentVariables.{k}={json.dumps(v)}" for k, v in values.items()]
    as_pairs = parse_command("settings set web/dev " + " ".join(map(shlex.quote, pairs)), default_org="acme")
    assert isinstance(as_json, SettingsSetCommand)
    assert as_json == as_pairs
    assert as_json.patch == nested(["operationContext", "environmentVariables"], values)
