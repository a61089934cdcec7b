"""Settings patches from the command line: ``KEY.PATH=VALUE`` assignments and ``--json`` objects.

Shared by ``/deploy settings set`` and the ``--set``/``--json`` flags of a deployment (one set of fields).
"""

from __future__ import annotations

import json
from typing import Any

from bot.errors import DeploybotError

JSONValue = Any  # JSON documents are recursive; pydantic validates them where they become models

# The fields a settings patch or a create request may carry (Pulumi's DeploymentSettingsRequest).
SETTINGS_ROOTS = (
    "sourceContext",
    "operationContext",
    "executorContext",
    "gitHub",
    "cacheOptions",
    "agentPoolID",
    "tag",
    "vcs",
)
_ROOTS_BY_LOWER = {root.lower(): root for root in SETTINGS_ROOTS}


class OverrideError(DeploybotError):
    """A ``KEY.PATH=VALUE`` or ``--json`` value is malformed."""


def parse_value(text: str) -> JSONValue:
    """A value is JSON when it parses as JSON (``3``, ``true``, ``null``, ``["a"]``), else the text itself."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting like "[[[[…"
        return text


def parse_assignment(text: str) -> tuple[list[str], JSONValue]:
    """Split ``a.b.c=value`` into its path and parsed value. The root is checked; its case is forgiven."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise OverrideError(f"{text!r} is not KEY.PATH=VALUE")
    path = key.split(".")
    if any(not part for part in path):
        raise OverrideError(f"{key!r} has an empty path segment")
    root = _ROOTS_BY_LOWER.get(path[0].lower())
    if root is None:
        raise OverrideError(f"{path[0]!r} is not a settings field; use one of: {', '.join(SETTINGS_ROOTS)}")
    return [root, *path[1:]], parse_value(raw)


def parse_json_object(text: str) -> dict[str, JSONValue]:
    """Parse a ``--json`` argument; it must be an object whose keys are settings fields."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OverrideError(f"--json is not valid JSON: {exc.msg} at position {exc.pos}") from None
    except RecursionError:
        raise OverrideError("--json is nested too deeply") from None
    if not isinstance(value, dict):
        raise OverrideError("--json must be a JSON object, like '{\"operationContext\": {…}}'")
    unknown = sorted(key for key in value if key not in SETTINGS_ROOTS)
    if unknown:
        raise OverrideError(f"--json has unknown fields {', '.join(unknown)}; use: {', '.join(SETTINGS_ROOTS)}")
    return value


def assign(patch: dict[str, JSONValue], path: list[str], value: JSONValue) -> None:
    """Set ``value`` at ``path`` inside ``patch``, creating objects on the way.

    ``None`` is kept: in a settings patch ``null`` means "remove this key". A later assignment wins over an
    earlier one; assigning below a key that holds a non-object replaces it with an object.
    """
    node = patch
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[path[-1]] = value


def build_patch(assignments: list[str], json_text: str | None = None) -> dict[str, JSONValue]:
    """The patch described by ``--json`` (applied first) then each ``KEY.PATH=VALUE`` in order."""
    patch: dict[str, JSONValue] = parse_json_object(json_text) if json_text is not None else {}
    for text in assignments:
        path, value = parse_assignment(text)
        assign(patch, path, value)
    return patch
