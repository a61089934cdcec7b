"""Every error answer to a command carries that command's usage line: the verb the grammar parsed is found again
from the typed command, for every command of the grammar."""

from __future__ import annotations

import pytest

from bot.command import SPECS, HelpCommand, parse_command, usage_of
from handlers.commands import spec_verb

EXAMPLES = [(verb, example) for verb, spec in SPECS.items() for example in spec.examples]


@pytest.mark.parametrize(("verb", "example"), EXAMPLES)
def test_each_example_maps_back_to_its_own_usage_line(verb: str, example: str) -> None:
    command = parse_command(example, "acme")
    assert spec_verb(command) == verb
    assert usage_of(spec_verb(command)) == f"/deploy {SPECS[verb].usage}"


def test_every_command_of_the_grammar_has_an_example_to_check() -> None:
    assert {verb for verb, _ in EXAMPLES} == set(SPECS) - {"settings"}  # "settings" alone is not a command


def test_help_has_no_usage_line_of_its_own() -> None:
    assert spec_verb(HelpCommand()) is None
    assert spec_verb(parse_command("help logs")) is None
