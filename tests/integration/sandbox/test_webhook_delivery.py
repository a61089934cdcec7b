"""How the emulator delivers webhooks: failures recorded and never retried, injected faults (drop, duplicate, delay,
reorder), a burst that does not slow the tick, a full queue, and the CLI's --webhook-url/--webhook-secret."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import free_port
from tests.integration.sandbox.conftest import Api
from tests.integration.sandbox.test_cli import ROOT
from tests.integration.sandbox.webhook_receiver import Receiver, start_receiver
from tests.pulumi_sandbox import PulumiSandbox, start_pulumi_sandbox


async def _start(*args: str) -> asyncio.subprocess.Process:
    """``deploybot sandbox pulumi`` as a real process, as the CLI test runs it."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "sandbox", "pulumi", *args,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with start_receiver() as started:
        yield started


async def test_failures_are_recorded_once_and_the_engine_goes_on(
    pulumi_sandbox: PulumiSandbox, api: Api, receiver: Receiver
) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_webhook(f"{receiver.url}/broken")
    await pulumi_sandbox.add_webhook(f"http://127.0.0.1:{free_port()}/nobody-listens")
    receiver.status = 500
    created = await api.create()
    await pulumi_sandbox.advance(2)
    await pulumi_sandbox.webhook_deliveries(min=4, idle=True)  # queued and started, to each hook
    receiver.status, receiver.abort = 200, True  # now it closes the connection without an answer
    await pulumi_sandbox.run_until_idle()
    deliveries = await pulumi_sandbox.webhook_deliveries(min=6, idle=True)

    assert (await api.deployment(created["id"]))["status"] == "succeeded"
    # Sent in parallel, so recorded in no fixed order: sorted by event (each happens at most once here).
    order = ["deployment_queued", "deployment_started", "deployment_succeeded"]
    broken = sorted(
        (item for item in deliveries if item["url"].endswith("/broken")), key=lambda i: order.index(i["event"])
    )
    assert [(item["event"], item["status"], item["error"]) for item in broken] == [
        ("deployment_queued", 500, "HTTP 500"),
        ("deployment_started", 500, "HTTP 500"),
        ("deployment_succeeded", 0, broken[2]["error"]),
    ]
    assert broken[0]["response"] == "thanks"
    assert broken[2]["error"].startswith("no answer: ServerDisconnectedError")
    refused = [item for item in deliveries if item["url"].endswith("/nobody-listens")]
    assert len(refused) == 3
    assert all(item["status"] == 0 and item["error"].startswith("no answer: ClientConnectorError") for item in refused)
    assert not any(item["ok"] for item in deliveries)
    # No retries: each delivery reached the receiver exactly once, and nothing is left to send.
    assert sorted(got.headers["Pulumi-Webhook-ID"] for got in receiver.received) == sorted(i["id"] for i in broken)
    assert await pulumi_sandbox.webhook_deliveries(idle=True) == deliveries


async def test_an_unanswered_delivery_times_out(receiver: Receiver) -> None:
    async with (
        start_pulumi_sandbox(webhook_timeout=0.2, stacks=("acme/web/dev",)) as sandbox,
        aiohttp.ClientSession() as session,
    ):
        api = Api(sandbox, session)
        await sandbox.add_webhook(receiver.url, filters=["deployment_queued"])
        receiver.hold()  # it takes the request and never answers
        created = await api.create()
        [delivery] = await sandbox.webhook_deliveries(min=1, idle=True)
        assert (delivery["status"], delivery["ok"], delivery["error"]) == (0, False, "no answer within 0.2s")
        assert delivery["duration"] >= 190  # 200 ms, give or take the rounding of two clocks
        assert len(receiver.received) == 1
        await sandbox.run_until_idle()
        assert (await api.deployment(created["id"]))["status"] == "succeeded"


