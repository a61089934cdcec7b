"""Properties of the emulator's settings merge (hypothesis): null removes, objects merge recursively, everything
else (arrays and secrets included) is replaced, untouched keys stay, and applying a patch twice changes nothing."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.pulumi.merge import merge
from bot.sandbox.pulumi.secrets import Secret

KEYS = st.sampled_from(["a", "b", "c", "git", "env"])
LEAVES = st.integers() | st.text(max_size=4) | st.booleans() | st.builds(Secret, st.text(min_size=1, max_size=4))
STORED = st.recursive(
    LEAVES | st.lists(st.integers(), max_size=3), lambda inner: st.dictionaries(KEYS, inner, max_size=4), max_leaves=12
)
PATCHES = st.recursive(
    st.none() | LEAVES | st.lists(st.integers(), max_size=3),
    lambda inner: st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


def _no_nulls(value: Any) -> bool:
    if isinstance(value, dict):
        return all(item is not None and _no_nulls(item) for item in value.values())
    return True


@given(current=st.dictionaries(KEYS, STORED, max_size=4), patch=st.dictionaries(KEYS, PATCHES, max_size=4))
def test_merge_rules(current: dict[str, Any], patch: dict[str, Any]) -> None:
    before_current, before_patch = copy.deepcopy(current), copy.deepcopy(patch)
    result = merge(current, patch)
    assert (current, patch) == (before_current, before_patch)  # inputs untouched
    assert _no_nulls(result)
    for key in current.keys() - patch.keys():
        assert result[key] == current[key]
    for key, value in patch.items():
        if value is None:
            assert key not in result
        elif isinstance(value, dict):
            base = current.get(key)
            assert result[key] == merge(base if isinstance(base, dict) else {}, value)
        else:
            assert result[key] == value  # arrays and secrets are replaced whole
    assert merge(result, patch) == result


def test_a_secret_replaces_an_object_and_is_never_merged_into() -> None:
    old, new = Secret("old-ciphertext"), Secret("new-ciphertext")
    assert merge({"TOKEN": old}, {"TOKEN": new}) == {"TOKEN": new}
    assert merge({"TOKEN": {"secret": "x"}}, {"TOKEN": new}) == {"TOKEN": new}
    assert merge({"TOKEN": old}, {"TOKEN": {"a": None, "b": 1}}) == {"TOKEN": {"b": 1}}
