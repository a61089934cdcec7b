"""Deployment settings on the wire: requests parsed into the stored form, merged, checked, and rendered back.

Stored form: the JSON shape with secrets as ``Secret`` objects and git's URL under ``repoUrl``. Responses turn
secrets into ``{"secret": "[secret]", "ciphertext": …}`` and a string ``executorImage`` into ``{"reference": …}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bot.sandbox.pulumi.errors import bad_request
from bot.sandbox.pulumi.merge import merge
from bot.sandbox.pulumi.schema import CreateDeployment, Settings
from bot.sandbox.pulumi.secrets import Sealer, Secret

OPERATIONS = ("update", "preview", "refresh", "destroy", "detect-drift", "remediate-drift")


@dataclass(frozen=True)
class CreateRequest:
    operation: str
    inherit_settings: bool
    patch: dict[str, Any]  # the request's own settings, stored form, explicit nulls kept


# What pydantic puts in an error location for the branch of a union: a type name, or "function-after[…]".
_UNION_TAGS = frozenset({"str", "int", "bool", "float", "DockerImage"})


def _where(location: tuple[int | str, ...]) -> str:
    """A dotted path of field names (and dict keys), without pydantic's union-branch tags."""
    return ".".join(str(part) for part in location if part not in _UNION_TAGS and "[" not in str(part))


def describe(exc: ValidationError) -> str:
    """A one-line, client-facing account of what is wrong with a body."""
    problems: dict[str, list[str]] = {}
    for error in exc.errors():
        where = _where(error["loc"])
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] == "model_type" and not where:
            message = "the body must be a JSON object"
        else:
            message = error["msg"].removeprefix("Value error, ")
        problems.setdefault(where, []).append(message)
    lines = []
    for where, messages in list(problems.items())[:3]:
        # Several messages for one place come from the branches of a union (e.g. a string or an object).
        text = messages[0] if len(messages) == 1 else "matches none of its forms: " + "; ".join(messages)
        lines.append(f"unknown field {where!r}" if text == "unknown field" else f"{where}: {text}" if where else text)
    return "invalid request: " + "; ".join(lines)


def _validated(model: type[Settings], body: object, sealer: Sealer, stack: str, *, complete: bool) -> Settings:
    try:
        return model.model_validate(body, context={"sealer": sealer, "stack": stack, "complete": complete})
    except ValidationError as exc:
        raise bad_request(describe(exc)) from None


def _dump(model: Settings) -> dict[str, Any]:
    return model.model_dump(exclude_unset=True, by_alias=True)


def check_complete(settings: dict[str, Any], sealer: Sealer, stack: str) -> None:
    """400 when the (merged) settings lack a key the service requires, e.g. an AWS OIDC role without a session."""
    _validated(Settings, settings, sealer, stack, complete=True)


def parse_patch(body: object, sealer: Sealer, stack: str) -> dict[str, Any]:
    return _dump(_validated(Settings, body, sealer, stack, complete=False))


def apply_patch(current: dict[str, Any], patch: dict[str, Any], sealer: Sealer, stack: str) -> dict[str, Any]:
    merged = merge(current, patch)
    check_complete(merged, sealer, stack)
    return merged


def parse_replacement(body: object, sealer: Sealer, stack: str) -> dict[str, Any]:
    """PUT: the body is the whole new settings (nulls simply mean absent)."""
    return apply_patch({}, parse_patch(body, sealer, stack), sealer, stack)


def parse_create(body: object, sealer: Sealer, stack: str) -> CreateRequest:
    data = _dump(_validated(CreateDeployment, body, sealer, stack, complete=False))
    operation, inherit = data.pop("operation", None), data.pop("inheritSettings", None)
    if operation is None:
        raise bad_request(f"operation is required (one of {', '.join(OPERATIONS)})")
    if operation not in OPERATIONS:
        raise bad_request(f"unknown operation {operation!r}; expected one of {', '.join(OPERATIONS)}")
    # The service's default is true; the Python SDK always sends an explicit false unless told otherwise.
    return CreateRequest(operation=operation, inherit_settings=inherit is not False, patch=data)


def settings_for_deployment(
    stored: dict[str, Any] | None, request: CreateRequest, sealer: Sealer, stack: str
) -> dict[str, Any]:
    """The merged settings a deployment runs with; 400 when they cannot run."""
    base = stored if request.inherit_settings and stored else {}
    merged = apply_patch(base, request.patch, sealer, stack)
    git = merged.get("sourceContext", {}).get("git", {})
    if not git.get("repoUrl"):
        raise bad_request(
            "the deployment has no source: set sourceContext.git.repoUrl in the stack's deployment settings "
            "or in the request"
        )
    for other in ("branch", "tag"):
        if git.get("commit") and git.get(other):
            raise bad_request(
                f"sourceContext.git: commit and {other} are mutually exclusive, and the merged request has both "
                f'(send "{other}": null with the commit to override the stack\'s {other})'
            )
    if git.get("tag") and git.get("branch"):
        raise bad_request("sourceContext.git: tag and branch are mutually exclusive")
    return merged


def to_wire(settings: dict[str, Any]) -> dict[str, Any]:
    """The response body for stored settings."""
    wire: dict[str, Any] = _wire_value(settings)
    executor = wire.get("executorContext", {})
    if isinstance(executor.get("executorImage"), str):
        executor["executorImage"] = {"reference": executor["executorImage"]}
    return wire


def _wire_value(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.wire()
    if isinstance(value, dict):
        return {key: _wire_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_wire_value(item) for item in value]
    return value
