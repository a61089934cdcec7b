"""``GET …/deployments/{id}/updates``: the Pulumi engine runs of a deployment, with resource change counts."""

from __future__ import annotations

from pydantic import Field

from bot.pulumi.models.base import WireModel
from bot.pulumi.models.deployment import UserInfo
from bot.pulumi.models.enums import Open, UpdateResult


class ConfigValue(WireModel):
    string: str = ""
    secret: bool = False
    is_object: bool = Field(default=False, alias="object")


class AppUpdateInfo(WireModel):
    kind: str = ""  # update, preview, destroy, … and the "P" preview variants, kept as written
    start_time: int = 0
    end_time: int = 0
    message: str = ""
    environment: dict[str, str] = Field(default_factory=dict)
    config: dict[str, ConfigValue] = Field(default_factory=dict)
    result: Open[UpdateResult] | None = None
    version: int = 0
    # Counts per operation, e.g. {"create": 2, "update": 1, "same": 3}.
    resource_changes: dict[str, int] = Field(default_factory=dict)
    resource_count: int | None = None


class UpdateInfo(WireModel):
    info: AppUpdateInfo
    update_id: str = Field(alias="updateID")
    version: int
    latest_version: int | None = None
    requested_by: UserInfo | None = None
