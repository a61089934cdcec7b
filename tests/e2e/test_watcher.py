"""The watcher end to end: the emulator's clock is driven one transition at a time and ``poll_once()`` reports it;
the story is read back from the fake Slack's channel and threads."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

from bot.outbox.budget import POST_PER_CHANNEL, BudgetKeeper
from bot.pulumi import JobStatus, StackRef
from bot.reporter import MIN_PROGRESS_PATIENCE
from bot.snapshots import Snapshots
from bot.store import keys
from bot.store.budgets import Limit
from bot.watcher import Poll
from tests.e2e.conftest import CHANNEL, Bot, channel_message, running_bot, text_of
from tests.pulumi_sandbox import PulumiSandbox
from tests.slack_sandbox import SlackSandbox


async def started(bot: Bot, command: str, user: str = "U_CARA") -> dict[str, Any]:
    """Run a deployment command; return its parent message once the deployment exists."""
    await bot.slack.command(user, CHANNEL, command)
    return await channel_message(bot, "deployment.cancel")


async def thread_replies(bot: Bot, parent: dict[str, Any]) -> list[dict[str, Any]]:
    thread = await bot.slack.thread(CHANNEL, parent["ts"])
    return [m for m in thread if m["ts"] != parent["ts"]]


async def current(bot: Bot, parent: dict[str, Any]) -> dict[str, Any]:
    """The parent message as it reads now."""
    [message] = [m for m in await bot.slack.messages(CHANNEL) if m["ts"] == parent["ts"]]
    return message


async def test_a_deployment_tells_its_story_in_its_thread(bot: Bot) -> None:
    parent = await started(bot, "update web/dev --message 'ship it'")
    await bot.watcher.poll_once()
    assert "waiting" in text_of(await current(bot, parent))
    for _ in range(30):
        await bot.tick()
    replies = await thread_replies(bot, parent)
    texts = [text_of(reply["blocks"]) for reply in replies]
    # One reply per poll that saw steps finish (one step per tick here), then the outcome.
    assert any("✓ Setup" in t for t in texts)
    assert any("✓ pulumi update" in t for t in texts)
    assert "succeeded in" in texts[-1]
    assert sum("succeeded in" in t for t in texts) == 1  # the outcome is reported once
    # The last step ends as the deployment does: the outcome's reply tells it, rather than a reply of its own.
    assert texts[-1].index("✓ pulumi update") < texts[-1].index("succeeded in")
    assert sum("✓ pulumi update" in t for t in texts) == 1
    assert len(texts) == len(set(texts))  # nothing reported twice
    final = await current(bot, parent)
    assert "✓ succeeded" in text_of(final["blocks"])
    assert "deployment.retry" in text_of(final["blocks"])
    assert "deployment.cancel" not in text_of(final["blocks"])
    assert "ship it" in text_of(final["blocks"])
    assert not any(reply.get("subtype") == "thread_broadcast" for reply in replies)
    edits = [c for c in await bot.slack.calls("chat.update") if c["args"].get("ts") == parent["ts"]]
    assert sum("succeeded" in json.dumps(c["args"]) for c in edits) == 1  # the outcome is shown with one edit


async def test_a_round_leases_only_the_watches_it_is_polling(bot: Bot) -> None:
    # A lease held while its poll waits for a slot can run out; then the poll's report is sent but not recorded,
    # and the next poll sends it again.
    for stack in ("web/dev", "web/prod", "api/dev"):
        await bot.slack.command("U_CARA", CHANNEL, f"update {stack}")
        await channel_message(bot, f"`acme/{stack}` #1")
    await bot.pulumi.add_fault(method="GET", path=r"/deployments/[0-9a-f-]{36}$", delay=0.3, count=10)
    bot.watcher.concurrency = 2
    leases: list[int] = []

    async def sample() -> None:
        while True:
            leases.append(len(await bot.deps.watches.redis.keys("deploybot:lease:*")))
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    try:
        assert await bot.watcher.poll_once() == 3
    finally:
        sampler.cancel()
    assert max(leases) == 2


async def test_many_running_deployments_are_read_from_one_org_list_and_no_parent_goes_back(bot: Bot) -> None:
    stacks = await updates_on_four_stacks(bot)
    now = [1000.0]
    # 4 polls an interval pay for a 1-page snapshot read twice an interval (bot.snapshots.SAVING = 2).
    bot.watcher.snapshots = Snapshots(bot.deps.pulumi, interval=2.0, max_age=1.0, clock=lambda: now[0])
    await bot.tick(2)  # all running; each read alone while the demand is measured
    now[0] += 2.0
    await bot.pulumi.clear_requests()
    await bot.tick()  # "Get source" finishes everywhere
    reads = [(r["method"], r["path"]) for r in await bot.pulumi.requests()]
    assert reads == [("GET", "/api/orgs/acme/deployments")]  # one page for all four polls
    # Slack's limits (on in the fake) may refuse a progress reply at first; the next polls send it.
    for _ in range(50):
        if all([await step_replied(bot, stack) for stack in stacks]):
            break
        await asyncio.sleep(0.05)
        await bot.watcher.poll_once()
    assert all([await step_replied(bot, stack) for stack in stacks])

    # A webhook's poll reads svc0 alone and shows its next step; a round then finds it older in the snapshot (not
    # yet a second old) and reads it alone again rather than showing the parent going back.
    await bot.pulumi.advance()
    [svc0] = [w for w in [await bot.deps.watches.get(i) for i in await all_watch_ids(bot)] if w and "svc0" in w.stack]
    [claimed] = await bot.deps.watches.claim_due([svc0.deployment_id], time.time() * 1000, 5000)
    await bot.watcher._guarded(Poll(*claimed, fresh=True))
    await bot.pulumi.clear_requests()
    await asyncio.sleep(0.01)  # its next poll is due one (tiny, 1 ms) interval after the last
    await bot.watcher.poll_once()
    alone = [r["path"] for r in await bot.pulumi.requests() if re.search(r"/deployments/[0-9a-f-]{36}$", r["path"])]
    assert alone == [f"/api/stacks/acme/svc0/dev/deployments/{svc0.deployment_id}"]
    parent = await channel_message(bot, "`acme/svc0/dev` #1")
    edits = [c for c in await bot.slack.calls("chat.update") if c["args"].get("ts") == parent["ts"]]
    done = [text_of(c["args"]).count("✓") for c in edits]
    assert done == sorted(done)


async def test_what_a_snapshot_sees_change_is_polled_at_once(bot: Bot) -> None:
    stacks = await updates_on_four_stacks(bot)
    now = [1000.0]
    snapshots = Snapshots(
        bot.deps.pulumi, interval=2.0, max_age=1.0, on_change=bot.watcher._changed, clock=lambda: now[0]
    )
    bot.watcher.snapshots = snapshots
    await bot.tick(2)  # all running; the demand is measured
    now[0] += 2.0
    await bot.tick()  # the first snapshot
    later = time.time() * 1000 + 3_600_000
    ids = await all_watch_ids(bot)
    await bot.deps.watches.redis.zadd(keys.WATCHES, dict.fromkeys(ids, later))  # next scheduled polls: in an hour
    [svc0] = [i for i in ids if (w := await bot.deps.watches.get(i)) and w.stack == "acme/svc0/dev"]
    await bot.deps.watches.redis.zadd(keys.WATCHES, {svc0: 0})
    await bot.pulumi.advance()  # a step finishes everywhere
    now[0] += 1.5
    # svc0's poll reads a new snapshot, which sees all four change; svc0 itself, being polled, goes once more.
    assert await bot.watcher.poll_once() == 2
    await asyncio.sleep(0.01)
    assert await bot.watcher.poll_once() == 4  # the other three, an hour early (and svc0: its interval is 1 ms)
    # Eight replies in one channel wait for its budget (a post a second): one held past its patience is withdrawn
    # and told by a later poll, so poll (the clock stays) until every thread tells both steps.
    for _ in range(20):
        counts = [await steps_replied(bot, stack) for stack in stacks]
        if counts == [2] * len(stacks):
            break
        await bot.watcher.poll_once()
    assert counts == [2] * len(stacks)  # both finished steps, each reported once


async def steps_replied(bot: Bot, stack: str) -> int:
    """How many finished steps the deployment's thread told (the same step twice counts twice)."""
    parent = await channel_message(bot, f"`acme/{stack}` #1")
    return " ".join(text_of(reply["blocks"]) for reply in await thread_replies(bot, parent)).count("✓")


