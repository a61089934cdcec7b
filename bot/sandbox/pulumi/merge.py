"""Pulumi's deployment-settings merge: ``null`` removes a key, objects merge recursively, the rest is replaced.

Secrets arrive here already parsed into ``Secret`` objects (not dicts), so a secret is a leaf replaced whole and
never merged key by key.
"""

from __future__ import annotations

from typing import Any


def merge(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A new dict: ``patch`` applied over ``current`` (neither is modified)."""
    result = dict(current)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            base = result.get(key)
            # An object added where there was none (or a non-object) still drops its nulls.
            result[key] = merge(base if isinstance(base, dict) else {}, value)
        else:
            result[key] = value
    return result
