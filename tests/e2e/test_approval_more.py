"""More of the approval flow end to end: secrets while a request waits, what a preview shows and a preview without a
commit, a paused stack, a create Pulumi refuses (4xx), expiry through the watcher's own loop, and the audit trail.
Real Redis, the emulator and the fake Slack over HTTP; nothing of the bot is replaced."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web

from tests.e2e.conftest import CHANNEL, Bot, channel_message, eventually, running_bot, text_of
from tests.e2e.test_approval_recovery import request_id, sections
from tests.e2e.test_approvals import click, creates, current, gated, request_message  # noqa: F401  # gated: fixture
from tests.pulumi_sandbox import PulumiSandbox
from tests.slack_sandbox import SlackSandbox

PREVIEW_FIRST = "[defaults]\npreview_first = true\n"
REPO = "https://github.com/acme/web.git"


async def everything_stored(redis: aioredis.Redis) -> bytes:
    """Every key and value in the database, whatever the key's type, as one byte string to search."""
    chunks: list[bytes] = []
    async for key in redis.scan_iter(count=500):
        chunks.append(key)
        kind = (await redis.type(key)).decode()
        if kind == "string":
            chunks.append(await redis.get(key) or b"")
        elif kind == "hash":
            chunks += [name + b"=" + value for name, value in (await redis.hgetall(key)).items()]
        elif kind == "list":
            chunks += await redis.lrange(key, 0, -1)
        elif kind == "set":
            chunks += list(await redis.smembers(key))
        elif kind == "zset":
            chunks += await redis.zrange(key, 0, -1)
        elif kind == "stream":
            for _, fields in await redis.xrange(key):
                chunks += [name + b"=" + value for name, value in fields.items()]
        else:
            raise AssertionError(f"a {kind} at {key!r}: teach this helper to read it")
    return b"\n".join(chunks)