async def test_drop_and_duplicate(pulumi_sandbox: PulumiSandbox, api: Api, receiver: Receiver) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_webhook(receiver.url, secret="s")
    faults = await pulumi_sandbox.webhook_faults(drop=1, duplicate=1)
    assert faults == {"drop": 1, "duplicate": 1, "delay": 0.0, "count": None, "reorder": 0}
    await api.create()
    await pulumi_sandbox.advance(2)
    await pulumi_sandbox.webhook_deliveries(min=3, idle=True)  # senders run in parallel: one step at a time
    await pulumi_sandbox.run_until_idle()
    deliveries = await pulumi_sandbox.webhook_deliveries(min=4, idle=True)

    assert [(item["event"], item["status"], item["faults"]) for item in deliveries] == [
        ("deployment_queued", 0, ["dropped"]),
        ("deployment_started", 200, ["duplicated"]),
        ("deployment_started", 200, ["duplicated"]),
        ("deployment_succeeded", 200, []),
    ]
    assert deliveries[0]["error"] == "dropped by an injected fault: not sent"
    assert deliveries[1]["id"] == deliveries[2]["id"]
    # The receiver saw the started event twice: the same ID, the same bytes, so the same signature.
    assert [got.event_status for got in receiver.received] == ["running", "running", "succeeded"]
    first, second = receiver.received[:2]
    assert first.headers["Pulumi-Webhook-ID"] == second.headers["Pulumi-Webhook-ID"] == deliveries[1]["id"]
    assert first.body == second.body
    assert first.headers["Pulumi-Webhook-Signature"] == hmac.new(b"s", first.body, hashlib.sha256).hexdigest()
    assert await pulumi_sandbox.webhook_faults() == {**faults, "drop": 0, "duplicate": 0}


async def test_delay(pulumi_sandbox: PulumiSandbox, api: Api, receiver: Receiver) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_webhook(receiver.url)
    await pulumi_sandbox.webhook_faults(delay=0.5, count=1)
    loop = asyncio.get_running_loop()
    created_at = loop.time()
    await api.create()
    await pulumi_sandbox.advance(2)  # started: not delayed, so it overtakes the queued event
    deliveries = await pulumi_sandbox.webhook_deliveries(min=2, idle=True)

    assert [(item["event"], item["faults"]) for item in deliveries] == [
        ("deployment_started", []),
        ("deployment_queued", ["delayed"]),
    ]
    assert [got.event_status for got in receiver.received] == ["running", "not-started"]
    assert receiver.received[1].at - created_at >= 0.5
    assert (await pulumi_sandbox.webhook_faults())["delay"] == 0  # its count is used up


async def test_reorder_sends_a_batch_newest_first(pulumi_sandbox: PulumiSandbox, api: Api, receiver: Receiver) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.add_webhook(receiver.url)
    await pulumi_sandbox.webhook_faults(reorder=3)
    await api.create()
    await pulumi_sandbox.run_until_idle()
    deliveries = await pulumi_sandbox.webhook_deliveries(min=3, idle=True)
    assert [got.event_status for got in receiver.received] == ["succeeded", "running", "not-started"]
    assert [item["event"] for item in deliveries] == ["deployment_succeeded", "deployment_started", "deployment_queued"]
    assert {tuple(item["faults"]) for item in deliveries} == {("reordered",)}

    # A batch that never fills is sent as it came once reordering is switched off.
    await pulumi_sandbox.webhook_faults(reorder=5)
    await api.create()
    assert await pulumi_sandbox.webhook_deliveries(since=3, wait=0.05) == []
    await pulumi_sandbox.clear_webhook_faults()
    assert [item["event"] for item in await pulumi_sandbox.webhook_deliveries(min=1, since=3)] == ["deployment_queued"]


