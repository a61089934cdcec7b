"""Health, readiness and Prometheus metrics, read over HTTP like a kubelet and a Prometheus server would."""

from __future__ import annotations

from urllib.parse import urlsplit

import aiohttp

from tests.e2e.conftest import CHANNEL, Bot, channel_message, eventually, running_bot
from tests.pulumi_sandbox import PulumiSandbox
from tests.slack_sandbox import SlackSandbox
from tests.tcp_proxy import tcp_proxy


async def get(bot: Bot, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(bot.url + path) as response:
        return response.status, await response.text()


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
            status, body = await get(bot, "/readyz")
            assert status == 503
            assert "Redis" in body
            assert (await get(bot, "/healthz"))[0] == 200  # liveness is not about Redis: a restart would not help
            await proxy.restore()
            await pulumi_sandbox.add_fault(path="/metadata$", drop=True)
            # Pulumi answered just now (the probe above), so readiness still trusts it for a minute.
            assert (await get(bot, "/readyz"))[0] == 200


async def test_liveness_needs_the_watcher_going(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    async with running_bot("serve", slack_sandbox, pulumi_sandbox, redis_url, watch_loop=True) as bot:

        async def live() -> int:
            return (await get(bot, "/healthz"))[0]

        assert await eventually(live, lambda status: status == 200) == 200
