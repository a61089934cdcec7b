"""Rate limits: 429 + integer Retry-After + ``ratelimited``, logged, and recovered from."""

from __future__ import annotations

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

from tests.slack_sandbox import SlackSandbox, start_slack_sandbox


async def _usergroup_calls(slack: SlackSandbox, count: int) -> list[tuple[int, str | None, dict[str, object]]]:
    """Raw calls, so the 429 itself is visible (slack_sdk would raise on it)."""
    results = []
    headers = {"Authorization": f"Bearer {slack.bot_token}"}
    async with aiohttp.ClientSession() as http:
        for _ in range(count):
            url = slack.api_url + "usergroups.users.list"
            async with http.get(url, params={"usergroup": "S_SRE"}, headers=headers) as response:
                results.append((response.status, response.headers.get("Retry-After"), await response.json()))
    return results


async def test_a_tier_2_method_allows_a_burst_then_answers_429(slack: SlackSandbox) -> None:
    results = await _usergroup_calls(slack, 6)

    assert [status for status, _, _ in results] == [200] * 5 + [429]
    _, retry_after, body = results[-1]
    assert body == {"ok": False, "error": "ratelimited"}
    assert retry_after is not None
    assert retry_after.isdigit()
    assert int(retry_after) == 3  # Tier 2 refills one call every 60/20 seconds
    logged = await slack.calls("usergroups.users.list")
    assert [(c["status"], c.get("retry_after")) for c in logged][-1] == (429, 3)


async def test_waiting_retry_after_is_enough(slack: SlackSandbox) -> None:
    *_, (_, retry_after, _) = await _usergroup_calls(slack, 6)
    assert retry_after is not None

    await slack.advance_clock(int(retry_after))

    assert [status for status, _, _ in await _usergroup_calls(slack, 2)] == [200, 429]


async def test_post_message_is_limited_per_channel(slack: SlackSandbox) -> None:
    headers = {"Authorization": f"Bearer {slack.bot_token}"}
    statuses = []
    async with aiohttp.ClientSession() as http:
        for channel in ["C_DEPLOYS"] * 5 + ["G_OPS"]:
            payload = {"channel": channel, "text": "burst"}
            async with http.post(slack.api_url + "chat.postMessage", json=payload, headers=headers) as response:
                statuses.append(response.status)

    assert statuses == [200] * 4 + [429, 200]  # about one per second per channel, bursts of four
    assert len(await slack.messages("C_DEPLOYS")) == 4


async def test_slack_sdks_retry_handler_recovers_on_a_short_window() -> None:
    async with start_slack_sandbox(rate_limit_scale=0.01) as slack:
        client = slack.web_client(retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
        for _ in range(6):
            await client.usergroups_users_list(usergroup="S_SRE")

        statuses = [c["status"] for c in await slack.calls("usergroups.users.list")]
    assert statuses == [200] * 5 + [429, 200]


async def test_rate_limits_can_be_switched_off(slack: SlackSandbox) -> None:
    await slack.set_rate_limits(False)

    results = await _usergroup_calls(slack, 30)

    assert {status for status, _, _ in results} == {200}