async def updates_on_four_stacks(bot: Bot) -> list[str]:
    """An update on each of four new stacks, all allowed to run at once; returns the stacks (project/stack)."""
    stacks = [f"svc{n}/dev" for n in range(4)]
    await bot.pulumi.create_stacks(*stacks)
    await bot.pulumi.set_concurrency("acme", 4)
    for stack in stacks:
        await bot.slack.command("U_CARA", CHANNEL, f"update {stack}")
        await channel_message(bot, f"`acme/{stack}` #1")
    return stacks


async def step_replied(bot: Bot, stack: str) -> bool:
    parent = await channel_message(bot, f"`acme/{stack}` #1")
    return any("✓" in text_of(reply) for reply in await thread_replies(bot, parent))


async def all_watch_ids(bot: Bot) -> list[str]:
    return [i.decode() if isinstance(i, bytes) else i for i in await bot.deps.watches.redis.zrange(keys.WATCHES, 0, -1)]


async def replies_after_ticks(bot: Bot, parent: dict[str, Any], more_than: int, ticks: int = 10) -> int:
    """Tick until the thread has more than ``more_than`` replies (at most ``ticks`` times); how many it has then."""
    for _ in range(ticks):
        count = len(await thread_replies(bot, parent))
        if count > more_than:
            return count
        await bot.tick()
    return len(await thread_replies(bot, parent))


