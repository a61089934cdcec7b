"""The settings merge: the documented rules as properties over settings-shaped documents, secrets as leaves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.pulumi import DeploymentSettings, merge_settings, normalize_settings
from bot.pulumi.merge import is_secret_position

names = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ_", min_size=1, max_size=6)
texts = st.text(max_size=8)
secrets = st.one_of(
    texts,
    st.builds(lambda p: {"secret": p}, texts),
    st.builds(lambda c: {"ciphertext": c}, texts.filter(bool)),
    st.builds(lambda c: {"secret": "[secret]", "ciphertext": c}, texts.filter(bool)),
    st.builds(lambda s, v: {"isSecret": s, "value": v}, st.booleans(), texts),
)
json_leaves = st.one_of(texts, st.integers(), st.booleans(), st.lists(texts, max_size=3))
# Keys the bot does not know: any JSON without nulls, objects included (they merge like any object).
nested_json = st.recursive(
    json_leaves, lambda inner: st.dictionaries(st.sampled_from(["a", "b"]), inner, max_size=2), max_leaves=4
)
extras = st.dictionaries(st.sampled_from(["newKey", "other", "x"]), nested_json, max_size=2)


def obj(required: dict[str, Any] | None = None, **optional: Any) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(required or {}, optional=optional)


def settings_docs(value: Any) -> st.SearchStrategy[dict[str, Any]]:
    """Settings documents; ``value`` wraps each strategy (the patch variant makes every value maybe-null)."""
    auth = obj(
        accessToken=value(secrets),
        sshAuth=value(obj(sshPrivateKey=value(secrets), password=value(secrets))),
        basicAuth=value(obj(userName=value(secrets), password=value(secrets))),
    )
    git = obj(
        repoUrl=value(texts), repoURL=value(texts), branch=value(texts), repoDir=value(texts), gitAuth=value(auth)
    )
    operation = obj(
        environmentVariables=value(st.dictionaries(names, value(secrets), max_size=4)),
        preRunCommands=value(st.lists(texts, max_size=3)),
        options=value(obj(skipInstallDependencies=value(st.booleans()), shell=value(texts))),
        oidc=value(obj(aws=value(obj(roleArn=value(texts), sessionName=value(texts))))),
    )
    image = obj(reference=value(texts), credentials=value(obj(username=value(texts), password=value(secrets))))
    return st.builds(
        lambda doc, extra: {**extra, **doc},
        obj(
            sourceContext=value(obj(git=value(git))),
            operationContext=value(operation),
            executorContext=value(obj(executorImage=value(image))),
            gitHub=value(obj(repository=value(texts), paths=value(st.lists(texts, max_size=2)))),
            cacheOptions=value(obj(enable=value(st.booleans()))),
        ),
        extras,
    )


currents = settings_docs(lambda strategy: strategy)
patches = settings_docs(lambda strategy: st.one_of(st.none(), strategy))


def walk(doc: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (path, value) of a document; secrets and non-objects are leaves."""
    for key, value in doc.items():
        child = (*path, key)
        yield child, value
        if isinstance(value, dict) and not is_secret_position(child):
            yield from walk(value, child)


MISSING = object()


