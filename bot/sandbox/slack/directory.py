"""Who and where: auth.test, users.*, usergroups.*, conversations.* — read from the seeded workspace."""

from __future__ import annotations

from bot.sandbox.slack.config import SeedUser
from bot.sandbox.slack.model import JSON
from bot.sandbox.slack.state import Workspace
from bot.sandbox.slack.wire import Call, SlackError, bool_arg, required_arg, text_arg


def auth_test(call: Call) -> JSON:
    config = call.ws.config
    call.headers["x-oauth-scopes"] = ",".join(config.scopes)
    return {
        "url": f"https://{config.team_domain}.slack.com/",
        "team": config.team_name,
        "user": config.bot_user_name,
        "team_id": config.team_id,
        "user_id": config.bot_user_id,
        "bot_id": config.bot_id,
        "is_enterprise_install": False,
    }


def user_object(ws: Workspace, user: SeedUser) -> JSON:
    is_bot = user.id == ws.bot_user_id
    profile: JSON = {
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
        "display_name": user.name,
        "display_name_normalized": user.name,
        "team": ws.config.team_id,
    }
    if is_bot:
        profile |= {"bot_id": ws.config.bot_id, "api_app_id": ws.config.api_app_id}
    else:
        profile["email"] = f"{user.name}@{ws.config.team_domain}.example"
    return {
        "id": user.id,
        "team_id": ws.config.team_id,
        "name": user.name,
        "deleted": False,
        "real_name": user.real_name,
        "tz": user.tz,
        "is_admin": user.is_admin,
        "is_owner": user.is_owner,
        "is_primary_owner": user.is_owner,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": is_bot,
        "is_app_user": False,
        "profile": profile,
    }


def users_info(call: Call) -> JSON:
    user = call.ws.users.get(required_arg(call.args, "user", "user_not_found"))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user_object(call.ws, user)}


def usergroups_list(call: Call) -> JSON:
    ws = call.ws
    include_users = bool_arg(call.args, "include_users")
    include_disabled = bool_arg(call.args, "include_disabled")
    groups = []
    for group in ws.usergroups.values():
        if group.disabled and not include_disabled:
            continue
        entry: JSON = {
            "id": group.id,
            "team_id": ws.config.team_id,
            "is_usergroup": True,
            "name": group.name or group.handle,
            "handle": group.handle,
            "description": "",
            "date_delete": group.disabled_at,
            "user_count": len(group.members),
        }
        if include_users:
            entry["users"] = list(group.members)
        groups.append(entry)
    return {"usergroups": groups}


def usergroups_users_list(call: Call) -> JSON:
    group = call.ws.usergroups.get(required_arg(call.args, "usergroup", "no_such_subteam"))
    # Slack's docs only say include_disabled "allows results that involve disabled User Groups"; without it we
    # answer as for a group that does not exist (an assumption: a client should accept an empty list too).
    if group is None or (group.disabled and not bool_arg(call.args, "include_disabled")):
        raise SlackError("no_such_subteam")
    return {"users": list(group.members)}


def conversations_info(call: Call) -> JSON:
    ws = call.ws
    channel = ws.resolve_channel(required_arg(call.args, "channel", "channel_not_found"))
    if channel is None or not ws.bot_can_see(channel):
        raise SlackError("channel_not_found")
    info = channel.to_slack(ws.bot_user_id)
    if bool_arg(call.args, "include_num_members"):
        info["num_members"] = len(channel.members)
    return {"channel": info}


def conversations_open(call: Call) -> JSON:
    ws = call.ws
    users = [u for u in (text_arg(call.args, "users") or "").split(",") if u]
    if not users:
        raise SlackError("users_list_not_supplied")
    if len(users) > 1:
        # Group DMs are not modelled; the bot only ever opens a DM with one person.
        raise SlackError("method_not_supported_for_channel_type")
    if users[0] not in ws.users:
        raise SlackError("user_not_found")
    channel = ws.open_dm(users[0])
    if bool_arg(call.args, "return_im"):
        return {"channel": channel.to_slack(ws.bot_user_id)}
    return {"channel": {"id": channel.id}}


def conversations_members(call: Call) -> JSON:
    ws = call.ws
    channel = ws.resolve_channel(required_arg(call.args, "channel", "channel_not_found"))
    if channel is None or not ws.bot_can_see(channel):
        raise SlackError("channel_not_found")
    return {"members": sorted(channel.members), "response_metadata": {"next_cursor": ""}}