async def test_a_thread_record_is_read_from_redis_once_and_again_for_the_outcome(bot: Bot) -> None:
    """The reporter keeps a deployment's record after its first poll (written before the watch, it does not
    change), so later edits and replies do not read it again; the outcome reads it afresh (who cancelled it)."""
    parent = await started(bot, "update web/dev")
    reported = await replies_after_ticks(bot, parent, more_than=0)  # the reporter has read the record
    assert reported > 0
    [watch_id] = await all_watch_ids(bot)
    record = await bot.deps.store.deployment(watch_id)
    assert record is not None
    await bot.deps.watches.redis.delete(keys.deployment(watch_id))
    # The next step is still reported, from the record kept in memory.
    assert await replies_after_ticks(bot, parent, more_than=reported) > reported
    await bot.deps.store.save_deployment(record.model_copy(update={"cancelled_by": "U_BEN"}))
    for _ in range(30):
        await bot.tick()
    outcomes = [r for r in await thread_replies(bot, parent) if "was cancelled by <@U_BEN>" in text_of(r)]
    assert len(outcomes) == 1


async def test_several_transitions_between_polls_go_in_one_reply(bot: Bot) -> None:
    parent = await started(bot, "preview web/dev")
    await bot.pulumi.advance(4)  # accepted, running, two steps finished
    await bot.watcher.poll_once()
    replies = await thread_replies(bot, parent)
    assert len(replies) == 1
    assert "✓ Setup" in text_of(replies[0])
    assert "✓ Download deployment executor" in text_of(replies[0])


def steps_done(value: Any) -> list[str]:
    """The names of the steps shown done: parent lines read "✓ 2. Name (3s)", replies "✓ Name (3s); ✓ Other (1s)"."""
    return re.findall(r"✓ (?:\d+\. )?([A-Za-z][^(;\\\"]*?) \(", text_of(value))


