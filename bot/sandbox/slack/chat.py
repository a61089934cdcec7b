"""The chat.* Web API methods: posting, editing (with history), ephemeral messages, permalinks and deletion."""

from __future__ import annotations

from typing import Any

from bot.sandbox.slack.blockkit import fill_ids, validate_blocks
from bot.sandbox.slack.model import JSON, Channel, Message, MessageRef
from bot.sandbox.slack.ratelimit import POST_PER_CHANNEL, POST_PER_WORKSPACE
from bot.sandbox.slack.state import Workspace
from bot.sandbox.slack.wire import Call, RateLimited, SlackError, bool_arg, list_arg, object_arg, required_arg, text_arg

POST_TRUNCATE_AT = 40_000  # chat.postMessage: Slack truncates longer text instead of refusing it
EDIT_TEXT_LIMIT = 4_000  # chat.update and chat.postEphemeral refuse longer text with msg_too_long
MARKDOWN_TEXT_LIMIT = 12_000


def parse_blocks(args: dict[str, Any], surface_error: str = "invalid_blocks") -> list[JSON] | None:
    """The ``blocks`` argument, checked against Block Kit's limits; None when it was not given."""
    blocks = list_arg(args, "blocks", "invalid_blocks_format")
    if blocks is None:
        return None
    problems = validate_blocks(blocks, "message")
    if problems:
        raise SlackError(surface_error, *problems)
    return blocks


def parse_attachments(args: dict[str, Any]) -> list[JSON] | None:
    attachments = list_arg(args, "attachments", "invalid_attachments")
    if attachments is not None and len(attachments) > 100:
        raise SlackError("too_many_attachments")
    return attachments


def new_content(args: dict[str, Any]) -> tuple[str, list[JSON], list[JSON]]:
    """text/blocks/attachments of a new message (postMessage, postEphemeral, response_url posts)."""
    markdown = text_arg(args, "markdown_text")
    text = text_arg(args, "text") or ""
    blocks = parse_blocks(args) or []
    attachments = parse_attachments(args) or []
    if markdown is not None:
        if text or blocks:
            raise SlackError("markdown_text_conflict")
        if len(markdown) > MARKDOWN_TEXT_LIMIT:
            raise SlackError("msg_too_long")
        return markdown, [{"type": "markdown", "text": markdown}], attachments
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    return text, blocks, attachments


def visible_channel(ws: Workspace, args: dict[str, Any], name: str = "channel") -> Channel:
    channel = ws.resolve_channel(text_arg(args, name) or "")
    if channel is None or not ws.bot_can_see(channel):
        raise SlackError("channel_not_found")
    return channel


def postable_channel(ws: Workspace, args: dict[str, Any]) -> Channel:
    channel = visible_channel(ws, args)
    if channel.is_archived:
        raise SlackError("is_archived")
    if ws.bot_user_id not in channel.members and "chat:write.public" not in ws.config.scopes:
        raise SlackError("not_in_channel")
    return channel


def thread_parent(ws: Workspace, channel: str, thread_ts: str | None) -> str | None:
    """Slack files a reply to a reply under the thread's parent."""
    if thread_ts is None:
        return None
    parent = ws.messages.get(channel, {}).get(thread_ts)
    return parent.thread_ts if parent is not None and parent.is_reply else thread_ts


def bot_message(ws: Workspace, channel: str, text: str, blocks: list[JSON], attachments: list[JSON]) -> Message:
    ts = ws.new_ts()
    config = ws.config
    return Message(
        channel=channel,
        ts=ts,
        user=config.bot_user_id,
        text=text,
        blocks=fill_ids(blocks, ts),
        attachments=attachments,
        bot_id=config.bot_id,
        app_id=config.api_app_id,
    )


def post_message(call: Call) -> JSON:
    ws, args = call.ws, call.args
    channel = postable_channel(ws, args)
    text, blocks, attachments = new_content(args)
    for scope, rate in ((channel.id, POST_PER_CHANNEL), ("workspace", POST_PER_WORKSPACE)):
        retry_after = ws.limiter.check("chat.postMessage", scope, rate)
        if retry_after is not None:
            raise RateLimited(retry_after)
    message = bot_message(ws, channel.id, text[:POST_TRUNCATE_AT], blocks, attachments)
    message.thread_ts = thread_parent(ws, channel.id, text_arg(args, "thread_ts"))
    message.reply_broadcast = message.thread_ts is not None and bool_arg(args, "reply_broadcast")
    message.metadata = object_arg(args, "metadata", "invalid_metadata_format")
    ws.store(message)
    return {"channel": channel.id, "ts": message.ts, "message": message.to_slack(ws.config.team_id)}


def _own_message(ws: Workspace, args: dict[str, Any], denied: str) -> Message:
    channel = visible_channel(ws, args)
    message = ws.find(MessageRef(channel.id, required_arg(args, "ts", "message_not_found")))
    if message is None or message.deleted:
        raise SlackError("message_not_found")
    if message.bot_id != ws.config.bot_id:
        raise SlackError(denied)
    return message


def update(call: Call) -> JSON:
    ws, args = call.ws, call.args
    message = _own_message(ws, args, "cant_update_message")
    text = text_arg(args, "text")
    blocks = parse_blocks(args)
    attachments = parse_attachments(args)
    # Slack keeps the old blocks only when neither blocks nor text were sent; text alone drops them.
    if blocks is None:
        blocks = message.blocks if text is None else []
    new_text = message.text if text is None else text
    new_attachments = message.attachments if attachments is None else attachments
    if not new_text and not blocks and not new_attachments:
        raise SlackError("no_text")
    if len(new_text) > EDIT_TEXT_LIMIT:
        raise SlackError("msg_too_long")
    ws.edit(message, new_text, fill_ids(blocks, ws.new_ts()), new_attachments, "chat.update")
    shown = message.to_slack(ws.config.team_id)
    return {"channel": message.channel, "ts": message.ts, "text": message.text, "message": shown}


def post_ephemeral(call: Call) -> JSON:
    ws, args = call.ws, call.args
    channel = visible_channel(ws, args)
    user = required_arg(args, "user", "user_not_found")
    if user not in ws.users:
        raise SlackError("user_not_found")
    if channel.is_archived:
        raise SlackError("is_archived")
    if user not in channel.members:
        raise SlackError("user_not_in_channel")
    text, blocks, attachments = new_content(args)
    if len(text) > EDIT_TEXT_LIMIT:
        raise SlackError("msg_too_long")
    message = bot_message(ws, channel.id, text, blocks, attachments)
    message.visible_to = user
    message.source = "chat.postEphemeral"
    message.thread_ts = text_arg(args, "thread_ts")
    ws.store(message)
    return {"message_ts": message.ts}


def get_permalink(call: Call) -> JSON:
    ws, args = call.ws, call.args
    channel = visible_channel(ws, args)
    message = ws.find(MessageRef(channel.id, required_arg(args, "message_ts", "message_not_found")))
    if message is None or message.deleted:
        raise SlackError("message_not_found")
    link = f"https://{ws.config.team_domain}.slack.com/archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}


def delete(call: Call) -> JSON:
    message = _own_message(call.ws, call.args, "cant_delete_message")
    call.ws.delete(message)
    return {"channel": message.channel, "ts": message.ts}
