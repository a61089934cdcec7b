"""A fake Slack served over real HTTP: the Web API at ``/api/``, Socket Mode, response_urls and uploads, plus a
``/_sandbox/`` control API that plays the user and exposes everything recorded. It never imports the bot.

Slack's side (what the bot sees)::

    GET|POST /api/{method}              Web API (JSON, form or query args; Bearer token or token= param)
    POST     /upload/v1/{file_id}       the upload_url from files.getUploadURLExternal (raw bytes or multipart)
    POST     /hooks/{kind}/{team}/{t}   a response_url (5 uses, 30 minutes)
    GET      /link/?ticket=…            the Socket Mode WebSocket from apps.connections.open

Control API (JSON in and out; mistakes answer 400/404/409 with ``{"ok": false, "error": "<sentence>"}``)::

    POST /_sandbox/command     {user, channel, text, command="/deploy", transport="auto"}
    POST /_sandbox/click       {user, action_id, block_id?, value?, transport?} and one of
                               {channel, message_ts} | {ephemeral_ts} | {view_id}
    POST /_sandbox/submit      {user, view_id, values: {block_id: {action_id: value | Slack state object}}}
    POST /_sandbox/event       {event: {type, …}}                      an Events API event_callback
    POST /_sandbox/raw         {body, content_type?, signature: valid|none|stale|forged}
        -> command/click/submit/event answer the interaction record: id, payload, transport, status, body,
           reply (the synchronous reply), error (operation_timeout | dispatch_failed), trigger_id,
           response_url, effect (what Slack did with the reply); raw answers {status, body, error}.
           transport "auto" uses Socket Mode while an app is connected, else the signed HTTP POST.
    POST /_sandbox/config      {request_url?, rate_limits?: bool}
    POST /_sandbox/membership  {channel, user, member: bool}
    POST /_sandbox/usergroups  {id | handle, members?: [user], disabled?: bool}    change a user group by id or
                               (case-insensitive) handle; a new id with a handle creates one. Disabled groups are
                               hidden from usergroups.list and usergroups.users.list unless include_disabled.
    POST /_sandbox/clock       {advance: seconds}    moves trigger, response_url and rate-limit time forward
    GET  /_sandbox/workspace   team, bot identity, users, user groups (with disabled), channels with members
    GET  /_sandbox/messages?channel=C[&deleted=1]  top-level messages with edit history and reply counts
    GET  /_sandbox/thread?channel=C&ts=T           parent and replies
    GET  /_sandbox/ephemerals[?user=U&channel=C]
    GET  /_sandbox/responses[?interaction=I]       every response_url post, accepted or refused
    GET  /_sandbox/uploads                          completed uploads with their content
    GET  /_sandbox/calls[?method=M]                 the Web API call log, 429s included
    GET  /_sandbox/views[?user=U&status=open]       modals with state, errors and history
    GET  /_sandbox/interactions/{id}
    GET  /_sandbox/socket                           {connected, acks}

Every list endpoint takes ``?min=N&wait=S``: it waits (event-driven, at most S seconds, default 5) until the list
has N entries, so tests can await the bot's asynchronous follow-ups without sleeping.
"""

from bot.sandbox.slack.app import create_app
from bot.sandbox.slack.config import SeedChannel, SeedUser, SeedUserGroup, SlackSandboxConfig

__all__ = ["SeedChannel", "SeedUser", "SeedUserGroup", "SlackSandboxConfig", "create_app"]
