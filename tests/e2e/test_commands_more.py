"""/deploy end to end, the rest of the surface: refresh, list filters, step logs by job and offset, pausing a whole
organization, every create flag (checked in the body the emulator received), deployments that do not exist, and
cancelling one that already finished."""

from __future__ import annotations

import json
from typing import Any

from bot.command import usage_of
from tests.e2e.conftest import CHANNEL, Bot, channel_message, ephemeral_with, eventually, text_of
from tests.e2e.test_commands import creates

REPO = "https://github.com/acme/web.git"  # the emulator's default source of acme/web/* stacks


async def requests_to(bot: Bot, method: str, path_end: str) -> list[dict[str, Any]]:
    """Requests the emulator received whose path ends with ``path_end``."""
    return [r for r in await bot.pulumi.requests() if r["method"] == method and r["path"].endswith(path_end)]


async def answer_to(bot: Bot, user: str, text: str) -> str:
    """The one private answer to ``/deploy text``, as a string for ``in`` assertions."""
    result = await bot.slack.command(user, CHANNEL, text)
    assert result.error is None
    [answer] = await result.responses()
    assert answer["payload"]["response_type"] == "ephemeral"
    return text_of(answer)


async def test_refresh_creates_a_refresh_deployment_that_runs(bot: Bot) -> None:
    await bot.slack.command("U_CARA", CHANNEL, "refresh web/dev --message 'drift check'")
    message = await channel_message(bot, "#1")
    assert "*refresh* `acme/web/dev` #1" in text_of(message)
    assert "drift check" in text_of(message)
    [create] = await creates(bot)
    assert create["path"] == "/api/stacks/acme/web/dev/deployments"
    assert create["body"]["operation"] == "refresh"
    assert create["body"]["inheritSettings"] is True
    await bot.pulumi.run_until_idle()
    shown = await answer_to(bot, "U_CARA", "status web/dev #1")
    assert "✓ succeeded" in shown
    assert "refresh" in shown


async def test_list_of_the_org_filtered_by_status_and_oldest_first(bot: Bot) -> None:
    await bot.slack.command("U_CARA", CHANNEL, "preview web/dev")
    await channel_message(bot, "`acme/web/dev` #1")
    await bot.slack.command("U_CARA", CHANNEL, "update web/dev --env SANDBOX_FAIL_STEP=3")
    await channel_message(bot, "`acme/web/dev` #2")
    await bot.slack.command("U_CARA", CHANNEL, "preview api/dev")
    await channel_message(bot, "`acme/api/dev` #1")
    await bot.pulumi.run_until_idle()

    everything = await answer_to(bot, "U_CARA", "list --org")
    assert "Deployments of acme" in everything
    assert "(3 in all)" in everything
    assert "web/dev" in everything
    assert "api/dev" in everything  # the org list names each row's stack

    failed = await answer_to(bot, "U_CARA", "list --org --status failed")
    assert "Deployments of acme (failed)" in failed
    assert "✗ failed" in failed
    assert "✓ succeeded" not in failed
    assert "api/dev" not in failed

    of_stack = await answer_to(bot, "U_CARA", "list web/dev --status FAILED")  # statuses are not case-sensitive
    assert "Deployments of acme/web/dev (failed)" in of_stack
    assert "#2" in of_stack
    assert "#1 " not in of_stack

    oldest = await answer_to(bot, "U_CARA", "list web/dev --asc --page-size 1")
    assert "page 1 of 2" in oldest
    assert "#1 " in oldest
    assert "#2 " not in oldest
    newest = await answer_to(bot, "U_CARA", "list web/dev --page-size 1")
    assert "#2 " in newest

    org_lists = [r["query"] for r in await requests_to(bot, "GET", "/api/orgs/acme/deployments")]
    assert org_lists[0]["asc"] == "false"
    assert org_lists[1]["status"] == "failed"
    stack_lists = [r["query"] for r in await requests_to(bot, "GET", "/api/stacks/acme/web/dev/deployments")]
    assert stack_lists[-2]["asc"] == "true"
    assert stack_lists[-2]["pageSize"] == "1"


async def test_a_bad_list_filter_gets_the_usage_line(bot: Bot) -> None:
    shown = await answer_to(bot, "U_CARA", "list web/dev --status exploded")
    assert "--status is one of" in shown
    assert "Usage: `/deploy list" in shown
    assert await requests_to(bot, "GET", "/deployments") == []


