"""``deploybot serve`` as a real process: starts from the environment, answers Slack, logs no secrets, stops cleanly."""

from __future__ import annotations

from tests.conftest import free_port
from tests.e2e.conftest import CHANNEL, STACKS, BotProcess, eventually, process_env, text_of
from tests.pulumi_sandbox import PulumiSandbox
from tests.slack_sandbox import SlackSandbox


async def announced(slack: SlackSandbox) -> None:
    """Until the channel shows the deployment the command started."""

    async def messages() -> list[dict[str, object]]:
        return await slack.messages(CHANNEL, min=1)

    await eventually(messages, lambda ms: "#1" in text_of(ms), within=10)


async def test_serve_runs_a_command_at_debug_level_without_leaking_secrets(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    await pulumi_sandbox.create_stacks(*STACKS)
    bot = await BotProcess.start(process_env(slack_sandbox, pulumi_sandbox, redis_url, free_port(), LOG_LEVEL="DEBUG"))
    secret = "very-secret-value-42"
    try:
        await slack_sandbox.set_request_url(bot.url + "/slack/events")
        result = await slack_sandbox.command("U_CARA", CHANNEL, f"update web/dev --secret-env TOKEN={secret}")
        assert result.error is None
        await announced(slack_sandbox)
    finally:
        code, logs = await bot.stop()
    assert code == 0, logs[-2000:]
    assert "serving on http" in logs
    assert '"level": "debug"' in logs  # DEBUG really was on
    assert '"request_id"' in logs  # lines written for a Slack request say which
    assert '"deployment_id"' in logs
    for leaked in (secret, slack_sandbox.bot_token, slack_sandbox.signing_secret, pulumi_sandbox.token):
        assert leaked not in logs


async def test_socket_mode_as_a_process_runs_a_command_and_stops_cleanly(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object
) -> None:
    await pulumi_sandbox.create_stacks(*STACKS)
    env = process_env(slack_sandbox, pulumi_sandbox, redis_url, free_port(), SLACK_APP_TOKEN=slack_sandbox.app_token)
    del env["SLACK_SIGNING_SECRET"]  # Socket Mode needs none: Slack's messages come over the app's own connection
    bot = await BotProcess.start(env, mode="socket")
    try:
        assert (await slack_sandbox.socket(wait_connected=True, wait=10))["connected"]
        result = await slack_sandbox.command("U_CARA", CHANNEL, "update web/dev", transport="socket")
        assert result.error is None
        await announced(slack_sandbox)
    finally:
        code, logs = await bot.stop()
    assert code == 0, logs[-2000:]
    assert slack_sandbox.app_token not in logs
