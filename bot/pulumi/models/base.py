"""The base every wire model derives from: camelCase on the wire, snake_case in Python, unknown keys tolerated."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """A JSON body of the Deployments API. Keys Pulumi adds later are ignored rather than rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        serialize_by_alias=True,
        extra="ignore",
        frozen=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON object to send: only the keys the caller set, so ``None`` means "remove" and unset means "keep"."""
        return self.model_dump(mode="json", exclude_unset=True)


class SettingsModel(WireModel):
    """A part of the deployment settings. Unknown keys are kept, so settings read and written back lose nothing."""

    model_config = ConfigDict(extra="allow")


def accept_repo_url_caps(data: Any) -> Any:
    """Read ``repoURL`` (the seed doc's and deployment configuration's spelling) as ``repoUrl`` (the settings')."""
    if isinstance(data, dict) and "repoURL" in data:
        data = dict(data)
        spelled_caps = data.pop("repoURL")
        data.setdefault("repoUrl", spelled_caps)
    return data
