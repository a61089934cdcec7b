"""The Slack outbox against the fake Slack over HTTP (rate limits on, windows shortened) and a real Redis.

The fake enforces Slack's limits on its own (about 1 post/s per channel, Tier 3 for chat.update) and records every
call, 429s included; the outbox's budgets are scaled by the same factor, so a test takes what the budgets imply.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat import Chat
from bot.errors import NotInChannel, NotSent, SlackError
from bot.outbox import Budgets, Outbox, Priority, Rate
from bot.render.message import text_message
from bot.store import keys
from tests.conftest import free_port
from tests.integration.redis_server import redis_server
from tests.slack_sandbox import SlackSandbox, start_slack_sandbox
from tests.tcp_proxy import tcp_proxy

SCALE = 0.02  # the fake's minute lasts 1.2 s: ~50 posts/s per channel
FAST = Budgets().scaled(1 / SCALE)
CHANNEL = "C_DEPLOYS"


@pytest.fixture
async def slack() -> AsyncIterator[SlackSandbox]:
    async with start_slack_sandbox(rate_limit_scale=SCALE) as sandbox:
        yield sandbox


async def open_chat(slack: SlackSandbox) -> Chat:
    chat = Chat(slack.web_client())
    chat.open()
    return chat


@pytest.fixture
async def chat(slack: SlackSandbox) -> AsyncIterator[Chat]:
    chat = await open_chat(slack)
    yield chat
    await chat.close()


def texts(records: list[dict[str, Any]]) -> list[str]:
    return [str(record["text"]) for record in records]


async def post_calls(slack: SlackSandbox) -> list[dict[str, Any]]:
    return await slack.calls("chat.postMessage")


def limited(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [call for call in calls if call["status"] == 429]


async def test_a_hundred_posts_arrive_in_thread_order_with_finals_ahead_of_queued_progress(
    slack: SlackSandbox, chat: Chat, redis: aioredis.Redis
) -> None:
    async with Outbox(chat, redis, budgets=FAST) as outbox:
        parents = [await outbox.post(CHANNEL, text_message(f"deployment {d}")) for d in range(5)]

    outbox = Outbox(chat, redis, budgets=FAST)
    progress = [
        asyncio.create_task(outbox.post(CHANNEL, text_message(f"d{d} step {s}"), thread_ts=parents[d]))
        for s in range(20)
        for d in range(5)
    ]
    failure = asyncio.create_task(outbox.post(CHANNEL, text_message("d3 failed"), priority=Priority.FAILURE))
    final = asyncio.create_task(
        outbox.post(CHANNEL, text_message("d0 succeeded"), thread_ts=parents[0], priority=Priority.FINAL)
    )
    await asyncio.sleep(0)  # one turn of the loop: every task has queued its post
    assert outbox.depth() == 102
    async with outbox:
        await asyncio.gather(*progress, failure, final)
        assert outbox.depth() == 0

    for d, parent in enumerate(parents):
        replies = texts((await slack.thread(CHANNEL, parent))[1:])
        assert replies == [f"d{d} step {s}" for s in range(20)] + (["d0 succeeded"] if d == 0 else [])
    calls = (await post_calls(slack))[5:]  # after the parents
    assert len(limited(calls)) <= 2  # the budgets keep under the fake's limits; a stall on a busy machine may cost one
    sent = [call["args"]["text"] for call in calls if call["ok"]]
    assert len(sent) == 102
    # Queued last, sent (nearly) first: the failure at once, the final after only its own thread's 20 replies.
    assert sent.index("d3 failed") <= 1
    assert sent.index("d0 succeeded") <= 30


async def test_fifty_edits_while_the_budget_is_spent_become_one_and_the_last_state_shows(
    slack: SlackSandbox, chat: Chat, redis: aioredis.Redis
) -> None:
    budgets = Budgets(post_per_channel=FAST.post_per_channel, update_per_workspace=Rate(4.0, 1))
    async with Outbox(chat, redis, budgets=budgets) as outbox:
        parent = await outbox.post(CHANNEL, text_message("deploying"))
        await outbox.update(CHANNEL, parent, text_message("queued"))  # the only token: edits must wait now
        await asyncio.gather(*(outbox.update(CHANNEL, parent, text_message(f"step {n} of 50")) for n in range(50)))

    (message,) = await slack.messages(CHANNEL)
    assert message["text"] == "step 49 of 50"
    assert texts(message["history"]) == ["deploying", "queued"]
    updates = await slack.calls("chat.update")
    assert [call["status"] for call in updates] == [200, 200]


async def test_two_replicas_share_one_budget(
    slack: SlackSandbox, chat: Chat, redis: aioredis.Redis, redis_url: str
) -> None:
    other_chat = await open_chat(slack)
    other_redis = aioredis.Redis.from_url(redis_url)
    try:
        async with Outbox(chat, redis, budgets=FAST) as a, Outbox(other_chat, other_redis, budgets=FAST) as b:
            await asyncio.gather(
                *(a.post(CHANNEL, text_message(f"a{n}")) for n in range(15)),
                *(b.post(CHANNEL, text_message(f"b{n}")) for n in range(15)),
            )
    finally:
        await other_chat.close()
        await other_redis.aclose()

    calls = await post_calls(slack)
    assert len(limited(calls)) <= 1
    ok = [call for call in calls if call["ok"]]
    assert len(ok) == 30
    # Together no faster than one budget allows (two separate budgets would have taken half as long).
    rate = FAST.post_per_channel
    assert ok[-1]["at"] - ok[0]["at"] >= (30 - rate.burst) / rate.per_second * 0.95
    channel_texts = texts(await slack.messages(CHANNEL))
    for replica in "ab":
        assert [t for t in channel_texts if t[0] == replica] == [f"{replica}{n}" for n in range(15)]


async def test_a_429_blocks_every_replica_until_retry_after(redis: aioredis.Redis, redis_url: str) -> None:
    # A slower fake (a post per 250 ms per channel) so the 429 provoked below is still current when the outbox calls.
    async with start_slack_sandbox(rate_limit_scale=0.25) as slack:
        budgets = Budgets().scaled(4)
        intruder = slack.web_client()  # something that ignores our budgets spends the channel's burst at Slack
        for n in range(4):
            await intruder.chat_postMessage(channel=CHANNEL, text=f"intruder {n}")
        chat_a, chat_b = await open_chat(slack), await open_chat(slack)
        redis_b = aioredis.Redis.from_url(redis_url)
        try:
            async with Outbox(chat_a, redis, budgets=budgets) as a, Outbox(chat_b, redis_b, budgets=budgets) as b:
                first = asyncio.create_task(a.post(CHANNEL, text_message("a0"), priority=Priority.FINAL))
                (rejected,) = limited(await slack.calls("chat.postMessage", min=5))
                # Replica a shares the block a moment after Slack's answer; b starts once it can see it. Polled:
                # the key is another client's, and Redis' keyspace events would need CONFIG SET on a shared server.
                blocked = keys.send_blocked("chat.postMessage", CHANNEL)
                async with asyncio.timeout(1):  # the block lasts 1 s: not seen by then, it was not shared
                    while await redis.pttl(blocked) <= 0:  # noqa: ASYNC110 - polled on purpose, see above
                        await asyncio.sleep(0.001)
                await asyncio.gather(first, *(b.post(CHANNEL, text_message(f"b{n}")) for n in range(3)))
        finally:
            await chat_a.close()
            await chat_b.close()
            await redis_b.aclose()
        calls = (await slack.calls("chat.postMessage"))[5:]

    assert rejected["args"]["text"] == "a0"
    assert rejected["retry_after"] >= 1
    assert limited(calls) == []  # replica b never tried while the block held, and a waited it out
    assert sorted(call["args"]["text"] for call in calls) == ["a0", "b0", "b1", "b2"]
    assert min(call["at"] for call in calls) >= rejected["at"] + rejected["retry_after"] - 0.01


async def test_the_outbox_keeps_delivering_when_redis_goes_away(
    slack: SlackSandbox, chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    async with redis_server(free_port()) as server:
        private = aioredis.Redis.from_url(server.url, socket_connect_timeout=1, socket_timeout=1)
        try:
            async with Outbox(chat, private, budgets=FAST) as outbox:
                parent = await outbox.post(CHANNEL, text_message("deployment"))
                before = [outbox.post(CHANNEL, text_message(f"step {n}"), thread_ts=parent) for n in range(5)]
                await asyncio.gather(*before)
                assert await private.exists(keys.send_bucket("chat.postMessage", CHANNEL))  # the shared budget

                await server.stop()
                with caplog.at_level(logging.WARNING, logger="bot.outbox.budget"):
                    after = [outbox.post(CHANNEL, text_message(f"step {n}"), thread_ts=parent) for n in range(5, 15)]
                    final = outbox.post(CHANNEL, text_message("succeeded"), thread_ts=parent, priority=Priority.FINAL)
                    shown = text_message("deployment: succeeded")
                    edit = outbox.update(CHANNEL, parent, shown, priority=Priority.FINAL)
                    await asyncio.gather(*after, final, edit)
        finally:
            await private.aclose()

    replies = texts((await slack.thread(CHANNEL, parent))[1:])
    assert replies == [f"step {n}" for n in range(15)] + ["succeeded"]
    assert texts(await slack.messages(CHANNEL)) == ["deployment: succeeded"]
    assert [r.getMessage() for r in caplog.records].count(
        "Redis is unreachable: the Slack outbox keeps sending on this replica's own budgets"
    ) == 1


async def test_without_redis_from_the_start_posts_still_go_out(slack: SlackSandbox, chat: Chat) -> None:
    nowhere = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    try:
        async with Outbox(chat, nowhere, budgets=FAST) as outbox:
            sent = await asyncio.gather(*(outbox.post(CHANNEL, text_message(f"m{n}")) for n in range(10)))
    finally:
        await nowhere.aclose()
    assert len(set(sent)) == 10
    assert texts(await slack.messages(CHANNEL)) == [f"m{n}" for n in range(10)]
    assert limited(await post_calls(slack)) == []


async def test_what_retrying_cannot_fix_reaches_the_caller_and_the_rest_still_goes(
    slack: SlackSandbox, chat: Chat, redis: aioredis.Redis
) -> None:
    async with Outbox(chat, redis, budgets=FAST) as outbox:
        refused = outbox.post("C_RANDOM", text_message("the bot is not in #random"), priority=Priority.FINAL)
        results = await asyncio.gather(refused, outbox.post(CHANNEL, text_message("fine")), return_exceptions=True)
        with pytest.raises(SlackError, match="message_not_found"):
            await outbox.update(CHANNEL, "1.000001", text_message("no such message"))
    assert isinstance(results[0], NotInChannel)
    assert isinstance(results[1], str)
    assert texts(await slack.messages(CHANNEL)) == ["fine"]


async def test_bad_arguments_get_a_clear_message(chat: Chat, redis: aioredis.Redis) -> None:
    outbox = Outbox(chat, redis, budgets=FAST)
    with pytest.raises(ValueError, match="channel must be a non-empty Slack id"):
        await outbox.post("", text_message("hi"))
    with pytest.raises(ValueError, match="ts must be a non-empty Slack id"):
        await outbox.update(CHANNEL, " ", text_message("hi"))
    with pytest.raises(ValueError, match="broadcast=True needs a thread_ts"):
        await outbox.post(CHANNEL, text_message("hi"), broadcast=True)
    assert outbox.depth() == 0


async def test_stopping_answers_every_waiting_caller(slack: SlackSandbox, chat: Chat, redis: aioredis.Redis) -> None:
    slow = Budgets(post_per_channel=Rate(0.01, 1))  # one post, then the next in 100 s
    outbox = Outbox(chat, redis, budgets=slow)
    await outbox.start()
    await outbox.post(CHANNEL, text_message("first"))
    waiting = asyncio.gather(
        *(outbox.post(CHANNEL, text_message(f"late {n}")) for n in range(3)), return_exceptions=True
    )
    await asyncio.sleep(0)  # let them queue
    assert outbox.depth() == 3
    await outbox.stop()
    errors = await waiting
    assert all(isinstance(error, SlackError) and error.error == "outbox_stopped" for error in errors)
    with pytest.raises(SlackError, match="outbox_stopped"):
        await outbox.post(CHANNEL, text_message("after stop"))
    assert texts(await slack.messages(CHANNEL)) == ["first"]


async def test_a_post_whose_caller_gave_up_before_it_went_out_is_not_sent(
    slack: SlackSandbox, chat: Chat, redis: aioredis.Redis
) -> None:
    outbox = Outbox(chat, redis, budgets=FAST)
    abandoned = asyncio.create_task(outbox.post(CHANNEL, text_message("nobody waits for this")))
    kept = asyncio.create_task(outbox.post(CHANNEL, text_message("still wanted")))
    await asyncio.sleep(0)  # both queued
    abandoned.cancel()
    async with outbox:
        await kept
    assert abandoned.cancelled()
    assert texts(await slack.messages(CHANNEL)) == ["still wanted"]


async def test_progress_still_waiting_when_its_patience_ends_is_withdrawn_and_never_sent(
    slack: SlackSandbox, chat: Chat, redis: aioredis.Redis
) -> None:
    slow = Budgets(post_per_channel=Rate(0.01, 1), update_per_workspace=Rate(0.01, 1))  # one each, then 100 s
    async with Outbox(chat, redis, budgets=slow) as outbox:
        parent = await outbox.post(CHANNEL, text_message("deploying"))
        await outbox.update(CHANNEL, parent, text_message("running"))
        with pytest.raises(NotSent):
            await outbox.post(CHANNEL, text_message("✓ step 1"), thread_ts=parent, patience=0.2)
        # Edits of one message merge: a patient caller withdrawing leaves the edit to the caller still waiting.
        patient = outbox.update(CHANNEL, parent, text_message("step 1 done"), patience=0.2)
        steadfast = asyncio.create_task(outbox.update(CHANNEL, parent, text_message("step 2 done")))
        with pytest.raises(NotSent):
            await patient
        assert outbox.depth() == 1
        assert not steadfast.done()
        steadfast.cancel()
    assert texts(await slack.thread(CHANNEL, parent)) == ["running"]
    assert len(await post_calls(slack)) == 1


async def test_progress_already_on_the_wire_when_its_patience_ends_is_waited_for(
    slack: SlackSandbox, redis: aioredis.Redis
) -> None:
    port = int(slack.url.rsplit(":", 1)[1])
    async with tcp_proxy("127.0.0.1", port) as proxy:
        chat = Chat(AsyncWebClient(token=slack.bot_token, base_url=f"http://127.0.0.1:{proxy.port}/api/"))
        chat.open()
        try:
            async with Outbox(chat, redis, budgets=FAST) as outbox:
                parent = await outbox.post(CHANNEL, text_message("deploying"))
                proxy.stall()  # the reply goes out and hangs there
                reply = asyncio.create_task(
                    outbox.post(CHANNEL, text_message("✓ step 1"), thread_ts=parent, patience=0.1)
                )
                await asyncio.sleep(0.3)
                assert not reply.done()  # past its patience, but Slack may have it: withdrawing could not unsend it
                proxy.unstall()
                assert await reply
        finally:
            await chat.close()
    assert texts((await slack.thread(CHANNEL, parent))[1:]) == ["✓ step 1"]


async def test_the_budgets_of_many_waiting_lanes_are_asked_for_in_a_few_round_trips(
    slack: SlackSandbox, chat: Chat, redis: aioredis.Redis
) -> None:
    # One Redis call per Slack call made the dispatcher the bottleneck with hundreds of calls a second.
    async with Outbox(chat, redis, budgets=FAST) as outbox:
        parents = [await outbox.post(CHANNEL, text_message(f"deployment {d}")) for d in range(120)]
    await slack.set_rate_limits(False)
    roomy = Rate(1e6, 1000)  # budgets that refuse nothing: only the number of round trips is measured
    outbox = Outbox(chat, redis, budgets=Budgets(roomy, roomy, roomy))
    before = await script_calls(redis)
    edits = [asyncio.create_task(outbox.update(CHANNEL, ts, text_message("✓ done"))) for ts in parents]
    await asyncio.sleep(0)  # every edit is queued before the dispatcher starts
    async with outbox:
        await asyncio.gather(*edits)
    assert await script_calls(redis) - before == 3  # 120 lanes, 50 a round trip


async def script_calls(redis: aioredis.Redis) -> int:
    stats = await redis.info("commandstats")
    return sum(int(stats.get(name, {}).get("calls", 0)) for name in ("cmdstat_evalsha", "cmdstat_eval"))