async def test_logs_of_one_step_by_job_and_offset(bot: Bot) -> None:
    await bot.slack.command("U_CARA", CHANNEL, "update web/dev")
    await channel_message(bot, "#1")
    await bot.pulumi.run_until_idle()

    page = await answer_to(bot, "U_CARA", "logs web/dev #1 --job 1 --step 2 --offset 1 --count 1")
    assert "Step 2: Download deployment executor" in page
    assert "lines 2 to 2" in page
    [step_request] = [r for r in await requests_to(bot, "GET", "/logs") if "step" in r["query"]]
    assert step_request["query"] == {"job": "0", "step": "1", "offset": "1", "count": "1"}  # Pulumi's are 0-based

    more = await bot.slack.click("U_CARA", await ephemeral_with(bot, "U_CARA", "logs.more"), "logs.more")
    [next_page] = await more.responses()
    assert "lines 3 to 3" in text_of(next_page)

    # Jobs and steps are numbered from 1, as /deploy status shows them; anything else is said plainly.
    no_job = await answer_to(bot, "U_CARA", "logs web/dev #1 --job 2 --step 1")
    assert "has no job 2 (it has 1)" in no_job
    assert "Usage: `/deploy logs" in no_job
    zero = await answer_to(bot, "U_CARA", "logs web/dev #1 --job 0 --step 1")
    assert "--job must be between 1 and 100" in zero
    no_step = await answer_to(bot, "U_CARA", "logs web/dev #1 --step 99")
    assert "has no step 99" in no_step
    assert "Traceback" not in no_job + zero + no_step


async def test_pause_and_resume_the_whole_organization(bot: Bot) -> None:
    await bot.slack.command("U_ANA", CHANNEL, "pause --org")
    await channel_message(bot, "paused deployments for organization `acme`")
    assert len(await requests_to(bot, "POST", "/api/orgs/acme/deployments/pause")) == 1
    info = await answer_to(bot, "U_ANA", "info --org")
    assert "⏸ paused" in info

    await bot.slack.command("U_CARA", CHANNEL, "update web/dev")
    await channel_message(bot, "#1")
    await bot.pulumi.run_until_idle()
    waiting = await answer_to(bot, "U_CARA", "status web/dev #1")
    assert "succeeded" not in waiting  # held in the queue while the organization is paused

    await bot.slack.command("U_ANA", CHANNEL, "resume --org")
    await channel_message(bot, "resumed deployments for organization `acme`")
    assert len(await requests_to(bot, "POST", "/api/orgs/acme/deployments/resume")) == 1
    await bot.pulumi.run_until_idle()
    assert "✓ succeeded" in await answer_to(bot, "U_CARA", "status web/dev #1")
    assert "▶ running deployments" in await answer_to(bot, "U_ANA", "info --org")


async def test_commit_json_and_skip_flags_reach_the_create_request(bot: Bot) -> None:
    sha = await bot.pulumi.push(REPO, "main")
    extra = json.dumps({"operationContext": {"preRunCommands": ["echo from-json"]}, "cacheOptions": {"enable": True}})
    command = f"update web/dev --commit {sha.upper()} --json '{extra}' --skip-install --skip-intermediate"
    await bot.slack.command("U_CARA", CHANNEL, command)
    await channel_message(bot, "#1")
    [create] = await creates(bot)
    body = create["body"]
    assert body["operation"] == "update"
    assert body["inheritSettings"] is True
    # The commit is sent in lower case with "branch": null, so the stack's inherited branch does not conflict.
    assert body["sourceContext"]["git"] == {"commit": sha, "branch": None}
    assert body["operationContext"]["preRunCommands"] == ["echo from-json"]
    assert body["operationContext"]["options"] == {"skipInstallDependencies": True, "skipIntermediateDeployments": True}
    assert body["cacheOptions"] == {"enable": True}
    await bot.pulumi.run_until_idle()
    shown = await answer_to(bot, "U_CARA", "status web/dev #1")
    assert "✓ succeeded" in shown  # the emulator checked out that very commit
    assert "Pre-run command 1" in shown
    assert "Download dependencies" not in shown  # --skip-install took effect


async def test_no_inherit_sends_only_what_the_command_gives(bot: Bot) -> None:
    # Without the stack's settings the request has no source: Pulumi refuses, the asker hears why, nothing stays.
    refused = await answer_to(bot, "U_CARA", "preview web/dev --no-inherit")
    assert "Pulumi refused" in refused
    assert "no source" in refused
    assert await bot.slack.messages(CHANNEL, deleted=False) == []
    [create] = await creates(bot)
    assert create["body"]["inheritSettings"] is False

    source = json.dumps({"sourceContext": {"git": {"repoUrl": REPO, "branch": "refs/heads/main"}}})
    await bot.slack.command("U_CARA", CHANNEL, f"preview web/dev --no-inherit --json '{source}'")
    await channel_message(bot, "#1")
    second = (await creates(bot))[1]["body"]
    assert second["inheritSettings"] is False
    assert second["sourceContext"] == {"git": {"repoUrl": REPO, "branch": "refs/heads/main"}}


async def test_destroy_can_delete_the_stack_after(bot: Bot) -> None:
    await bot.slack.command("U_CARA", CHANNEL, "destroy api/dev --delete-after-destroy")
    await channel_message(bot, "*destroy* `acme/api/dev` #1")
    [create] = await creates(bot)
    assert create["body"]["operation"] == "destroy"
    assert create["body"]["operationContext"]["options"] == {"deleteAfterDestroy": True}


