"""The approval policy: defaults, the example file, merging, "the most specific match wins", and one-line problems
naming the key for every kind of bad input."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import ConfigError
from bot.policy import Policy, PolicyError, Rule
from bot.policy.schema import RuleSettings

EXAMPLE = Path(__file__).parents[2] / "deploy" / "policy.example.toml"
OPERATIONS = ["update", "preview", "refresh", "destroy"]


def toml(defaults: dict[str, Any] | None = None, *stacks: dict[str, Any]) -> str:
    """A policy file; JSON spells the strings, integers, booleans and arrays used here exactly as TOML does."""
    lines = ["[defaults]", *(f"{key} = {json.dumps(value)}" for key, value in (defaults or {}).items())]
    for entry in stacks:
        lines += ["[[stacks]]", *(f"{key} = {json.dumps(value)}" for key, value in entry.items())]
    return "\n".join(lines) + "\n"


def problems_of(text: str) -> tuple[str, ...]:
    with pytest.raises(PolicyError) as caught:
        Policy.loads(text)
    return caught.value.problems


# Defaults and the example file


def test_without_a_file_updates_and_destroys_need_one_approval_by_someone_else() -> None:
    rule = Policy.default().rule_for("acme/web/prod")
    assert rule.allowed_operations == set(OPERATIONS)
    assert [op for op in OPERATIONS if rule.needs_approval(op)] == ["update", "destroy"]
    assert (rule.approvals, rule.self_approval) == (1, False)
    assert rule.requesters == rule.approvers == rule.admins == ()
    assert rule.expires_after == timedelta(hours=4)
    assert not rule.preview_first
    assert not rule.confirm_destroy
    assert rule.matched is None
    assert not rule.needs_approval("deploy everything")


def test_an_empty_file_means_the_built_in_defaults(tmp_path: Path) -> None:
    empty = tmp_path / "policy.toml"
    empty.write_text("# nothing yet\n")
    assert Policy.load(empty).rule_for("a/b/c") == Policy.default().rule_for("a/b/c")


def test_the_example_documents_every_key_with_a_comment() -> None:
    lines = EXAMPLE.read_text().splitlines()
    data = tomllib.loads(EXAMPLE.read_text())
    assert set(data["defaults"]) == set(RuleSettings.model_fields)
    for key in RuleSettings.model_fields:
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{key} = "))
        assert lines[at - 1].startswith("#"), f"{key} has no comment above it"
    assert all("match" in entry for entry in data["stacks"])


def test_the_example_gives_each_stack_its_rule() -> None:
    policy = Policy.load(EXAMPLE)
    prod = policy.rule_for("acme/web/prod")
    assert prod.matched == "acme/*/prod"
    assert (prod.approvals, prod.approvers, prod.admins) == (2, ("@sre",), ("@platform",))
    assert prod.preview_first
    assert prod.confirm_destroy
    assert prod.expires_after == timedelta(hours=1)
    database = policy.rule_for("acme/payments-db/prod")
    assert database.matched == "acme/payments-db/prod"
    assert (database.approvals, database.approvers, database.preview_first) == (1, ("@dba",), False)
    assert "destroy" not in database.allowed_operations
    assert policy.rule_for("acme/web/dev-eu").approval_required == frozenset()
    assert policy.rule_for("acme/web/staging").self_approval
    assert policy.rule_for("globex/web/prod") == policy.defaults


def test_rules_are_frozen() -> None:
    rule = Policy.default().rule_for("a/b/c")
    with pytest.raises(ValueError, match="frozen"):
        rule.approvals = 0  # type: ignore[misc]  # writing to a frozen field is what this test tries


# Merging

_HANDLES = st.from_regex(r"@[a-z][a-z0-9-]{0,6}", fullmatch=True)
_PEOPLE = st.lists(st.one_of(_HANDLES, st.from_regex(r"[UW][A-Z0-9]{8}", fullmatch=True)), unique=True, max_size=3)
_DURATIONS = {
    "90m": timedelta(minutes=90),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
    600: timedelta(seconds=600),
}
_KEYS = st.fixed_dictionaries(
    {},
    optional={
        "allowed_operations": st.lists(st.sampled_from(OPERATIONS), unique=True),
        "require_approval": st.lists(st.sampled_from(OPERATIONS), unique=True),
        "approvals": st.integers(1, 5),
        "requesters": _PEOPLE,
        # Handles only: ids alone would have to outnumber the approvals (that check has its own tests).
        "approvers": st.lists(_HANDLES, unique=True, max_size=3),
        "allow_self_approval": st.booleans(),
        "expires_after": st.sampled_from(list(_DURATIONS)),
        "preview_first": st.booleans(),
        "confirm_destroy": st.booleans(),
        "admins": _PEOPLE,
    },
)
_BUILT_IN: dict[str, Any] = {
    "allowed_operations": OPERATIONS,
    "require_approval": ["update", "destroy"],
    "approvals": 1,
    "requesters": [],
    "approvers": [],
    "allow_self_approval": False,
    "expires_after": "4h",
    "preview_first": False,
    "confirm_destroy": False,
    "admins": [],
}


def _as_rule(keys: dict[str, Any], matched: str | None) -> Rule:
    return Rule(
        allowed_operations=frozenset(keys["allowed_operations"]),
        approval_required=frozenset(keys["require_approval"]),
        approvals=keys["approvals"],
        requesters=tuple(keys["requesters"]),
        approvers=tuple(keys["approvers"]),
        self_approval=keys["allow_self_approval"],
        expires_after=_DURATIONS[keys["expires_after"]],
        preview_first=keys["preview_first"],
        confirm_destroy=keys["confirm_destroy"],
        admins=tuple(keys["admins"]),
        matched=matched,
    )


@given(defaults=_KEYS, overrides=_KEYS)
def test_an_entry_overrides_exactly_the_keys_it_sets(defaults: dict[str, Any], overrides: dict[str, Any]) -> None:
    policy = Policy.loads(toml(defaults, {"match": "acme/*/*", **overrides}))
    assert policy.rule_for("acme/web/prod") == _as_rule({**_BUILT_IN, **defaults, **overrides}, "acme/*/*")
    assert policy.rule_for("globex/web/prod") == _as_rule({**_BUILT_IN, **defaults}, None)


def test_entries_never_combine_with_each_other() -> None:
    policy = Policy.loads(toml({}, {"match": "acme/*/*", "approvals": 3}, {"match": "acme/web/*", "admins": ["@ops"]}))
    web = policy.rule_for("acme/web/prod")
    assert (web.matched, web.admins, web.approvals) == ("acme/web/*", ("@ops",), 1)


# Matching: part by part, ignoring case; the most specific match wins


def test_a_wildcard_stays_within_its_part_and_question_marks_take_one_character() -> None:
    policy = Policy.loads(toml({}, {"match": "acme/we?/prod", "approvals": 2}))
    assert policy.rule_for("acme/web/prod").approvals == 2
    assert policy.rule_for("acme/webb/prod").approvals == 1
    assert policy.rule_for("acme/web/prod-eu").approvals == 1


def test_matching_ignores_case_so_another_spelling_cannot_skip_a_gate() -> None:
    policy = Policy.loads(toml({}, {"match": "acme/*/prod", "approvals": 2}))
    assert policy.rule_for("ACME/Web/Prod").approvals == 2


def test_a_malformed_stack_name_is_refused_with_what_to_write() -> None:
    with pytest.raises(ValueError, match="org/project/stack"):
        Policy.default().rule_for("web/prod")
    with pytest.raises(ValueError, match="invalid stack name"):
        Policy.default().rule_for("acme/web/pr od")


def test_the_rule_for_an_org_comes_from_entries_covering_all_of_it() -> None:
    policy = Policy.loads(
        toml(
            {"admins": ["@everyone-admins"]},
            {"match": "*/*/*", "admins": ["@all"]},
            {"match": "acme/*/*", "admins": ["@acme-admins"]},
            {"match": "acme/web/*", "admins": ["@web-admins"]},
        )
    )
    assert policy.rule_for_org("acme").admins == ("@acme-admins",)
    assert policy.rule_for_org("globex").admins == ("@all",)
    assert Policy.default().rule_for_org("acme").admins == ()


def test_between_equally_specific_matches_the_later_entry_wins() -> None:
    first, second = {"match": "acme/w*/prod"}, {"match": "acme/*b/prod"}
    assert Policy.loads(toml({}, first, second)).rule_for("acme/web/prod").matched == "acme/*b/prod"
    assert Policy.loads(toml({}, second, first)).rule_for("acme/web/prod").matched == "acme/w*/prod"


def test_fewer_stars_beat_more_literal_text() -> None:
    policy = Policy.loads(toml({}, {"match": "acme/*/prod"}, {"match": "acme/web-*/pro*"}))
    assert policy.rule_for("acme/web-eu/prod").matched == "acme/*/prod"
    assert policy.rule_for("acme/web-eu/production").matched == "acme/web-*/pro*"


_NAME = st.from_regex(r"[a-z][a-z0-9-]{0,7}", fullmatch=True)


@st.composite
def _covering(draw: st.DrawFn, name: str) -> str:
    """A glob that matches ``name``: the name, "*", a prefix or suffix with "*", or the name with "?"s."""
    kind = draw(st.sampled_from(["literal", "star", "prefix", "suffix", "question"]))
    cut = draw(st.integers(0, len(name)))
    if kind == "star":
        return "*"
    if kind == "prefix":
        return name[:cut] + "*"
    if kind == "suffix":
        return "*" + name[cut:]
    if kind == "question":
        holes = draw(st.sets(st.integers(0, len(name) - 1)))
        return "".join("?" if i in holes else c for i, c in enumerate(name))
    return name


def _specificity(pattern: str) -> tuple[int, int, int]:
    """The documented order, written out again: fewest *, then fewest ?, then most literal characters."""
    literal = len(pattern) - pattern.count("/") - pattern.count("*") - pattern.count("?")
    return pattern.count("*"), pattern.count("?"), -literal


@given(data=st.data(), org=_NAME, project=_NAME, stack=_NAME)
def test_the_most_specific_matching_entry_wins_in_any_order(
    data: st.DataObject, org: str, project: str, stack: str
) -> None:
    covering = st.tuples(_covering(org), _covering(project), _covering(stack)).map("/".join)
    # "_" never occurs in the generated names, so these never match.
    missing = st.tuples(_NAME, _NAME, _NAME).map(lambda parts: "_" + "/".join(parts))
    matching = data.draw(st.lists(covering, min_size=1, max_size=6, unique=True))
    others = data.draw(st.lists(missing, max_size=3, unique=True))
    order = data.draw(st.permutations([*matching, *others]))

    chosen = Policy.loads(toml({}, *({"match": p} for p in order))).rule_for(f"{org}/{project}/{stack}").matched

    best = min(_specificity(p) for p in matching)
    assert chosen in matching
    assert _specificity(chosen) == best
    # Ties go to the later entry, so the choice depends on the order only between equally specific patterns.
    assert chosen == [p for p in order if p in matching and _specificity(p) == best][-1]


# Problems: one line each, naming the file, the key and what is wrong

_BAD = [
    ({"aprovers": ["@sre"]}, None, r'defaults\.aprovers: unknown key \(did you mean "approvers"\?\)'),
    ({"self_approval": True}, None, r'defaults\.self_approval: unknown key \(did you mean "allow_self_approval"\?\)'),
    ({"match": "a/b/c"}, None, r"defaults\.match: \[defaults\] has no match"),
    (
        None,
        {"match": "a/*/c", "requester": ["@x"]},
        r'stacks\[0\]\.requester: unknown key \(did you mean "requesters"\?\)',
    ),
    (
        None,
        {"match": "a/*/c", "approvals": 0},
        r'stacks\[0\]\.approvals: must be at least 1 \(in the entry with match = "a/\*/c"\)',
    ),
    ({"approvals": "2"}, None, r"defaults\.approvals: must be a whole number"),
    ({"approvals": True}, None, r"defaults\.approvals: must be a whole number"),
    ({"preview_first": "yes"}, None, r"defaults\.preview_first: must be true or false"),
    ({"allowed_operations": ["upate"]}, None, r'"upate" is not an operation \(did you mean "update"\?\)'),
    ({"require_approval": "update"}, None, r"defaults\.require_approval: must be an array of operations"),
    ({"approvers": ["alice"]}, None, r'defaults\.approvers: "alice" is not a user id .*"@alice" for a user group'),
    ({"admins": ["<@U123ABC>"]}, None, r'defaults\.admins: .* write the bare user id "U123ABC"'),
    ({"admins": ["@SRE"]}, None, r'defaults\.admins: .* write "@sre" \(user-group handles are lower-case\)'),
    ({"requesters": ["S0123ABC"]}, None, r"defaults\.requesters: .*looks like a user-group id"),
    ({"requesters": [7]}, None, r"defaults\.requesters: 7 is not a string"),
    ({"expires_after": "4 hours"}, None, r'defaults\.expires_after: "4 hours" is not a duration'),
    ({"expires_after": 4.5}, None, r"defaults\.expires_after: must be a duration"),
    ({"expires_after": "8d"}, None, r"defaults\.expires_after: .*between 1 minute and 7 days"),
    ({"expires_after": 0}, None, r"defaults\.expires_after: .*between 1 minute and 7 days"),
    ({"expires_after": "99999999999999999999d"}, None, r"between 1 minute and 7 days"),
    (None, {"match": "acme/*"}, r"stacks\[0\]\.match: \"acme/\*\" must have three parts"),
    (None, {"match": "acme/[ab]/prod"}, r"stacks\[0\]\.match: .*the only wildcards"),
    (None, {"match": 5}, r"stacks\[0\]\.match: must be a string"),
    (None, {"approvals": 2}, r"stacks\[0\]\.match: is required"),
]


@pytest.mark.parametrize(("defaults", "entry", "expected"), _BAD)
def test_each_bad_value_is_one_line_naming_its_key(
    defaults: dict[str, Any] | None, entry: dict[str, Any] | None, expected: str
) -> None:
    problems = problems_of(toml(defaults, *([entry] if entry is not None else [])))
    assert len(problems) == 1
    assert problems[0].startswith("policy.toml: ")
    assert "\n" not in problems[0]
    assert re.search(expected, problems[0]), problems[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("approvals = 2\n", r"^policy.toml: approvals: is not a top-level key: rule keys go under \[defaults\]"),
        ("[default]\n", r'^policy.toml: default: unknown key \(did you mean "defaults"\?\)'),
        ("defaults = 5\n", r"^policy.toml: defaults: must be a table"),
        ("[stacks]\nmatch = 'a/b/c'\n", r"^policy.toml: stacks: must be an array of tables"),
        ("stacks = [1]\n", r"^policy.toml: stacks\[0\]: must be a table"),
        ("[defaults\n", r"^policy.toml: is not valid TOML: .*line 1"),
        (
            toml({}, {"match": "acme/*/prod"}, {"match": "ACME/*/prod"}),
            r'^policy.toml: stacks\[1\]\.match: "ACME/\*/prod" is already the match of stacks\[0\]',
        ),
        (
            toml({}, {"match": "a/b/c", "approvals": 3, "approvers": ["U1AAAAAAA", "U2BBBBBBB"]}),
            r"^policy.toml: stacks\[0\]\.approvals: 3 approvals are needed but approvers lists only 2 users",
        ),
        (
            toml({"approvals": 2}, {"match": "a/b/c", "approvers": ["U1AAAAAAA"]}),
            r"^policy.toml: stacks\[0\]\.approvers: 2 approvals are needed but approvers lists only 1 user",
        ),
    ],
)
def test_file_level_problems_name_their_key(text: str, expected: str) -> None:
    problems = problems_of(text)
    assert len(problems) == 1
    assert re.search(expected, problems[0]), problems[0]


def test_a_group_among_the_approvers_may_give_any_number_of_approvals() -> None:
    policy = Policy.loads(toml({"approvals": 3, "approvers": ["U1AAAAAAA", "@sre"]}))
    assert policy.rule_for("a/b/c").approvals == 3


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    text = toml({"approvals": 0, "aprovers": []}, {"match": "a/*", "preview_first": 1})
    problems = problems_of(text)
    assert {line.split(": ")[1] for line in problems} == {
        "defaults.approvals",
        "defaults.aprovers",
        "stacks[0].match",
        "stacks[0].preview_first",
    }


def test_a_file_that_cannot_be_read_is_one_line_naming_it(tmp_path: Path) -> None:
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe[defaults]")
    for path, expected in [
        (tmp_path / "missing.toml", "cannot read the policy file: No such file"),
        (tmp_path, "cannot read the policy file"),
        (binary, "is not UTF-8 text"),
    ]:
        with pytest.raises(ConfigError) as caught:
            Policy.load(path)
        assert str(caught.value).startswith(f"{path}: {expected}")


# Values: durations and principals


@given(st.integers(0, 7), st.integers(0, 48), st.integers(0, 200), st.integers(0, 100))
def test_durations_in_days_hours_minutes_and_seconds(days: int, hours: int, minutes: int, seconds: int) -> None:
    text = "".join(f"{n}{unit}" for n, unit in zip((days, hours, minutes, seconds), "dhms", strict=True) if n)
    expected = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if not text:
        assert problems_of(toml({"expires_after": "0s"}))
    elif timedelta(minutes=1) <= expected <= timedelta(days=7):
        assert Policy.loads(toml({"expires_after": text})).defaults.expires_after == expected
    else:
        assert re.search("between 1 minute and 7 days", problems_of(toml({"expires_after": text}))[0])


@given(st.integers(-(2**63), 2**63 - 1))
def test_integer_durations_are_seconds(seconds: int) -> None:
    if 60 <= seconds <= 7 * 86400:
        assert Policy.loads(toml({"expires_after": seconds})).defaults.expires_after == timedelta(seconds=seconds)
    else:
        assert re.search("between 1 minute and 7 days", problems_of(toml({"expires_after": seconds}))[0])


@given(st.lists(st.one_of(_HANDLES, st.from_regex(r"[UW][A-Z0-9]{2,12}", fullmatch=True)), max_size=6))
def test_principals_keep_their_order_without_duplicates(people: list[str]) -> None:
    rule = Policy.loads(toml({"requesters": people})).defaults
    assert rule.requesters == tuple(dict.fromkeys(people))
