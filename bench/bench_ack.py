"""Time-to-ack of ``/deploy`` through the bot's real HTTP endpoint, next to a bare Bolt app that only acks.

Everything runs on this machine as separate processes: Redis, the Pulumi emulator, the fake Slack, the bot
(``deploybot serve``) and the bare app. The load generator signs 500 slash commands (``status web/dev``, which
reads Redis and Pulumi after the ack) and sends them 20 at a time; the time to each HTTP 200 is the time to ack.

    .venv/bin/python bench/bench_ack.py [--requests 500] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).parent))
from harness import child, deploybot, free_port, percentile, redis, run, table  # bench is no package

SECRET = "bench-signing-secret"
BARE_APP = """
import sys
from aiohttp import web
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.adapter.aiohttp import to_bolt_request, to_aiohttp_response
from slack_sdk.web.async_client import AsyncWebClient

app = AsyncApp(signing_secret=sys.argv[2], client=AsyncWebClient(token="xoxb-x", base_url=sys.argv[3]))

@app.command("/deploy")
async def deploy(ack):
    await ack()

async def events(request):
    return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

web_app = web.Application()
web_app.router.add_post("/slack/events", events)
web.run_app(web_app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def signed(body: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }


async def load(url: str, sink: str, requests: int, concurrency: int) -> list[float]:
    """Seconds from sending each command to its HTTP 200."""
    gate = asyncio.Semaphore(concurrency)
    timings: list[float] = []

    async def one(session: aiohttp.ClientSession, n: int) -> None:
        body = urlencode(
            {"team_id": "T_SANDBOX", "channel_id": "C_DEPLOYS", "user_id": "U_CARA", "command": "/deploy",
             "text": "status web/dev", "trigger_id": f"{n}.{time.time_ns()}.bench", "response_url": sink}
        )  # fmt: skip
        async with gate:
            start = time.perf_counter()
            async with session.post(url, data=body, headers=signed(body)) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{url} answered {response.status}")
            timings.append(time.perf_counter() - start)

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(one(session, n) for n in range(20)))  # warm-up: connections, auth.test, imports
        timings.clear()
        await asyncio.gather(*(one(session, n) for n in range(requests)))
    return timings


async def main(requests: int, concurrency: int) -> None:
    # Where the bot's follow-up answers (respond()) go: a sink that accepts anything.
    answered = 0
    progress = asyncio.Condition()

    async def accept(request: web.Request) -> web.Response:
        nonlocal answered
        async with progress:
            answered += 1
            progress.notify_all()
        return web.json_response({"ok": True})

    sink_app = web.Application()
    sink_app.router.add_post("/{tail:.*}", accept)
    runner = web.AppRunner(sink_app)
    await runner.setup()
    sink_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", sink_port).start()
    sink = f"http://127.0.0.1:{sink_port}/hook"

    pulumi_port, slack_port, bot_port, bare_port = (free_port() for _ in range(4))
    slack_api = f"http://127.0.0.1:{slack_port}/api/"
    with (
        redis() as redis_url,
        child(deploybot("sandbox", "pulumi", "--port", str(pulumi_port), "--token", "pul-bench",
                        "--stack", "acme/web/dev"), pulumi_port),
        child(deploybot("sandbox", "slack", "--port", str(slack_port), "--signing-secret", SECRET,
                        "--no-rate-limits"), slack_port),
        child(deploybot("serve", "--host", "127.0.0.1", "--port", str(bot_port)), bot_port, env={
            "SLACK_BOT_TOKEN": "xoxb-sandbox", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack_api,
            "PULUMI_ACCESS_TOKEN": "pul-bench", "PULUMI_BACKEND_URL": f"http://127.0.0.1:{pulumi_port}",
            "PULUMI_ORG": "acme", "REDIS_URL": redis_url, "LOG_LEVEL": "WARNING"}),
        child([sys.executable, "-c", BARE_APP, str(bare_port), SECRET, slack_api], bare_port),
    ):  # fmt: skip
        async with aiohttp.ClientSession() as session:  # one deployment for `status` to find and render
            create = f"http://127.0.0.1:{pulumi_port}/api/stacks/acme/web/dev/deployments"
            headers = {"Authorization": "token pul-bench"}
            async with session.post(create, json={"operation": "update"}, headers=headers) as response:
                assert response.status == 202, await response.text()
        rows = []
        for name, port in (("deploybot serve", bot_port), ("bare Bolt app (ack only)", bare_port)):
            before = answered
            timings = await load(f"http://127.0.0.1:{port}/slack/events", sink, requests, concurrency)
            if port == bot_port:  # let the bot finish its answers, so they do not slow the next app's run
                target = before + requests + 20
                async with progress:
                    await progress.wait_for(lambda: answered >= target)  # noqa: B023  # awaited right here
            ms = [t * 1000 for t in timings]
            rows.append(
                [name, len(ms), *(f"{v:.1f}" for v in (statistics.median(ms), percentile(ms, 0.95),
                                                          percentile(ms, 0.99), max(ms)))]
            )  # fmt: skip
    await runner.cleanup()
    print(f"time to ack, {requests} slash commands, {concurrency} concurrent (ms)")
    print(table(["app", "n", "p50", "p95", "p99", "max"], rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=20)
    options = parser.parse_args()
    run(main(options.requests, options.concurrency))
