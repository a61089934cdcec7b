"""The part of Slack's app manifest schema (v1) that Deploybot's manifests use, as pydantic models: unknown keys are
errors (the schema's ``additionalProperties: false``) and lengths and patterns are the schema's.

Written from github.com/slackapi/manifest-schema, ``schemas/manifest.schema.1.0.0.json``, because no package ships
that schema; keys Deploybot does not use are left out, so using one fails here until it is added.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Url = Annotated[str, StringConstraints(pattern=r"^https?://", max_length=3500)]
Scope = Annotated[str, StringConstraints(max_length=50)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Metadata(_Strict):
    major_version: int | None = None
    minor_version: int | None = None


class DisplayInformation(_Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=35)]
    description: Annotated[str, StringConstraints(min_length=1, max_length=140)] | None = None
    background_color: Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")] | None = None
    long_description: Annotated[str, StringConstraints(min_length=175, max_length=4000)] | None = None


class AppHome(_Strict):
    home_tab_enabled: bool | None = None
    messages_tab_enabled: bool | None = None
    messages_tab_read_only_enabled: bool | None = None


class BotUser(_Strict):
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    always_online: bool | None = None


class SlashCommand(_Strict):
    command: Annotated[str, StringConstraints(min_length=2, max_length=32, pattern=r"^/")]
    description: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    url: Annotated[str, StringConstraints(pattern=r"^https?://", max_length=3000)] | None = None
    usage_hint: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None
    should_escape: bool | None = None


class Features(_Strict):
    app_home: AppHome | None = None
    bot_user: BotUser | None = None
    slash_commands: Annotated[list[SlashCommand], Field(min_length=1, max_length=50)] | None = None


class Scopes(_Strict):
    bot: Annotated[list[Scope], Field(max_length=255)] = []
    user: Annotated[list[Scope], Field(max_length=255)] = []


class OAuthConfig(_Strict):
    scopes: Scopes | None = None


class EventSubscriptions(_Strict):
    request_url: Url | None = None
    bot_events: Annotated[list[Annotated[str, StringConstraints(max_length=50)]], Field(max_length=100)] = []
    user_events: Annotated[list[Annotated[str, StringConstraints(max_length=50)]], Field(max_length=100)] = []


class Interactivity(_Strict):
    is_enabled: bool  # required whenever the object is present
    request_url: Url | None = None
    message_menu_options_url: Url | None = None


class Settings(_Strict):
    event_subscriptions: EventSubscriptions | None = None
    interactivity: Interactivity | None = None
    org_deploy_enabled: bool | None = None
    socket_mode_enabled: bool | None = None
    token_rotation_enabled: bool | None = None


class Manifest(_Strict):
    metadata: Metadata | None = Field(default=None, alias="_metadata")
    display_information: DisplayInformation
    features: Features | None = None
    oauth_config: OAuthConfig | None = None
    settings: Settings | None = None