async def test_a_burst_does_not_slow_the_tick(receiver: Receiver) -> None:
    stacks = tuple(f"acme/web/s{n}" for n in range(50))
    async with (
        start_pulumi_sandbox(stacks=stacks, concurrency=50, webhook_senders=4) as sandbox,
        aiohttp.ClientSession() as session,
    ):
        api = Api(sandbox, session)
        for ref in stacks:
            await api.create(ref.removeprefix("acme/"))
        await sandbox.add_webhook(f"{receiver.url}/one")
        await sandbox.add_webhook(f"{receiver.url}/two")
        receiver.hold()
        # 50 deployments start and succeed: 200 deliveries, none of which can finish while the receiver holds them.
        ticks = await sandbox.run_until_idle()
        assert ticks["idle"] is True
        assert await sandbox.webhook_deliveries() == []
        assert len(receiver.received) <= 4  # only what the four sender tasks have in flight
        receiver.release()
        deliveries = await sandbox.webhook_deliveries(min=200, idle=True, wait=20)

    assert len(deliveries) == 200
    assert all(item["ok"] for item in deliveries)
    assert len({got.headers["Pulumi-Webhook-ID"] for got in receiver.received}) == 200
    assert Counter(got.event_status for got in receiver.received) == {"running": 100, "succeeded": 100}


async def test_a_full_queue_is_recorded_not_blocking(receiver: Receiver) -> None:
    stacks = tuple(f"acme/web/s{n}" for n in range(5))
    async with (
        start_pulumi_sandbox(stacks=stacks, concurrency=5, webhook_queue_size=3, webhook_senders=1) as sandbox,
        aiohttp.ClientSession() as session,
    ):
        api = Api(sandbox, session)
        for ref in stacks:
            await api.create(ref.removeprefix("acme/"))
        await sandbox.add_webhook(receiver.url)
        receiver.hold()
        await sandbox.run_until_idle()  # 10 deliveries in one request: 3 fit in the queue
        overflow = await sandbox.webhook_deliveries(min=7)
        assert {item["error"] for item in overflow} == {"not sent: the delivery queue is full (3 waiting)"}
        receiver.release()
        deliveries = await sandbox.webhook_deliveries(min=10, idle=True)
    assert len(deliveries) == len(overflow) + len(receiver.received) == 10
    assert sum(item["ok"] for item in deliveries) == 3


async def test_the_cli_sends_signed_and_unsigned_webhooks(receiver: Receiver) -> None:
    process = await _start(
        "--port", "0", "--token", "t", "--stack", "acme/web/dev", "--manual-clock",
        "--webhook-url", f"{receiver.url}/signed", "--webhook-secret", "cli-secret",
        "--webhook-url", f"{receiver.url}/plain",
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
        found = re.search(r"http://127\.0\.0\.1:\d+", banner)
        assert found, banner
        async with aiohttp.ClientSession() as session:
            url = f"{found.group(0)}/api/stacks/acme/web/dev/deployments"
            async with session.post(url, json={"operation": "update"}, headers={"Authorization": "token t"}) as resp:
                assert resp.status == 202
            wait = f"{found.group(0)}/_sandbox/webhooks/deliveries?min=2&idle=true&wait=10"
            async with session.get(wait) as resp:
                deliveries = (await resp.json())["deliveries"]
        assert len(deliveries) == 2
        [signed], [plain] = receiver.at("/signed"), receiver.at("/plain")
        assert (
            signed.headers["Pulumi-Webhook-Signature"]
            == hmac.new(b"cli-secret", signed.body, hashlib.sha256).hexdigest()
        )
        assert "Pulumi-Webhook-Signature" not in plain.headers
        assert signed.json["status"] == plain.json["status"] == "not-started"
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--webhook-secret", "s"], "--webhook-secret applies to the --webhook-url before it"),
        (["--webhook-url", "ftp://x/"], "url must be an absolute http:// or https:// URL, not 'ftp://x/'"),
    ],
)
async def test_cli_webhook_mistakes_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    process = await _start("--port", "0", *args)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert message in stderr.decode()
    assert "Traceback" not in stderr.decode()
