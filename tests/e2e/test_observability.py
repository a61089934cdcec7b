"""Health, readiness and Prometheus metrics, read over HTTP like a kubelet and a Prometheus server would."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError

from tests.conftest import free_port
from tests.deploy_files import K8S, yaml_document
from tests.e2e.conftest import CHANNEL, Bot, channel_message, eventually, running_bot
from tests.pulumi_sandbox import PulumiSandbox
from tests.slack_sandbox import SlackSandbox, start_slack_sandbox
from tests.tcp_proxy import tcp_proxy

# What Kubernetes waits for a probe's answer (deploy/k8s/deployment.yaml); a later answer counts as a failure without
# its reason, and piles up requests on a bot that is already in trouble.
(_CONTAINER,) = yaml_document(K8S / "deployment.yaml")["spec"]["template"]["spec"]["containers"]
PROBE_TIMEOUT = float(_CONTAINER["readinessProbe"]["timeoutSeconds"])


async def get(bot: Bot, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(bot.url + path) as response:
        return response.status, await response.text()


async def get_json(bot: Bot, path: str) -> tuple[int, object]:
    status, body = await get(bot, path)
    return status, json.loads(body)


def not_ready_for(answer: tuple[int, object], service: str) -> bool:
    """503 with a JSON reason naming ``service`` ("does not answer", or "did not answer within" when the client's own
    retries outlast the probe's budget)."""
    status, report = answer
    return status == 503 and isinstance(report, dict) and report["ok"] is False and service in report["reason"]


def value(metrics: str, line_start: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no metric {line_start!r} in:\n{metrics[:3000]}")


async def test_metrics_count_commands_calls_and_state(http_bot: Bot) -> None:
    await http_bot.slack.command("U_CARA", CHANNEL, "help")
    await http_bot.slack.command("U_CARA", CHANNEL, "frobnicate")
    await http_bot.slack.command("U_CARA", CHANNEL, "update web/dev")
    await channel_message(http_bot, "deployment.cancel")

    async def scrape() -> str:
        return (await get(http_bot, "/metrics"))[1]

    text = await eventually(scrape, lambda t: 'verb="update"' in t)
    assert value(text, 'deploybot_commands_total{outcome="ok",verb="help"}') == 1
    assert value(text, 'deploybot_commands_total{outcome="refused",verb="unparsed"}') == 1
    assert value(text, 'deploybot_commands_total{outcome="ok",verb="update"}') == 1
    endpoint = "POST /api/stacks/{org}/{project}/{stack}/deployments"
    assert value(text, f'deploybot_pulumi_requests_total{{endpoint="{endpoint}",status="202"}}') == 1
    assert value(text, 'deploybot_slack_calls_total{method="chat.postMessage",outcome="ok"}') >= 1
    assert value(text, "deploybot_watches") == 1
    assert value(text, "deploybot_pending_approvals") == 0
    assert "deploybot_outbox_depth" in text
    assert "deploybot_pulumi_request_seconds_bucket" in text
    await http_bot.pulumi.run_until_idle()
    await http_bot.watcher.poll_once()
    lag = (await get(http_bot, "/metrics"))[1]
    assert value(lag, "deploybot_report_lag_seconds_count") >= 1
    assert "xoxb-" not in lag  # no secret in any label


async def test_readiness_follows_redis_and_pulumi(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    target = urlsplit(redis_url)
    async with tcp_proxy(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        proxied = redis_url.replace(f":{target.port}/", f":{proxy.port}/")
        async with running_bot("serve", slack_sandbox, pulumi_sandbox, proxied) as bot:
            status, body = await get(bot, "/readyz")
            assert status == 200, body
            await proxy.cut()
            assert await get_json(bot, "/readyz") == (503, {"ok": False, "reason": "Redis does not answer"})
            assert (await get(bot, "/healthz"))[0] == 200  # liveness is not about Redis: a restart would not help
            await proxy.restore()
            assert await get_json(bot, "/readyz") == (200, {"ok": True})  # it reconnects
            await pulumi_sandbox.add_fault(path="/metadata$", drop=True)
            # Pulumi answered just now (the probe above), so readiness still trusts it for a minute.
            assert (await get(bot, "/readyz"))[0] == 200


async def test_liveness_answers_within_the_probe_timeout_while_redis_hangs(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    target = urlsplit(redis_url)
    async with tcp_proxy(target.hostname or "127.0.0.1", target.port or 6379) as proxy:
        proxied = redis_url.replace(f":{target.port}/", f":{proxy.port}/")
        async with running_bot("serve", slack_sandbox, pulumi_sandbox, proxied, watch_loop=True) as bot:

            async def live() -> int:
                return (await get(bot, "/healthz"))[0]

            assert await eventually(live, lambda status: status == 200) == 200  # the watcher's first round
            proxy.stall()
            try:
                started = asyncio.get_running_loop().time()
                status, body = await get_json(bot, "/healthz")
                took = asyncio.get_running_loop().time() - started
            finally:
                proxy.unstall()
            assert took < 4  # the probe's timeout in deploy/k8s
            assert (status, body) == (200, {"ok": True, "watcher": "unknown while Redis is unavailable"})


async def test_liveness_needs_the_watcher_going(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    async with running_bot("serve", slack_sandbox, pulumi_sandbox, redis_url, watch_loop=True) as bot:

        async def live() -> int:
            return (await get(bot, "/healthz"))[0]

        assert await eventually(live, lambda status: status == 200) == 200


async def test_readiness_is_503_with_a_reason_while_nothing_listens_at_pulumis_address(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # bound and released: connections are refused
    async with running_bot("serve", slack_sandbox, pulumi_sandbox, redis_url, PULUMI_BACKEND_URL=closed) as bot:
        assert not_ready_for(await get_json(bot, "/readyz"), "Pulumi")
        assert (await get(bot, "/healthz"))[0] == 200  # a restart would not bring Pulumi back


async def test_readiness_is_503_while_pulumi_drops_connections_and_200_once_it_answers(http_bot: Bot) -> None:
    pulumi = http_bot.pulumi
    await pulumi.add_fault(path="/deployments/metadata$", drop=True)
    assert not_ready_for(await get_json(http_bot, "/readyz"), "Pulumi")
    probes = [r for r in await pulumi.requests() if r["path"].endswith("/deployments/metadata")]
    assert probes, "readiness asked Pulumi"
    assert {r["status"] for r in probes} == {0}  # every attempt dropped by the emulator
    await pulumi.clear_faults()
    assert await get_json(http_bot, "/readyz") == (200, {"ok": True})


async def test_readiness_answers_within_the_probe_timeout_while_pulumi_hangs(http_bot: Bot) -> None:
    await http_bot.pulumi.add_fault(path="/deployments/metadata$", delay=6)
    started = time.monotonic()
    status, report = await get_json(http_bot, "/readyz")
    took = time.monotonic() - started
    assert (status, report) == (503, {"ok": False, "reason": "Redis or Pulumi did not answer within 3 s"})
    assert took < PROBE_TIMEOUT, f"/readyz took {took:.1f} s; Kubernetes gives up after {PROBE_TIMEOUT:g} s"
    await http_bot.pulumi.clear_faults()


async def test_liveness_is_503_while_the_watchers_round_is_stuck_and_200_once_it_completes(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    # Rounds every 0.3 s keep a heartbeat that lapses after 0.9 s; a round waiting 3 s on Pulumi cannot keep it.
    interval = {"DEPLOYBOT_POLL_INTERVAL": "0.3"}
    async with running_bot("serve", slack_sandbox, pulumi_sandbox, redis_url, watch_loop=True, **interval) as bot:

        async def live() -> tuple[int, object]:
            return await get_json(bot, "/healthz")

        assert await eventually(live, lambda answer: answer[0] == 200) == (200, {"ok": True})
        await bot.pulumi.add_fault(method="GET", path="/deployments", delay=3)
        await bot.slack.command("U_CARA", CHANNEL, "update web/dev")  # a watch: the rounds now poll Pulumi
        stuck = {"ok": False, "reason": "the watcher has not completed a round recently"}
        assert await eventually(live, lambda answer: answer[0] == 503, within=15) == (503, stuck)
        await bot.pulumi.clear_faults()
        assert await eventually(live, lambda answer: answer[0] == 200, within=15) == (200, {"ok": True})


async def test_socket_mode_serves_health_readiness_and_metrics_on_its_port(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    async with running_bot("socket", slack_sandbox, pulumi_sandbox, redis_url) as bot:
        assert await get_json(bot, "/healthz") == (200, {"ok": True})
        assert await get_json(bot, "/readyz") == (200, {"ok": True})
        result = await bot.slack.command("U_CARA", CHANNEL, "help")
        assert result.record["transport"] == "socket"

        async def scrape() -> str:
            return (await get(bot, "/metrics"))[1]

        text = await eventually(scrape, lambda t: 'verb="help"' in t)
        assert value(text, 'deploybot_commands_total{outcome="ok",verb="help"}') == 1
        async with aiohttp.ClientSession() as session, session.post(bot.url + "/slack/events") as response:
            assert response.status == 404  # Slack's requests come over the socket, not to this port


async def use_up_the_post_budget(slack: SlackSandbox, channel: str) -> None:
    """Post to ``channel`` as another client until Slack answers 429."""
    other_app = slack.web_client(retry_handlers=[])
    for n in range(20):
        try:
            await other_app.chat_postMessage(channel=channel, text=f"filler {n}")
        except SlackApiError as error:
            if error.response.status_code == 429:
                return
            raise
    raise AssertionError("the fake Slack never answered 429")


async def test_metrics_count_every_slack_429_and_the_requests_waiting_for_approval(
    pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    # A three-minute rate window: the channel's post budget refills one post per 3 s, so the bot's post right after
    # the test used the budget up is answered 429, and slack_sdk's retry after the Retry-After gets through.
    async with (
        start_slack_sandbox(rate_limit_scale=3) as slack,
        running_bot("serve", slack, pulumi_sandbox, redis_url, DEPLOYBOT_POLICY="") as bot,  # default: approval
    ):
        await use_up_the_post_budget(slack, CHANNEL)
        since = len(await slack.calls())
        await bot.slack.command("U_CARA", CHANNEL, "update web/dev")
        request = await channel_message(bot, "approval.approve", within=15)
        answered = [call for call in (await slack.calls())[since:] if call["method"] == "chat.postMessage"]
        assert [call["status"] for call in answered][-1] == 200
        refused = sum(1 for call in answered if call["status"] == 429)
        assert refused >= 1, "the bot's post was not rate limited"

        async def scrape() -> str:
            return (await get(bot, "/metrics"))[1]

        # The request is stored right after its message is posted.
        text = await eventually(scrape, lambda t: value(t, "deploybot_pending_approvals") == 1)
        ratelimited = 'deploybot_slack_calls_total{method="chat.postMessage",outcome="ratelimited"}'
        assert value(text, ratelimited) == refused  # each 429, though slack_sdk retried it successfully
        assert value(text, 'deploybot_slack_calls_total{method="chat.postMessage",outcome="ok"}') == 1
        await bot.slack.click("U_BEN", request, "approval.approve")
        await channel_message(bot, "approved by <@U_BEN>", within=15)
        await eventually(scrape, lambda t: value(t, "deploybot_pending_approvals") == 0)
