"""The Slack outbox: every outgoing Slack call of the watcher, within Slack's rate limits.

Rules: posts take from a per-channel and a workspace-wide budget, edits from a workspace-wide one (token buckets in
Redis, shared by every replica; in-process while Redis is down). A 429 blocks the budget for every replica until
its Retry-After. Replies in one thread go out in order; waiting edits of one message merge (the newest content
wins). Final outcomes and failures go before progress; a progress-only thread waits behind a thread with a final.
A progress call may carry a patience: still waiting when it ends, the call is withdrawn unsent (NotSent), so stale
news gives its place to newer news instead of holding the budget.

    queue.py    lanes of waiting calls, merging and urgency (no I/O)
    budget.py   Budgets (the rates) and taking from them, Redis or local
    outbox.py   Outbox: the dispatcher task, sending, 429s, start/stop
"""

from bot.outbox.budget import Budgets
from bot.outbox.outbox import Outbox
from bot.outbox.queue import Priority
from bot.store.budgets import Rate

__all__ = ["Budgets", "Outbox", "Priority", "Rate"]