async def test_a_deployment_that_does_not_exist_is_said_plainly(bot: Bot) -> None:
    none_yet = await answer_to(bot, "U_CARA", "status web/dev")
    assert "has no deployments yet" in none_yet
    await bot.slack.command("U_CARA", CHANNEL, "preview web/dev")
    await channel_message(bot, "#1")
    for command in (
        "status web/dev #99",
        "logs web/dev #99",
        "logs web/dev #99 --step 1",
        "cancel web/dev #99",
        "status web/dev 0123456789abcdef",
        "cancel web/dev 0123456789abcdef",
    ):
        shown = await answer_to(bot, "U_CARA", command)
        assert "Pulumi says" in shown, command
        assert "not found" in shown, command
        assert f"Usage: `{usage_of(command.split()[0])}`" in shown, command  # that command's usage line
        assert "Traceback" not in shown, command
    no_stack = await answer_to(bot, "U_CARA", "settings show web/nope")
    assert "Pulumi says" in no_stack
    assert "Usage: `/deploy settings show STACK`" in no_stack
    assert await requests_to(bot, "POST", "/cancel") == []
    [announcement] = await bot.slack.messages(CHANNEL)  # only the preview's; no error reached the channel
    assert "#1" in text_of(announcement)


async def test_cancelling_a_finished_deployment_says_so_and_changes_nothing(bot: Bot) -> None:
    await bot.slack.command("U_CARA", CHANNEL, "update web/dev")
    parent = await channel_message(bot, "deployment.cancel")
    await bot.pulumi.run_until_idle()

    by_command = await answer_to(bot, "U_CARA", "cancel web/dev #1")
    assert "#1 has already finished (✓ succeeded)." in by_command
    assert "confirm.yes" not in by_command  # nothing to confirm

    # The channel message still shows Cancel (no watcher poll ran): the click re-reads Pulumi before acting.
    clicked = await bot.slack.click("U_CARA", parent, "deployment.cancel")
    assert clicked.error is None
    [answer] = await clicked.responses()
    assert "#1 has already finished (✓ succeeded)." in text_of(answer)
    assert answer["payload"]["response_type"] == "ephemeral"

    assert await requests_to(bot, "POST", "/cancel") == []
    [message] = await bot.slack.messages(CHANNEL)
    assert "cancelled" not in text_of(await bot.slack.thread(CHANNEL, message["ts"]))


async def test_confirming_a_cancel_after_the_deployment_finished_says_so(bot: Bot) -> None:
    await bot.slack.command("U_CARA", CHANNEL, "update web/dev")
    await channel_message(bot, "#1")
    question = await answer_to(bot, "U_CARA", "cancel web/dev #1")
    assert "can leave the stack" in question
    await bot.pulumi.run_until_idle()  # it finishes while the question waits
    confirm = await ephemeral_with(bot, "U_CARA", "confirm.yes")
    clicked = await bot.slack.click("U_CARA", confirm, "confirm.yes")
    answers = await clicked.responses(min=2)
    assert "has already finished (✓ succeeded)" in text_of(answers)
    assert await requests_to(bot, "POST", "/cancel") == []
    shown = await eventually(lambda: bot.slack.messages(CHANNEL), lambda ms: len(ms) == 1)
    assert "cancelled" not in text_of(shown)


async def test_a_deployment_that_finishes_while_its_cancel_is_on_the_way_is_said_plainly(bot: Bot) -> None:
    await bot.slack.command("U_CARA", CHANNEL, "update web/dev")
    parent = await channel_message(bot, "deployment.cancel")
    [deployment_id] = [
        button["value"]
        for block in parent["blocks"]
        for button in block.get("elements", [])
        if button.get("action_id") == "deployment.cancel"
    ]
    await bot.pulumi.clear_requests()
    # The bot reads the deployment (still running), then its cancel is held up in transit while it finishes.
    await bot.pulumi.add_fault(method="POST", path="/cancel$", delay=2)
    clicked = await bot.slack.click("U_CARA", parent, "deployment.cancel")
    await eventually(lambda: requests_to(bot, "GET", f"/deployments/{deployment_id}"), bool)  # the re-read
    await bot.pulumi.run_until_idle()
    [answer] = await clicked.responses(wait=10)
    assert "has already finished (or is gone), so there is nothing to cancel" in text_of(answer)
    assert "Usage" not in text_of(answer)  # a click is not a typed command: no usage line
    [cancel] = await requests_to(bot, "POST", "/cancel")
    assert cancel["status"] == 409
    [message] = await bot.slack.messages(CHANNEL)
    assert "cancelled" not in text_of(await bot.slack.thread(CHANNEL, message["ts"]))