async def test_a_step_reply_held_past_its_patience_is_told_once_with_the_next_steps(http_bot: Bot) -> None:
    """Slack's rate limits hold a progress reply longer than its patience: it is withdrawn unsent, and the watch
    records nothing of it; the next poll tells that step with the newer ones, in one reply. None lost, none twice."""
    bot = http_bot
    parent = await started(bot, "update web/dev")
    before = await replies_after_ticks(bot, parent, more_than=0)
    shown = steps_done((await current(bot, parent))["blocks"])
    # Another replica was answered 429 for this channel: nobody posts in it for longer than the patience.
    blocked_for = MIN_PROGRESS_PATIENCE + 2.0  # its reply comes within 2 s: it waits its whole patience
    limit = Limit("chat.postMessage", CHANNEL, POST_PER_CHANNEL)
    await BudgetKeeper(bot.deps.store.redis, time.monotonic).block(limit, blocked_for)
    blocked_at = time.monotonic()
    held: list[str] = []
    for _ in range(10):  # until a step finishes: the parent's edit shows it, its reply is held and withdrawn
        await bot.tick()
        held = [name for name in steps_done((await current(bot, parent))["blocks"]) if name not in shown]
        if held:
            break
    assert held
    assert len(await thread_replies(bot, parent)) == before  # without patience the poll would wait, then post
    exposed = (await bot.deps.metrics.render()).decode()
    assert 'deploybot_slack_calls_total{method="chat.postMessage",outcome="withdrawn"} 1.0' in exposed
    await asyncio.sleep(blocked_for - (time.monotonic() - blocked_at))
    for _ in range(30):
        await bot.tick()
    replies = [steps_done(reply["blocks"]) for reply in (await thread_replies(bot, parent))[before:]]
    assert held[0] in replies[0]
    assert len(replies[0]) > len(held)  # told together with a step that finished later
    told = [name for reply in await thread_replies(bot, parent) for name in steps_done(reply["blocks"])]
    assert sorted(told) == sorted(set(told))  # none twice
    assert set(told) == set(steps_done((await current(bot, parent))["blocks"]))  # none lost


async def test_a_failure_is_broadcast_with_the_redacted_log_tail_and_the_requester(bot: Bot) -> None:
    commands = json.dumps(["echo GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345"])
    parent = await started(
        bot, f"update web/dev --set operationContext.preRunCommands='{commands}' --env SANDBOX_FAIL_STEP=5"
    )
    for _ in range(30):
        await bot.tick()
    replies = await thread_replies(bot, parent)
    outcome = replies[-1]
    shown = text_of(outcome["blocks"])
    assert "✗ failed" in shown
    assert "<@U_CARA>" in shown
    assert outcome.get("subtype") == "thread_broadcast"  # the channel sees it too
    assert "```" in shown
    assert "ghp_0123456789abcdefghijABCDEFGHIJ012345" not in text_of(await bot.slack.calls("chat.postMessage"))
    assert "GITHUB_TOKEN=" in shown


async def test_a_queued_deployment_shows_its_place_and_a_paused_stack_says_so(bot: Bot) -> None:
    first = await started(bot, "update web/dev")
    await bot.slack.command("U_BEN", CHANNEL, "update web/dev")
    second = await channel_message(bot, "#2")
    await bot.watcher.poll_once()
    assert "waiting: 1 ahead" in text_of(await current(bot, second))
    assert first["ts"] != second["ts"]
    await bot.slack.command("U_ANA", CHANNEL, "pause web/prod")
    await bot.slack.command("U_ANA", CHANNEL, "update web/prod")
    paused = await channel_message(bot, "`acme/web/prod` #1")
    await bot.watcher.poll_once()
    assert "paused" in text_of(await current(bot, paused))


async def test_a_cancelled_deployment_says_who_without_broadcast_or_log(bot: Bot) -> None:
    parent = await started(bot, "update web/dev")
    await bot.tick(3)
    await bot.slack.click("U_BEN", await current(bot, parent), "deployment.cancel")
    await channel_message(bot, "✗ failed")
    for _ in range(3):
        await bot.tick()
    replies = await thread_replies(bot, parent)
    outcomes = [r for r in replies if "was cancelled by" in text_of(r)]
    assert len(outcomes) == 1
    assert "<@U_BEN>" in text_of(outcomes[0])
    assert outcomes[0].get("subtype") != "thread_broadcast"
    assert "```" not in text_of(outcomes[0])


async def test_retry_runs_the_same_request_again(bot: Bot) -> None:
    parent = await started(bot, "update web/dev --env REGION=eu --secret-env TOKEN=hush")
    for _ in range(20):
        await bot.tick()
    await bot.slack.click("U_BEN", await current(bot, parent), "deployment.retry")
    await channel_message(bot, "#2")
    creates = [r for r in await bot.pulumi.requests() if r["method"] == "POST" and r["path"].endswith("/deployments")]
    assert len(creates) == 2
    assert creates[0]["body"] == creates[1]["body"]  # same overrides, secrets as the same ciphertext
    assert "hush" not in text_of(creates)


