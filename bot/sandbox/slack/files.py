"""File uploads the v2 way: files.getUploadURLExternal, POST the bytes to upload_url, files.completeUploadExternal."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.sandbox.slack.chat import bot_message, parse_blocks, thread_parent
from bot.sandbox.slack.model import JSON, Upload
from bot.sandbox.slack.state import WORKSPACE, Workspace
from bot.sandbox.slack.wire import Call, SlackError, list_arg, required_arg, text_arg


def get_upload_url(call: Call) -> JSON:
    ws, args = call.ws, call.args
    filename = required_arg(args, "filename")
    length = text_arg(args, "length")
    if length is None or not length.isdigit():
        raise SlackError("invalid_arguments", "[ERROR] `length` must be a non-negative integer [json-pointer:/length]")
    upload = Upload(ws.new_id("F"), filename, int(length), text_arg(args, "alt_txt"), text_arg(args, "snippet_type"))
    ws.uploads[upload.file_id] = upload
    return {"upload_url": f"{call.base_url}/upload/v1/{upload.file_id}", "file_id": upload.file_id}


async def receive_upload(request: web.Request) -> web.Response:
    """The upload URL itself: raw bytes (what slack_sdk sends) or a multipart form with one file part."""
    ws = request.app[WORKSPACE]
    upload = ws.uploads.get(request.match_info["file_id"])
    if upload is None or upload.completed:
        return web.Response(status=404, text="upload not found")
    if request.content_type == "multipart/form-data":
        form = await request.post()
        part = next((v for v in form.values() if isinstance(v, web.FileField)), None)
        content = part.file.read() if part is not None else b""
    else:
        content = await request.read()
    upload.content = content
    ws.notify()
    return web.Response(text=f"OK - {len(content)}")


def complete_upload(call: Call) -> JSON:
    ws, args = call.ws, call.args
    files = list_arg(args, "files", "invalid_arguments")
    if not files or not all(isinstance(f, dict) and isinstance(f.get("id"), str) for f in files):
        raise SlackError("invalid_arguments", "[ERROR] `files` must be a non-empty array of {id, title}")
    uploads = [ws.uploads.get(f["id"]) for f in files]
    ready = [u for u in uploads if u is not None and u.content is not None and not u.completed]
    if len(ready) != len(files):
        raise SlackError("file_not_found")
    targets = [c for c in (text_arg(args, "channels") or text_arg(args, "channel_id") or "").split(",") if c]
    if len(targets) > 1:
        # Sharing one upload into several channels is not modelled; the bot shares into one channel.
        raise SlackError("invalid_arguments", "[ERROR] the sandbox shares uploads into one channel at a time")
    for upload, spec in zip(ready, files, strict=True):
        upload.title = spec.get("title") or upload.filename
    if targets:
        _share(ws, ready, targets[0], args)
    for upload in ready:
        upload.completed = True
    ws.notify()
    user, domain = ws.bot_user_id, ws.config.team_domain
    return {"files": [u.file_object(user, domain) | {"created": 1_700_000_000} for u in ready]}


def _share(ws: Workspace, uploads: list[Upload], channel_id: str, args: dict[str, Any]) -> None:
    channel = ws.resolve_channel(channel_id)
    if channel is None or not ws.bot_can_see(channel):
        raise SlackError("channel_not_found")
    if ws.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")
    comment = text_arg(args, "initial_comment")
    blocks = [] if comment else (parse_blocks(args) or [])
    message = bot_message(ws, channel.id, comment or "", blocks, [])
    message.thread_ts = thread_parent(ws, channel.id, text_arg(args, "thread_ts"))
    message.files = [u.file_object(ws.bot_user_id, ws.config.team_domain) for u in uploads]
    message.source = "files.completeUploadExternal"
    ws.store(message)
    for upload in uploads:
        upload.channel, upload.thread_ts = channel.id, message.thread_ts
        upload.initial_comment, upload.message_ts = comment, message.ts
