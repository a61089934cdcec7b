"""The audit trail against a real Redis: append and read back, filters, limits, the size bound, export since a time,
no credential reaching Redis, and rendering within Block Kit's limits (the CLI: test_audit_cli.py)."""

from __future__ import annotations

import asyncio
import logging
import string
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, get_args

import pytest
import redis.asyncio as aioredis
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.audit import DETAIL_MAX, RECENT_MAX, Action, AuditEntry, AuditLog
from bot.errors import StoreUnavailable
from bot.render.audit import audit_message
from bot.sandbox.slack.blockkit import validate_blocks
from bot.store import keys
from tests.conftest import free_port

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ACTIONS: tuple[Action, ...] = get_args(Action)


def entry(action: Action = "approved", stack: str | None = "acme/web/prod", **fields: Any) -> AuditEntry:
    return AuditEntry(action=action, user=fields.pop("user", "U_ANA"), stack=stack, **fields)


def recorded_at(stream_id: str) -> datetime:
    """When Redis recorded an entry: a stream id starts with epoch milliseconds."""
    return EPOCH + timedelta(milliseconds=int(stream_id.split("-")[0]))


async def after(redis: aioredis.Redis, stream_id: str) -> None:
    """Return once Redis' clock has passed the millisecond of ``stream_id`` (a step driven on Redis' own clock)."""
    while True:
        seconds, micros = await redis.time()
        if seconds * 1000 + micros // 1000 > int(stream_id.split("-")[0]):
            return


def same(a: AuditEntry, b: AuditEntry) -> bool:
    return a.model_dump(exclude={"id"}) == b.model_dump(exclude={"id"})


async def test_entries_read_back_newest_first_with_every_field(redis: aioredis.Redis) -> None:
    log = AuditLog(redis)
    assert await log.recent() == []
    assert [e async for e in log.export(None)] == []
    written = [
        entry("requested", user_name="Ana Lima", request_id="r-1", detail="update with --message hi"),
        entry("approved", user="U_BEN", user_name="Ben", request_id="r-1"),
        entry("deployment_created", deployment_id="6a4e2b1c-0000-4000-8000-000000000001", version=7, request_id="r-1"),
        entry("paused", stack="acme", detail="org-wide"),
        entry("subscribed", stack=None, detail="acme/*/prod: failed,succeeded"),
    ]
    ids = [await log.append(e) for e in written]
    found = await log.recent()
    assert [e.id for e in found] == ids[::-1]
    assert all(same(a, b) for a, b in zip(found, written[::-1], strict=True))
    assert found[0].at.tzinfo == UTC


async def test_recent_stops_at_the_limit(redis: aioredis.Redis) -> None:
    log = AuditLog(redis)
    ids = [await log.append(entry(version=n)) for n in range(30)]
    found = await log.recent(limit=7)
    assert [e.id for e in found] == ids[::-1][:7]
    assert [e.version for e in found] == list(range(29, 22, -1))