async def direct_create(bot: Bot, stack: str, body: dict[str, Any]) -> dict[str, Any]:
    """A deployment started outside Slack (a git push, the console): straight through the emulator's API."""
    import aiohttp

    url = f"{bot.pulumi.url}/api/stacks/{stack}/deployments"
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=bot.pulumi.headers()) as r:
        assert r.status == 202, await r.text()
        created: dict[str, Any] = await r.json()
        return created


async def test_a_subscription_hears_about_deployments_started_elsewhere(bot: Bot) -> None:
    await bot.slack.command("U_ANA", CHANNEL, "subscribe acme/*/prod --on started,failed")
    await channel_message(bot, "subscribed this channel")
    await bot.watcher.round()  # discovery sets its mark: history is not replayed
    failing = {"environmentVariables": {"SANDBOX_FAIL_STEP": "5"}}
    await direct_create(bot, "acme/web/prod", {"operation": "update", "operationContext": failing})
    await direct_create(bot, "acme/web/dev", {"operation": "update"})  # does not match acme/*/prod
    for _ in range(30):
        await bot.pulumi.advance()
        await bot.watcher.round()
    messages = [text_of(m["blocks"]) for m in await bot.slack.messages(CHANNEL)]
    about_prod = [m for m in messages if "acme/web/prod" in m]
    assert sum("started" in m and "⟳" in m for m in about_prod) == 1
    failed = [m for m in about_prod if "✗" in m]
    assert len(failed) == 1
    assert "```" in failed[0]  # the log tail
    assert "deployment.logs" in failed[0]
    assert not any("acme/web/dev" in m for m in messages)
    [notice] = [m for m in await bot.slack.messages(CHANNEL) if "✗" in text_of(m.get("blocks"))]
    clicked = await bot.slack.click("U_BEN", notice, "deployment.logs")
    [answer] = await clicked.responses()
    assert "Log of" in text_of(answer)


async def test_a_channel_following_a_thread_is_not_notified_again(bot: Bot) -> None:
    await bot.slack.command("U_ANA", CHANNEL, "subscribe acme/web/dev --on failed,succeeded")
    await channel_message(bot, "subscribed this channel")
    parent = await started(bot, "update web/dev")
    for _ in range(30):
        await bot.pulumi.advance()
        await bot.watcher.round()
    top_level = [m for m in await bot.slack.messages(CHANNEL) if "`acme/web/dev` #1" in text_of(m)]
    assert [m["ts"] for m in top_level] == [parent["ts"]]  # only the deployment's own message
    assert "succeeded in" in text_of(await thread_replies(bot, parent))


async def test_subscriptions_are_listed_and_removed(bot: Bot) -> None:
    await bot.slack.command("U_ANA", CHANNEL, "subscribe web/*")
    await channel_message(bot, "subscribed this channel")
    result = await bot.slack.command("U_ANA", CHANNEL, "subscriptions")
    [listing] = await result.responses()
    assert "`acme/web/*` — failed" in text_of(listing)
    await bot.slack.command("U_ANA", CHANNEL, "unsubscribe web/*")
    await channel_message(bot, "unsubscribed this channel")
    result = await bot.slack.command("U_ANA", CHANNEL, "subscriptions")
    [empty] = await result.responses()
    assert "no subscriptions" in text_of(empty)


async def test_a_destroy_that_deletes_its_stack_still_gets_its_outcome(bot: Bot) -> None:
    parent = await started(bot, "destroy web/dev --delete-after-destroy")
    for _ in range(30):
        await bot.tick()
    replies = await thread_replies(bot, parent)
    assert "the stack was deleted" in text_of(replies[-1])
    assert sum("the stack was deleted" in text_of(r) for r in replies) == 1


