"""Every Redis key Deploybot uses, and every TTL. Nothing else in the code base spells a key.

All keys live under ``deploybot:``:
    seen:{kind}:{id}          string  a delivery already handled (trigger_id, event_id); expires after a day
    deployment:{id}           string  DeploymentRecord JSON: who asked in Slack, where it was announced, the request
    view:{id}                 string  ViewState JSON: what an ephemeral answer shows, for its paging buttons
    confirm:{id}              string  Confirmation JSON: an action waiting for the asker's "Confirm"
    outbox:bucket:{m}:{s}     hash    a Slack send budget for method m in scope s (a channel id or "workspace"):
                                      {tokens, at (Redis time, ms)}; dropped once it would be full again
    outbox:blocked:{m}:{s}    string  present while Slack's Retry-After for method m in scope s runs (PX = the wait)
    watch:{id}                string  Watch JSON: what has been reported of a deployment so far
    watches                   zset    deployment id -> when it is next due for a poll (epoch ms)
    lease:{id}                string  the token of the replica polling that watch (TTL: the lease, a few rounds)
    poke:{id}                 string  a webhook (1) or snapshot (s) asked for a poll while it was leased (TTL: 1 min)
    version:{stack}:{v}       string  the id of stack's deployment number v, while it is watched (webhooks name v)
    heartbeat:watcher:{r}     string  replica r's watcher loop completed a round recently (TTL: a few rounds)
    subscriptions             hash    "{channel}\t{pattern}" -> comma-separated events (queued,started,…)
    discovery:{org}           string  {created, ids}: the newest deployments discovery has seen in the org
    directory:handles         string  {at, ids}: user-group handle (lowercase) -> group id, from usergroups.list
    directory:members:{g}     string  {at, users}: group g's members, from usergroups.users.list (both: a minute)
    audit                     stream  the audit trail (bot/audit.py): who did what to which stack; XADD MAXLEN ~
"""

from __future__ import annotations

PREFIX = "deploybot:"

SEEN_TTL = 24 * 3600  # Slack retries within minutes; a day covers any resend
DEPLOYMENT_TTL = 30 * 24 * 3600  # buttons on old messages still find who asked
VIEW_TTL = 30 * 60  # a response_url works for 30 minutes; paging is useless after that
CONFIRM_TTL = 15 * 60
WATCH_TTL = 30 * 24 * 3600  # a watch that is still running; refreshed on every report
FINISHED_WATCH_TTL = 24 * 3600  # a finished watch is kept a day for the buttons, then dropped


def key(*parts: str) -> str:
    return PREFIX + ":".join(parts)


def seen(kind: str, delivery_id: str) -> str:
    return key("seen", kind, delivery_id)


def deployment(deployment_id: str) -> str:
    return key("deployment", deployment_id)


def view(view_id: str) -> str:
    return key("view", view_id)


def confirm(confirm_id: str) -> str:
    return key("confirm", confirm_id)


# A send bucket lives this long past the moment it would be full again (a missing bucket counts as full).
SEND_BUCKET_MARGIN_MS = 1000


def send_bucket(method: str, scope: str) -> str:
    return key("outbox", "bucket", method, scope)


def send_blocked(method: str, scope: str) -> str:
    return key("outbox", "blocked", method, scope)


def watch(deployment_id: str) -> str:
    return key("watch", deployment_id)


WATCHES = key("watches")
POKE_TTL_MS = 60_000


def lease(deployment_id: str) -> str:
    return key("lease", deployment_id)  # the scripts in watches.py get its prefix as lease("")


def poke(deployment_id: str) -> str:
    return key("poke", deployment_id)


def watch_version(stack: str, version: int) -> str:
    return key("version", stack, str(version))


def watcher_heartbeat(replica: str) -> str:
    return key("heartbeat", "watcher", replica)


SUBSCRIPTIONS = key("subscriptions")


def discovery(org: str) -> str:
    return key("discovery", org)


# The issue: group membership is cached "for at most 60 s"; bot/directory.py refuses a longer TTL.
DIRECTORY_TTL = 60.0
DIRECTORY_HANDLES = key("directory", "handles")


def directory_members(group_id: str) -> str:
    return key("directory", "members", group_id)


# Approval requests (bot/approvals.py):
#   request:{id}              string  ApprovalRequest JSON (TTL: a month, for its buttons and the record)
#   requests:expiring         zset    open request id -> when it expires (epoch ms)
#   requests:channel:{c}      set     open request ids of a channel (for /deploy approvals)
REQUEST_TTL = 30 * 24 * 3600
REQUESTS_EXPIRING = key("requests", "expiring")


def request(request_id: str) -> str:
    return key("request", request_id)


def requests_of(channel: str) -> str:
    return key("requests", "channel", channel)


AUDIT = key("audit")


# Slack display names, learned from the payloads people send (for the audit trail's "who"):
#   name:{user}               string  the user's name as Slack last sent it (TTL: 30 days)
NAME_TTL = 30 * 24 * 3600


def name(user: str) -> str:
    return key("name", user)