def lookup(doc: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(doc, dict) or key not in doc:
            return MISSING
        doc = doc[key]
    return doc


@given(currents)
def test_an_empty_patch_changes_nothing(current: dict[str, Any]) -> None:
    assert merge_settings(current, {}) == normalize_settings(current)


@given(currents, patches)
@settings(max_examples=200)
def test_merging_the_same_patch_twice_is_merging_it_once(current: dict[str, Any], patch: dict[str, Any]) -> None:
    once = merge_settings(current, patch)
    assert merge_settings(once, patch) == once


@given(currents, patches)
@settings(max_examples=200)
def test_nulls_remove_patch_leaves_win_and_no_null_remains(current: dict[str, Any], patch: dict[str, Any]) -> None:
    merged = merge_settings(current, patch)
    normalized = normalize_settings(patch)
    for path, value in walk(normalized):
        if value is None:
            assert lookup(merged, path) is MISSING, path
        elif not isinstance(value, dict) or is_secret_position(path):
            assert lookup(merged, path) == value, path
    assert all(value is not None for _, value in walk(merged))


@given(currents, patches)
@settings(max_examples=200)
def test_secrets_are_replaced_whole_never_merged_key_by_key(current: dict[str, Any], patch: dict[str, Any]) -> None:
    merged = merge_settings(current, patch)
    before, change = normalize_settings(current), normalize_settings(patch)
    for path, value in walk(merged):
        if is_secret_position(path):
            assert value in (lookup(before, path), lookup(change, path)), path


@given(currents, patches)
def test_what_the_patch_does_not_mention_is_kept(current: dict[str, Any], patch: dict[str, Any]) -> None:
    merged = merge_settings(current, patch)
    change = normalize_settings(patch)
    for path, value in walk(normalize_settings(current)):
        untouched = all(lookup(change, path[:depth]) is MISSING for depth in range(1, len(path) + 1))
        if untouched:
            assert lookup(merged, path) == value, path


@given(currents, patches)
def test_the_result_is_valid_settings_with_repo_url_spelled_one_way(
    current: dict[str, Any], patch: dict[str, Any]
) -> None:
    merged = merge_settings(current, patch)
    git = lookup(merged, ("sourceContext", "git"))
    assert git is MISSING or "repoURL" not in git
    parsed = DeploymentSettings.model_validate(merged)
    assert DeploymentSettings.model_validate(parsed.to_wire()) == parsed


@given(currents, patches)
def test_inputs_are_not_modified(current: dict[str, Any], patch: dict[str, Any]) -> None:
    current_copy, patch_copy = repr(current), repr(patch)
    merged = merge_settings(current, patch)
    for _, value in walk(merged):
        if isinstance(value, dict | list):
            value.clear()
    assert (repr(current), repr(patch)) == (current_copy, patch_copy)


def test_a_ciphertext_replaces_a_redacted_secret_rather_than_merging_into_it() -> None:
    current = {"operationContext": {"environmentVariables": {"TOKEN": {"secret": "[secret]", "ciphertext": "old"}}}}
    patch = {"operationContext": {"environmentVariables": {"TOKEN": {"ciphertext": "new"}}}}
    assert merge_settings(current, patch) == patch


def test_a_secret_is_a_leaf_by_position_not_by_shape() -> None:
    # An ordinary object that happens to look like a secret still merges key by key.
    current = {"gitHub": {"secret": "a", "ciphertext": "b"}}
    assert merge_settings(current, {"gitHub": {"ciphertext": "c"}}) == {"gitHub": {"secret": "a", "ciphertext": "c"}}
    # A git credential merges whole, whatever it looks like.
    current = {"sourceContext": {"git": {"gitAuth": {"basicAuth": {"password": {"secret": "p", "x": 1}}}}}}
    patch = {"sourceContext": {"git": {"gitAuth": {"basicAuth": {"password": {"ciphertext": "c"}}}}}}
    assert merge_settings(current, patch) == patch


def test_repo_url_in_either_spelling_on_either_side() -> None:
    current = {"sourceContext": {"git": {"repoURL": "https://old", "branch": "main"}}}
    assert merge_settings(current, {"sourceContext": {"git": {"repoUrl": "https://new"}}}) == {
        "sourceContext": {"git": {"repoUrl": "https://new", "branch": "main"}}
    }
    current = {"sourceContext": {"git": {"repoUrl": "https://old", "branch": "main"}}}
    assert merge_settings(current, {"sourceContext": {"git": {"repoURL": None}}}) == {
        "sourceContext": {"git": {"branch": "main"}}
    }


def test_arrays_are_replaced_and_new_objects_lose_their_nulls() -> None:
    current = {"operationContext": {"preRunCommands": ["a", "b"]}}
    patch = {"operationContext": {"preRunCommands": ["c"], "oidc": {"aws": {"roleArn": "r", "duration": None}}}}
    assert merge_settings(current, patch) == {
        "operationContext": {"preRunCommands": ["c"], "oidc": {"aws": {"roleArn": "r"}}}
    }