async def test_when_a_deployment_finishes_the_next_one_queued_on_its_stack_is_polled_within_an_interval(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    """A queued deployment is polled QUEUED_BACKOFF times less often; but Pulumi runs a stack's deployments one at a
    time, so the one behind a finished deployment starts now, and waits no longer than an interval to be shown."""
    interval = 10.0
    async with running_bot("serve", slack_sandbox, pulumi_sandbox, redis_url, DEPLOYBOT_POLL_INTERVAL="10") as bot:
        first = await started(bot, "update web/dev")
        await bot.slack.command("U_CARA", CHANNEL, "update web/dev")
        await channel_message(bot, "`acme/web/dev` #2")
        assert await bot.watcher.poll_once() == 2  # #1 runs, #2 waits behind it
        watches = {w.version: w for w in [await bot.deps.watches.get(i) for i in await all_watch_ids(bot)] if w}
        queued_due = await bot.deps.watches.redis.zscore(keys.WATCHES, watches[2].deployment_id)
        assert queued_due > (time.time() + 2.5 * interval) * 1000  # backed off
        await bot.pulumi.run_until_idle()
        await bot.deps.watches.redis.zadd(keys.WATCHES, {watches[1].deployment_id: 0})  # #1's next poll: now
        assert await bot.watcher.poll_once() == 1
        assert "succeeded in" in text_of(await thread_replies(bot, first))
        queued_due = await bot.deps.watches.redis.zscore(keys.WATCHES, watches[2].deployment_id)
        assert queued_due <= (time.time() + 1.1 * interval) * 1000


async def test_a_queued_deployment_that_starts_is_polled_at_once_not_after_its_backoff(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    """The organization runs one deployment at a time: the second waits (and is polled three times less often);
    when it starts, the running list the watcher reads for queued deployments shows it, and it is polled at once."""
    async with running_bot("serve", slack_sandbox, pulumi_sandbox, redis_url, DEPLOYBOT_POLL_INTERVAL="2") as bot:
        await bot.pulumi.set_concurrency("acme", 1)
        await started(bot, "update web/dev")
        await bot.slack.command("U_CARA", CHANNEL, "update web/prod")
        second = await channel_message(bot, "`acme/web/prod` #1")
        assert await bot.watcher.poll_once() == 2
        assert "waiting" in text_of(await current(bot, second))
        await bot.watcher.watch_queues()  # what runs now: web/dev
        [prod] = [
            w for w in [await bot.deps.watches.get(i) for i in await all_watch_ids(bot)] if w and "prod" in w.stack
        ]
        for _ in range(30):  # web/dev runs to its end, and web/prod takes the slot
            await bot.pulumi.advance()
            deployment = await bot.deps.pulumi.get_deployment(StackRef.parse(prod.stack), prod.deployment_id)
            if deployment.status == JobStatus.RUNNING:
                break
        assert deployment.status == JobStatus.RUNNING
        assert bot.watcher.snapshots is not None
        await asyncio.sleep(bot.watcher.snapshots.max_age)  # the last read is old enough to read again
        await bot.watcher.watch_queues()
        assert await bot.watcher.poll_once() >= 1  # web/prod, due at once (its backoff had 6 s to go)
        shown = text_of((await current(bot, second))["blocks"])
        assert "running" in shown
        assert "waiting" not in shown


async def test_the_queue_watch_keeps_a_floor_between_reads_however_short_the_interval(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    """The tests' 1 ms interval makes a quarter interval 0.25 ms: the queue watch still waits 50 ms between reads
    of the organization's running list, rather than asking Pulumi as fast as it answers."""
    async with running_bot("serve", slack_sandbox, pulumi_sandbox, redis_url, watch_loop=True) as bot:
        await bot.pulumi.set_concurrency("acme", 1)
        await started(bot, "update web/dev")
        await bot.slack.command("U_CARA", CHANNEL, "update web/prod")
        await channel_message(bot, "`acme/web/prod` #1")
        await bot.pulumi.clear_requests()
        await asyncio.sleep(1.0)  # web/prod stays queued: web/dev does not move without the emulator's clock
        lists = [r for r in await bot.pulumi.requests() if r["path"] == "/api/orgs/acme/deployments"]
        assert 5 <= len(lists) <= 25  # about one every 50 ms
