"""The one boundary where Slack's raw payloads become our types: a slash command and a button click."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.errors import DeploybotError


class PayloadError(DeploybotError):
    """A payload from Slack lacks what every payload of its kind carries."""


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class SlashCommand(_Payload):
    """``/deploy …`` as Slack sends it (flat form fields)."""

    user_id: str
    user_name: str | None = None  # deprecated by Slack for identifying people; fine as a display name
    channel_id: str
    text: str = ""
    trigger_id: str
    response_url: str | None = None
    team_id: str | None = None
    command: str = "/deploy"

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> SlashCommand:
        try:
            return cls.model_validate(body)
        except ValidationError as exc:
            raise PayloadError(f"malformed slash command: {exc.error_count()} problem(s)") from None


class Click(_Payload):
    """One button press from a ``block_actions`` payload: who, where, which button, and its value."""

    user_id: str
    user_name: str | None = None
    action_id: str
    value: str = ""
    trigger_id: str | None = None
    response_url: str | None = None
    channel_id: str | None = None
    message_ts: str | None = None
    is_ephemeral: bool = False

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Click:
        try:
            action = body["actions"][0]
            container = body.get("container") or {}
            channel = body.get("channel") or {}
            return cls(
                user_id=body["user"]["id"],
                user_name=body["user"].get("username") or body["user"].get("name"),
                action_id=action["action_id"],
                value=action.get("value") or "",
                trigger_id=body.get("trigger_id"),
                response_url=body.get("response_url"),
                channel_id=container.get("channel_id") or channel.get("id"),
                message_ts=container.get("message_ts"),
                is_ephemeral=bool(container.get("is_ephemeral", False)),
            )
        except (KeyError, IndexError, TypeError, ValidationError):
            raise PayloadError("malformed block_actions payload") from None

    @property
    def delivery_id(self) -> str:
        """What identifies this click across resends: Slack gives each click its own trigger_id."""
        return self.trigger_id or f"{self.user_id}:{self.message_ts}:{self.action_id}:{self.value}"
