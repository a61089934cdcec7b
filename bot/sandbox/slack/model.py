"""The fake Slack's records: channels, messages (with edit history), views, triggers, response URLs and uploads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]


@dataclass
class Channel:
    id: str
    name: str
    members: set[str]
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False
    created: int = 1_700_000_000

    def to_slack(self, viewer: str) -> JSON:
        info: JSON = {
            "id": self.id,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_im": self.is_im,
            "is_member": viewer in self.members,
        }
        if self.is_im:
            info["user"] = next((m for m in sorted(self.members) if m != viewer), viewer)
            return info
        return info | {
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_private": self.is_private,
            "is_general": self.name == "general",
        }


@dataclass(frozen=True)
class MessageRef:
    """Where a message lives: a channel message by (channel, ts), an ephemeral one by its ts."""

    channel: str
    ts: str
    ephemeral: bool = False


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str = ""
    blocks: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    reply_broadcast: bool = False
    files: list[JSON] = field(default_factory=list)
    metadata: JSON | None = None
    # Sandbox bookkeeping, not part of Slack's message shape.
    source: str = "chat.postMessage"
    visible_to: str | None = None  # set for ephemeral messages
    interaction: str | None = None  # the interaction whose reply or response_url produced it
    history: list[JSON] = field(default_factory=list)
    deleted: bool = False
    edited_ts: str | None = None

    @property
    def ref(self) -> MessageRef:
        return MessageRef(self.channel, self.ts, ephemeral=self.visible_to is not None)

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def content(self) -> JSON:
        return {"text": self.text, "blocks": self.blocks, "attachments": self.attachments}

    def to_slack(self, team_id: str) -> JSON:
        """The message as the Web API returns it (chat.postMessage's ``message``, conversations.history)."""
        out: JSON = {"type": "message", "ts": self.ts, "user": self.user, "text": self.text, "team": team_id}
        if self.bot_id is not None:
            out |= {"subtype": "bot_message", "bot_id": self.bot_id, "app_id": self.app_id}
        if self.blocks:
            out["blocks"] = self.blocks
        if self.attachments:
            out["attachments"] = self.attachments
        if self.thread_ts is not None:
            out["thread_ts"] = self.thread_ts
            if self.reply_broadcast:
                out["subtype"] = "thread_broadcast"
        if self.files:
            out |= {"files": self.files, "upload": True}
        if self.metadata is not None:
            out["metadata"] = self.metadata
        if self.edited_ts is not None:
            out["edited"] = {"user": self.user, "ts": self.edited_ts}
        return out

    def record(self, team_id: str) -> JSON:
        """What the control API shows: Slack's shape plus where it came from and every earlier version."""
        return self.to_slack(team_id) | {
            "channel": self.channel,
            "source": self.source,
            "ephemeral": self.visible_to is not None,
            "visible_to": self.visible_to,
            "interaction": self.interaction,
            "deleted": self.deleted,
            "history": self.history,
        }


@dataclass
class Trigger:
    id: str
    user: str
    issued_at: float
    view_id: str | None = None  # set when the interaction came from a modal (views.push needs one)
    used: bool = False


@dataclass
class View:
    id: str
    user: str
    spec: JSON
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    external_id: str | None = None
    values: dict[str, dict[str, JSON]] = field(default_factory=dict)
    status: Literal["open", "closed"] = "open"
    errors: dict[str, str] = field(default_factory=dict)
    history: list[JSON] = field(default_factory=list)

    def to_slack(self, team_id: str, app_id: str, bot_id: str) -> JSON:
        spec = self.spec
        return {
            "id": self.id,
            "team_id": team_id,
            "type": spec.get("type", "modal"),
            "blocks": spec.get("blocks", []),
            "private_metadata": spec.get("private_metadata", ""),
            "callback_id": spec.get("callback_id", ""),
            "state": {"values": self.values},
            "hash": self.hash,
            "title": spec.get("title"),
            "clear_on_close": bool(spec.get("clear_on_close", False)),
            "notify_on_close": bool(spec.get("notify_on_close", False)),
            "close": spec.get("close"),
            "submit": spec.get("submit"),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": app_id,
            "external_id": self.external_id or "",
            "app_installed_team_id": team_id,
            "bot_id": bot_id,
        }

    def record(self, team_id: str, app_id: str, bot_id: str) -> JSON:
        return self.to_slack(team_id, app_id, bot_id) | {
            "user": self.user,
            "status": self.status,
            "errors": self.errors,
            "history": self.history,
        }


@dataclass
class Hook:
    """A response_url: usable 5 times within 30 minutes, bound to the interaction that issued it."""

    token: str
    url: str
    interaction: str
    kind: Literal["commands", "actions"]
    channel: str
    user: str
    created_at: float
    source: MessageRef | None = None  # the message a click came from (None for slash commands)
    uses: int = 0
    last_posted: MessageRef | None = None


@dataclass
class Upload:
    file_id: str
    filename: str
    length: int
    alt_txt: str | None = None
    snippet_type: str | None = None
    content: bytes | None = None
    title: str | None = None
    completed: bool = False
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    message_ts: str | None = None

    def file_object(self, user: str, team_domain: str) -> JSON:
        size = len(self.content) if self.content is not None else 0
        return {
            "id": self.file_id,
            "name": self.filename,
            "title": self.title or self.filename,
            "user": user,
            "size": size,
            "mimetype": "text/plain",
            "filetype": self.snippet_type or "text",
            "permalink": f"https://{team_domain}.slack.com/files/{user}/{self.file_id}/{self.filename}",
        }

    def record(self) -> JSON:
        raw = self.content or b""
        return {
            "id": self.file_id,
            "filename": self.filename,
            "title": self.title or self.filename,
            "declared_length": self.length,
            "length": len(raw),
            "content": raw.decode("utf-8", errors="replace"),
            "completed": self.completed,
            "channel": self.channel,
            "thread_ts": self.thread_ts,
            "initial_comment": self.initial_comment,
            "message_ts": self.message_ts,
        }
