"""The settings merge the service applies to ``POST …/deployments/settings`` and to inherited create requests.

Rules (spec "Patch Settings"): ``null`` removes a key, objects merge recursively, everything else — arrays
included — is replaced. A secret value is one leaf, replaced whole: an object like ``{"ciphertext": …}`` must never be
merged key by key into ``{"secret": "[secret]", "ciphertext": …}``. Which objects are secrets is decided by their
position in the settings schema, not by their shape. ``repoURL`` is read as ``repoUrl`` on both sides.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

# Positions of secret values, as key paths; "*" matches any key (an environment variable's name).
_GIT_AUTH_SECRETS = (
    ("accessToken",),
    ("sshAuth", "sshPrivateKey"),
    ("sshAuth", "password"),
    ("basicAuth", "userName"),
    ("basicAuth", "password"),
)
_SECRET_PATHS: frozenset[tuple[str, ...]] = frozenset(
    {
        ("operationContext", "environmentVariables", "*"),
        ("executorContext", "executorImage", "credentials", "password"),
    }
    | {("sourceContext", "git", "gitAuth", *tail) for tail in _GIT_AUTH_SECRETS}
    | {("sourceContext", "template", "gitAuth", *tail) for tail in _GIT_AUTH_SECRETS}
    | {("sourceContext", "hg", "hgAuth", *tail) for tail in _GIT_AUTH_SECRETS}
)
_REPO_URL_HOLDERS: frozenset[tuple[str, ...]] = frozenset({("sourceContext", "git"), ("sourceContext", "hg")})


def is_secret_position(path: tuple[str, ...]) -> bool:
    """Whether the value at this key path of a settings document is a secret value (a leaf for merging)."""
    return any(
        len(pattern) == len(path) and all(want in ("*", got) for want, got in zip(pattern, path, strict=True))
        for pattern in _SECRET_PATHS
    )


def merge_settings(current: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """The settings after applying ``patch`` to ``current`` (both wire-form JSON objects). Inputs are not modified.

    A ``null`` in ``current`` is read as an absent key, so the result never holds a ``null`` property.
    """
    stored = _normalize(current, (), keep_nulls=False)
    return copy.deepcopy(_merge_object(stored, _normalize(patch, (), keep_nulls=True), ()))


def normalize_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with ``repoURL`` renamed ``repoUrl`` (an explicit ``repoUrl`` wins when both are present)."""
    return copy.deepcopy(_normalize(settings, (), keep_nulls=True))


def _normalize(value: Mapping[str, Any], path: tuple[str, ...], *, keep_nulls: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if item is None and not keep_nulls:
            continue
        if path in _REPO_URL_HOLDERS and key == "repoURL":
            if "repoUrl" not in value or (value["repoUrl"] is None and not keep_nulls):
                out["repoUrl"] = item
            continue
        child = (*path, key)
        if isinstance(item, Mapping) and not is_secret_position(child):
            item = _normalize(item, child, keep_nulls=keep_nulls)
        out[key] = item
    return out


def _merge_object(current: Mapping[str, Any], patch: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    merged = dict(current)
    for key, change in patch.items():
        child = (*path, key)
        if change is None:
            merged.pop(key, None)
        elif isinstance(change, Mapping) and not is_secret_position(child):
            # A new object (or one replacing a non-object) is merged into nothing, which also drops its nulls.
            base = merged.get(key)
            merged[key] = _merge_object(base if isinstance(base, Mapping) else {}, change, child)
        else:
            merged[key] = change
    return merged