async def emulator_get(pulumi: PulumiSandbox, path: str) -> Any:
    """GET from the emulator's Pulumi API as the bot's token would."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{pulumi.url}/api/{path}", headers=pulumi.headers()) as answer,
    ):
        assert answer.status == 200, await answer.text()
        return await answer.json()


async def emulator_update(pulumi: PulumiSandbox, stack: str) -> None:
    """An update made outside Slack (the console, CI), run to the end: the stack then has resources."""
    url = f"{pulumi.url}/api/stacks/{stack}/deployments"
    body = {"operation": "update", "inheritSettings": True}
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=pulumi.headers()) as answer:
        assert answer.status == 202, await answer.text()
    await pulumi.run_until_idle()


def _drop_commit(value: Any) -> None:
    if isinstance(value, dict):
        git = ((value.get("configuration") or {}).get("source") or {}).get("git")
        if isinstance(git, dict):
            git.pop("commit", None)
        for item in value.values():
            _drop_commit(item)
    elif isinstance(value, list):
        for item in value:
            _drop_commit(item)


@asynccontextmanager
async def commitless(pulumi: PulumiSandbox) -> AsyncIterator[str]:
    """The URL of a Pulumi that reports deployments without the commit they ran (as it does for a source that is
    not a git commit): a real HTTP server in front of the emulator, dropping ``configuration.source.git.commit``
    from its answers. The emulator always resolves a commit, so this is the one way to see the bot without one."""
    async with aiohttp.ClientSession() as session:

        async def forward(request: web.Request) -> web.Response:
            headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
            body = await request.read()
            url = pulumi.url + request.rel_url.path_qs
            async with session.request(request.method, url, data=body or None, headers=headers) as answer:
                raw = await answer.read()
                if answer.content_type == "application/json" and raw:
                    found = json.loads(raw)
                    _drop_commit(found)
                    raw = json.dumps(found).encode()
                return web.Response(status=answer.status, body=raw, content_type=answer.content_type)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", forward)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            yield f"http://127.0.0.1:{runner.addresses[0][1]}"
        finally:
            await runner.cleanup()


async def state_of(bot: Bot, message: dict[str, Any]) -> str | None:
    request = await bot.deps.requests.get(request_id(message))
    return None if request is None else request.state


def policy_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return str(path)


async def answer_to(bot: Bot, user: str, command: str) -> str:
    """What ``/deploy command`` answered ``user`` (all of it, as text)."""
    result = await bot.slack.command(user, CHANNEL, command)
    return text_of(await result.responses())


# 1. Secrets ------------------------------------------------------------------------------------------------------


async def test_a_secret_waits_only_as_ciphertext_and_runs_as_a_secret(
    gated: Bot,  # noqa: F811
    redis: aioredis.Redis,
) -> None:
    plaintext = "s3cr3t-pl41n-v4lue"
    message = await request_message(gated, f"update web/dev --env REGION=eu --secret-env TOKEN={plaintext}")
    shown = sections(message)
    assert "`TOKEN`=🔒 hidden" in shown  # approvers see that there is a secret, not its value
    assert "`REGION`=`eu`" in shown
    assert plaintext not in text_of(await gated.slack.calls())
    waiting = await gated.deps.requests.get(request_id(message))
    assert waiting is not None
    sealed = waiting.request["operationContext"]["environmentVariables"]["TOKEN"]
    assert set(sealed) == {"ciphertext"}  # what waits is Pulumi's ciphertext for the stack
    stored = await everything_stored(redis)
    assert sealed["ciphertext"].encode() in stored
    assert plaintext.encode() not in stored
    await click(gated, "U_BEN", message, "approval.approve")
    parent = await channel_message(gated, "approved by <@U_BEN>")
    assert plaintext not in text_of(parent)
    [create] = await creates(gated)
    assert create["status"] == 202
    env = create["body"]["operationContext"]["environmentVariables"]
    assert env["TOKEN"] == {"ciphertext": sealed["ciphertext"]}  # the very ciphertext that waited, never plaintext
    assert env["REGION"] == "eu"
    running = await gated.deps.requests.get(request_id(message))
    assert running is not None
    assert running.state == "running"
    made = await emulator_get(gated.pulumi, f"stacks/acme/web/dev/deployments/{running.deployment_id}")
    variables = {v["name"]: v for v in made["configuration"]["environmentVariables"]}
    assert variables["TOKEN"]["secret"] is True
    assert "value" not in variables["TOKEN"]
    assert plaintext.encode() not in await everything_stored(redis)
    assert plaintext not in text_of(await gated.pulumi.requests())


# 2. preview_first ------------------------------------------------------------------------------------------------


@pytest.mark.policy(PREVIEW_FIRST)
async def test_the_approval_message_shows_what_the_preview_would_change(gated: Bot) -> None:  # noqa: F811
    await emulator_update(gated.pulumi, "acme/web/dev")  # resources exist …
    await gated.pulumi.push(REPO, "refs/heads/main")  # … and the code moved on since
    await gated.slack.command("U_CARA", CHANNEL, "update web/dev")
    await channel_message(gated, "Preview #2 is running")
    for _ in range(12):
        await gated.tick()
    opened = await channel_message(gated, "approval.approve")
    request = await gated.deps.requests.get(request_id(opened))
    assert request is not None
    assert request.preview is not None
    path = f"stacks/acme/web/dev/deployments/{request.preview.deployment_id}/updates"
    updates = await emulator_get(gated.pulumi, path)
    changes: dict[str, int] = {}
    for update in updates:
        for kind, count in (update["info"].get("resourceChanges") or {}).items():
            changes[kind] = changes.get(kind, 0) + count
    changed = {kind: n for kind, n in changes.items() if n and kind != "same"}
    assert changed, f"the emulator's preview changed nothing: {changes}"
    shown = sections(opened)
    for kind, n in changed.items():
        assert f"{n} to {kind}" in shown, (kind, shown)
    assert "The update will run exactly that commit." in shown


async def test_a_preview_that_reports_no_commit_is_not_offered_for_approval(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object, tmp_path: Path
) -> None:
    policy = policy_file(tmp_path, PREVIEW_FIRST)
    async with (
        commitless(pulumi_sandbox) as pulumi_url,
        running_bot("serve", slack_sandbox, pulumi_sandbox, redis_url, DEPLOYBOT_POLICY=policy,
                    PULUMI_BACKEND_URL=pulumi_url) as bot,
    ):  # fmt: skip
        await bot.slack.command("U_CARA", CHANNEL, "update web/dev")
        await channel_message(bot, "Preview #1 is running")
        for _ in range(12):
            await bot.tick()
        closed = await channel_message(bot, "could not be pinned")
        shown = sections(closed)
        assert "the preview reported no commit" in shown
        assert "✓ Preview #1" in shown  # the preview itself succeeded, and says so
        assert "exactly that commit" not in shown
        blocks = text_of(closed["blocks"])
        assert "approval.approve" not in blocks
        assert "approval.retry" not in blocks  # Retry would not pin it either
        assert [c["body"]["operation"] for c in await creates(bot)] == ["preview"]


@pytest.mark.policy(PREVIEW_FIRST)
async def test_a_request_withdrawn_while_its_preview_runs_stays_withdrawn(gated: Bot) -> None:  # noqa: F811
    await gated.slack.command("U_CARA", CHANNEL, "update web/dev")
    message = await channel_message(gated, "Preview #1 is running")
    await click(gated, "U_CARA", message, "approval.withdraw")
    await channel_message(gated, "Withdrawn by <@U_CARA>")
    for _ in range(12):
        await gated.tick()  # the preview runs to its end, and the watcher reports it
    await gated.watcher.poll_once()
    closed = await current(gated, message)
    assert "Withdrawn by <@U_CARA>" in sections(closed)
    assert "approval.approve" not in text_of(closed["blocks"])
    assert await state_of(gated, message) == "withdrawn"
    thread = await gated.slack.thread(CHANNEL, message["ts"])
    outcomes = [m for m in thread if "succeeded" in text_of(m.get("blocks") or m["text"])]
    assert len(outcomes) == 1, text_of(thread)  # the preview's outcome, told once
    assert [c["body"]["operation"] for c in await creates(gated)] == ["preview"]


# 3. A paused stack -----------------------------------------------------------------------------------------------


async def test_approved_while_the_stack_is_paused_it_waits_in_the_queue(gated: Bot) -> None:  # noqa: F811
    assert "paused deployments for" in text_of(await channel_message_after(gated, "U_ANA", "pause web/dev"))
    message = await request_message(gated)
    await click(gated, "U_BEN", message, "approval.approve")
    parent = await channel_message(gated, "approved by <@U_BEN>")
    assert parent["ts"] == message["ts"]
    [create] = await creates(gated)
    assert create["status"] == 202  # a paused stack is not a failure: the deployment exists, queued
    assert "Could not start" not in text_of(parent)
    await gated.tick()
    waiting = await channel_message(gated, "⏸ paused: it will start when deployments are resumed")
    assert waiting["ts"] == message["ts"]
    assert "deployment.cancel" in text_of(waiting["blocks"])
    request = await gated.deps.requests.get(request_id(message))
    assert request is not None
    assert request.state == "running"
    assert request.deployment_id is not None
    await channel_message_after(gated, "U_ANA", "resume web/dev")
    await gated.pulumi.run_until_idle()
    await gated.watcher.poll_once()
    done = await channel_message(gated, "*update* `acme/web/dev` #1 — ✓ succeeded")
    assert done["ts"] == message["ts"]
    assert len(await creates(gated)) == 1


async def channel_message_after(bot: Bot, user: str, command: str) -> dict[str, Any]:
    """Run ``command`` and return the channel message it announced (pause, resume, settings)."""
    before = {m["ts"] for m in await bot.slack.messages(CHANNEL)}
    await bot.slack.command(user, CHANNEL, command)

    async def new() -> list[dict[str, Any]]:
        return [m for m in await bot.slack.messages(CHANNEL) if m["ts"] not in before and "⏳" not in m["text"]]

    [announced] = await eventually(new, lambda found: len(found) == 1)
    return announced


# 4. A create Pulumi refuses --------------------------------------------------------------------------------------


async def test_a_create_pulumi_refuses_with_a_4xx_shows_why_and_retry_creates_once(gated: Bot) -> None:  # noqa: F811
    # The emulator's faults only answer 429/5xx; a real 400 comes from a stack with no source to deploy.
    await gated.pulumi.create_stacks("web/bare", with_settings=False)
    message = await request_message(gated, "update web/bare")
    await click(gated, "U_BEN", message, "approval.approve")
    failed = await channel_message(gated, "Could not start")
    assert failed["ts"] == message["ts"]
    assert "Pulumi refused: " in sections(failed)
    assert "no source" in sections(failed)
    assert "approval.retry" in text_of(failed["blocks"])
    assert [c["status"] for c in await creates(gated)] == [400]
    await click(gated, "U_CARA", failed, "approval.retry")  # nothing changed: refused again, Retry still offered
    await eventually(lambda: creates(gated), lambda made: len(made) == 2)
    await eventually(lambda: state_of(gated, message), lambda state: state == "failed")
    again = await current(gated, message)
    assert "approval.retry" in text_of(again["blocks"])
    assert "no source" in sections(again)
    fixed = await channel_message_after(gated, "U_ANA", f"settings set web/bare sourceContext.git.repoUrl={REPO}")
    assert "changed the deployment settings" in text_of(fixed)
    await click(gated, "U_CARA", again, "approval.retry")
    parent = await channel_message(gated, "deployment.cancel")
    assert parent["ts"] == message["ts"]
    assert "approved by <@U_BEN>" in text_of(parent)
    await asyncio.sleep(0.3)
    assert [c["status"] for c in await creates(gated)] == [400, 400, 202]  # one deployment, made once


# 5. Expiry through the watcher's loop ----------------------------------------------------------------------------


async def test_a_request_expires_through_the_watchers_own_loop(
    slack_sandbox: SlackSandbox, pulumi_sandbox: PulumiSandbox, redis_url: str, redis: object, tmp_path: Path
) -> None:
    policy = policy_file(tmp_path, '[defaults]\nexpires_after = "1m"\n')  # the shortest a policy allows
    async with running_bot(
        "serve", slack_sandbox, pulumi_sandbox, redis_url, watch_loop=True, DEPLOYBOT_POLICY=policy
    ) as bot:
        message = await request_message(bot)
        await asyncio.sleep(0.3)  # the loop runs rounds meanwhile; the request is not due yet
        assert "0 of 1" in text_of((await current(bot, message))["blocks"])
        # A minute is too long to wait in a test: the gate's clock (its injected dependency) moves past it instead,
        # and the watcher's regular rounds find the request due.
        bot.deps.gate.clock = lambda: datetime.now(UTC) + timedelta(seconds=61)
        closed = await channel_message(bot, "⌛ Expired")
        assert closed["ts"] == message["ts"]
        assert "approval." not in text_of(closed["blocks"])  # no buttons left
        told = text_of(await bot.slack.ephemerals("U_CARA", min=2))
        assert "Your request to run *update* `acme/web/dev`: ⌛ Expired" in told
        assert await creates(bot) == []
        request = await bot.deps.requests.get(request_id(message))
        assert request is not None
        assert request.state == "expired"
        [entry] = [e for e in await bot.deps.audit.recent(stack="acme/web/dev") if e.action == "expired"]
        assert (entry.user, entry.request_id) == ("U_CARA", request_id(message))


# 6. The audit trail ----------------------------------------------------------------------------------------------


async def test_the_audit_trail_records_every_kind_of_change(gated: Bot) -> None:  # noqa: F811
    withdrawn = await request_message(gated)
    await click(gated, "U_CARA", withdrawn, "approval.withdraw")
    await channel_message(gated, "Withdrawn by <@U_CARA>")
    approved = await request_message(gated)
    await click(gated, "U_BEN", approved, "approval.approve")
    parent = await channel_message(gated, "deployment.cancel")
    await click(gated, "U_CARA", parent, "deployment.cancel")  # the requester cancels their own
    await eventually(
        lambda: gated.pulumi.requests(), lambda seen: any(str(r["path"]).endswith("/cancel") for r in seen)
    )
    await channel_message_after(gated, "U_ANA", "pause web/dev")
    await channel_message_after(gated, "U_ANA", "resume web/dev")
    await channel_message_after(gated, "U_ANA", "settings set web/dev operationContext.environmentVariables.TIER=gold")
    await channel_message_after(gated, "U_ANA", "pause --org")
    entries = await eventually(
        lambda: gated.deps.audit.recent(stack="acme/web/dev", limit=50),
        lambda found: {"cancelled", "settings_changed"} <= {e.action for e in found},
    )
    did = {(e.action, e.user) for e in entries}
    assert did >= {
        ("requested", "U_CARA"),
        ("withdrawn", "U_CARA"),
        ("approved", "U_BEN"),
        ("deployment_created", "U_CARA"),
        ("cancelled", "U_CARA"),
        ("paused", "U_ANA"),
        ("resumed", "U_ANA"),
        ("settings_changed", "U_ANA"),
    }
    [created] = [e for e in entries if e.action == "deployment_created"]
    [cancelled] = [e for e in entries if e.action == "cancelled"]
    ran = await gated.deps.requests.get(request_id(approved))
    assert ran is not None
    assert ran.deployment_id is not None
    assert created.deployment_id == cancelled.deployment_id == ran.deployment_id
    assert created.version == cancelled.version == 1
    assert created.request_id == request_id(approved)
    [changed] = [e for e in entries if e.action == "settings_changed"]
    assert "TIER" in changed.detail
    assert "gold" not in changed.detail  # the paths that changed, never the values

    trail = await answer_to(gated, "U_BEN", "audit web/dev")
    for said in ("requested", "withdrew", "approved", "started", "cancelled", "paused", "resumed", "changed the"):
        assert said in trail, said
    assert "gold" not in trail
    limited = await answer_to(gated, "U_BEN", "audit web/dev --limit 2")
    assert "the latest 2," in limited
    assert limited.count("• ") == 2
    assert "paused" not in limited  # only the newest two: the settings change and the resume
    newest = await answer_to(gated, "U_BEN", "audit --limit 1")
    assert "the latest 1," in newest
    assert "`acme`" in newest  # the newest of all is the organization's pause
    org = await answer_to(gated, "U_BEN", "audit acme")
    assert "`acme`" in org  # the organization's own entries …
    assert "`acme/web/dev`" in org  # … and its stacks'
    other = await answer_to(gated, "U_BEN", "audit globex")
    assert "No audit entries" in other