async def test_recent_filters_by_stack_or_organization_across_pages(redis: aioredis.Redis) -> None:
    log = AuditLog(redis)
    prod = [await log.append(entry(stack="acme/web/prod", version=n)) for n in range(3)]
    org = await log.append(entry("paused", stack="acme"))
    dev = await log.append(entry(stack="acme/web/dev"))
    # More newer entries than a page (500) holds, so the filter must read further back; every 100th is about
    # acme/web/audit, which puts one at the last place of each page.
    pipe = redis.pipeline(transaction=False)
    for n in range(1200):
        stack = "acme/web/audit" if n % 100 == 0 else "other/app/prod"
        pipe.xadd(keys.AUDIT, {"action": "approved", "user": "U_X", "stack": stack, "version": str(n)})
    await pipe.execute()
    assert [e.id for e in await log.recent(stack="acme/web/prod")] == prod[::-1]
    assert [e.id for e in await log.recent(stack="acme/web/prod", limit=2)] == prod[:0:-1]
    assert [e.version for e in await log.recent(stack="acme/web/audit")] == list(range(1100, -1, -100))
    assert [e.id for e in await log.recent(stack="acme", limit=RECENT_MAX)][12:] == [dev, org, *prod[::-1]]
    assert [e.id for e in await log.recent(stack=" acme/web/dev ")] == [dev]
    assert await log.recent(stack="acme/web/test") == []
    assert await log.recent(stack="acm") == []  # an organization matches whole names, not prefixes
    others = await log.recent(stack="other", limit=RECENT_MAX)
    assert len(others) == RECENT_MAX
    assert others[0].at == recorded_at(others[0].id or "")  # written without `at`: when Redis recorded it


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"limit": 0}, "between 1 and 100"),
        ({"limit": RECENT_MAX + 1}, "between 1 and 100"),
        ({"stack": "acme/web"}, "org/project/stack"),
        ({"stack": "acme/web/prod/x"}, "not a stack"),
        ({"stack": "ac me"}, "invalid organization"),
    ],
)
async def test_bad_filters_say_what_is_wrong(redis: aioredis.Redis, arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        await AuditLog(redis).recent(**arguments)


async def test_the_stream_stays_bounded(redis: aioredis.Redis) -> None:
    log = AuditLog(redis, max_entries=50)
    ids = [await log.append(entry(version=n)) for n in range(600)]
    node = int((await redis.config_get("stream-node-max-entries"))["stream-node-max-entries"])
    # MAXLEN ~ trims whole nodes: at most one node's worth over the bound, never under it.
    assert 50 <= await redis.xlen(keys.AUDIT) <= 50 + node
    exported = [e.id async for e in log.export(None)]
    assert exported == ids[-len(exported) :]
    assert ids[0] not in exported
    assert [e.id for e in await log.recent(limit=50)] == ids[::-1][:50]


async def test_export_since_a_time_oldest_first_across_pages(redis: aioredis.Redis) -> None:
    log = AuditLog(redis)
    early = [await log.append(entry(version=n)) for n in range(520)]  # more than one page
    await after(redis, early[-1])
    late = [await log.append(entry("cancelled", version=n)) for n in range(3)]
    since = recorded_at(late[0])
    assert [e.id async for e in log.export(None)] == early + late
    assert [e.id async for e in log.export(since)] == late
    assert [e.id async for e in log.export(since.replace(tzinfo=None))] == late  # naive means UTC
    assert [e.id async for e in log.export(since.astimezone(timezone(timedelta(hours=5, minutes=30))))] == late
    last_early_ms = [i for i in early if i.split("-")[0] == early[-1].split("-")[0]]
    assert [e.id async for e in log.export(recorded_at(early[-1]))] == last_early_ms + late  # a whole millisecond
    assert [e.id async for e in log.export(datetime(1900, 1, 1, tzinfo=UTC))] == early + late
    assert [e.id async for e in log.export(recorded_at(late[-1]) + timedelta(milliseconds=1))] == []


async def test_an_unreadable_entry_is_skipped_with_a_warning(
    redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    log = AuditLog(redis)
    first = await log.append(entry())
    bad = (await redis.xadd(keys.AUDIT, {"action": "exploded", "user": "U_ANA"})).decode()
    last = await log.append(entry("denied"))
    with caplog.at_level(logging.WARNING, logger="bot.audit"):
        assert [e.id for e in await log.recent()] == [last, first]
        assert [e.id async for e in log.export(None)] == [first, last]
    assert [r.__dict__["id"] for r in caplog.records] == [bad, bad]  # set through extra=


async def test_redis_down_is_store_unavailable() -> None:
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    log = AuditLog(client)
    try:
        with pytest.raises(StoreUnavailable, match="unavailable"):
            await log.append(entry())
        with pytest.raises(StoreUnavailable):
            await log.recent(stack="acme")
        with pytest.raises(StoreUnavailable):
            _ = [e async for e in log.export(None)]
    finally:
        await client.aclose()


secrets = st.from_regex(r"[A-Za-z0-9_+/-]{16,60}", fullmatch=True)
prose = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400)


@given(before=prose, secret=secrets, after_text=prose, key=st.sampled_from(["TOKEN", "token", "PULUMI_ACCESS_TOKEN"]))
@settings(max_examples=150, deadline=None)
def test_a_planted_token_never_reaches_redis(
    redis_url: str, before: str, secret: str, after_text: str, key: str
) -> None:
    windows = {secret[i : i + 8] for i in range(len(secret) - 7)}
    assume(not any(w in before or w in after_text for w in windows))

    async def stored() -> bytes:
        client = aioredis.Redis.from_url(redis_url)
        try:
            stream_id = await AuditLog(client).append(entry("denied", detail=f"{before} {key}={secret} {after_text}"))
            [(_, fields)] = await client.xrange(keys.AUDIT, min=stream_id, max=stream_id)
            return bytes(fields[b"detail"])
        finally:
            await client.aclose()

    detail = asyncio.run(stored())
    assert not any(w.encode() in detail for w in windows)
    assert len(detail.decode()) <= DETAIL_MAX


@pytest.mark.parametrize(
    "detail",
    [
        "pul-\x00" + "0123456789abcdef" * 3,  # a control character inside a token is dropped before redaction
        "x" * (DETAIL_MAX - 20) + " password=" + "s3cr3t-v4lue-" * 5,  # a secret across the length cut
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nbase64body\n-----END RSA PRIVATE KEY-----",
        "xoxb-123456789012-abcdefghijklmnop",
    ],
)
async def test_credential_shapes_in_a_detail_are_redacted(redis: aioredis.Redis, detail: str) -> None:
    await AuditLog(redis).append(entry("denied", detail=detail))
    [(_, fields)] = await redis.xrange(keys.AUDIT)
    stored = fields[b"detail"].decode()
    assert "[redacted]" in stored
    for secret in ("0123456789abcdef", "s3cr3t", "MIIEowIBAAKCAQEA7", "base64body", "abcdefghijklmnop"):
        assert secret not in stored
    assert "\n" not in stored
    assert len(stored) <= DETAIL_MAX


# Rendering


def accepted(blocks: Sequence[dict[str, Any]], text: str) -> None:
    problems = validate_blocks(list(blocks), "message")
    assert problems == [], problems
    assert len(text) <= 4000


names = st.text(string.ascii_letters + string.digits + "_.-", min_size=1, max_size=100).filter(lambda n: n.strip("."))
entries = st.builds(
    AuditEntry,
    at=st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
    action=st.sampled_from(ACTIONS),
    user=st.text(string.ascii_letters + string.digits + "_", min_size=1, max_size=64),
    user_name=st.none() | st.text(max_size=200),
    stack=st.none() | names | st.builds("{}/{}/{}".format, names, names, names),
    version=st.none() | st.integers(0, 10**9),
    detail=st.text(max_size=600) | st.just("<&>" * 200),
)


@given(found=st.lists(entries, max_size=RECENT_MAX), stack=st.none() | st.text(max_size=300))
@settings(max_examples=60, deadline=None)
def test_rendering_stays_within_block_kit_limits(found: list[AuditEntry], stack: str | None) -> None:
    payload = audit_message(found, stack).payload()
    accepted(payload["blocks"], payload["text"])
    lines = [line for block in payload["blocks"][1:] if block["type"] == "section"
             for line in block["text"]["text"].split("\n")]  # fmt: skip
    listed = sum(line.startswith("• ") for line in lines)
    cut = bool(payload["blocks"]) and payload["blocks"][-1]["type"] == "context"
    assert listed == len(found) or (cut and 0 < listed < len(found))


def test_the_longest_entries_are_cut_to_the_block_limit_with_a_note() -> None:
    longest = entry(
        "settings_cleared", user="U" * 64, stack="/".join(["a" * 100] * 3), version=10**9, detail="&" * 1000
    )
    payload = audit_message([longest] * RECENT_MAX, stack="b" * 300).payload()
    accepted(payload["blocks"], payload["text"])
    assert payload["blocks"][-1]["elements"][0]["text"].endswith("more not shown")


def test_rendering_lists_newest_first_with_mentions_dates_and_escaped_text() -> None:
    noon = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    older = entry("approved", user="U_BEN", at=noon, version=3)
    newer = entry("denied", at=noon + timedelta(minutes=5), detail="<!channel> not during a freeze & not today")
    expired = entry("expired", at=noon - timedelta(hours=1), request_id="r-9")
    message = audit_message([older, expired, newer], stack="acme/web/prod")
    text = "\n".join(block["text"]["text"] for block in message.payload()["blocks"])
    lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert len(lines) == 3
    assert lines[0].startswith(
        f"• <!date^{int(newer.at.timestamp())}^{{date_short_pretty}} {{time}}|2024-05-01T12:05:00Z>"
    )
    assert "<@U_ANA> ✗ denied `acme/web/prod`" in lines[0]
    assert "&lt;!channel&gt; not during a freeze &amp; not today" in lines[0]
    assert "<!channel>" not in text
    assert "<@U_BEN> ✅ approved `acme/web/prod` #3" in lines[1]
    assert "request expired" in lines[2]
    assert "(<@U_ANA>)" in lines[2]
    assert "`acme/web/prod`" in text.splitlines()[0]
    accepted(message.payload()["blocks"], message.payload()["text"])


def test_every_action_renders() -> None:
    message = audit_message([entry(action) for action in ACTIONS])
    assert message.payload()["text"].endswith(f"{len(ACTIONS)} entries")
    assert audit_message([], "acme").payload()["text"] == "No audit entries for `acme` yet."
