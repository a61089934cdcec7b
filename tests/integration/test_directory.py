"""bot.directory against the fake Slack over HTTP and a real Redis: ids, handles, the one-minute cache, a Redis that
is down or comes back, Slack's errors, and mrkdwn mentions."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.web.async_client import AsyncWebClient

from bot.directory import Directory
from bot.errors import SlackError, SlackRateLimited
from bot.store import keys
from tests.conftest import free_port
from tests.integration.redis_server import redis_server
from tests.slack_sandbox import SlackSandbox

SRE = frozenset({"U_ANA", "U_BEN"})  # the fake's seeded @sre (S_SRE)


class ManualClock:
    """The directory's clock, moved by the test: cache expiry is driven, not waited for."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def directory(slack_sandbox: SlackSandbox, redis: aioredis.Redis, clock: ManualClock) -> Directory:
    return Directory(slack_sandbox.web_client(), redis, clock=clock)


@pytest.fixture
async def no_redis() -> AsyncIterator[aioredis.Redis]:
    """A client for a port where nothing listens: every command fails at once."""
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    try:
        yield client
    finally:
        await client.aclose()


async def _calls(slack: SlackSandbox, method: str) -> int:
    return len(await slack.calls(method))


async def test_user_ids_pass_through_without_asking_slack(directory: Directory, slack_sandbox: SlackSandbox) -> None:
    assert await directory.members("U_CARA") == {"U_CARA"}
    assert await directory.members(" W0123ABC ") == {"W0123ABC"}
    assert await directory.is_in("U_CARA", ["U_DAN", "U_CARA"]) is True
    assert await directory.is_in("U_CARA", ["U_DAN"]) is False
    assert await directory.is_in("U_CARA", []) is False

    assert await slack_sandbox.calls() == []


async def test_handles_resolve_in_any_case_with_or_without_the_at(directory: Directory) -> None:
    for handle in ("@sre", "sre", "@SRE", " @Sre "):
        assert await directory.group_id(handle) == "S_SRE"
        assert await directory.members(handle) == SRE

    assert await directory.is_in("U_BEN", ["U_CARA", "@sre"]) is True
    assert await directory.is_in("U_CARA", ["@sre", "@nope"]) is False


async def test_an_unknown_handle_has_no_members(directory: Directory, slack_sandbox: SlackSandbox) -> None:
    assert await directory.group_id("@nope") is None
    assert await directory.members("@nope") == frozenset()
    assert await directory.is_in("U_ANA", ["@nope"]) is False
    assert await directory.group_id("@") is None
    assert await directory.members("") == frozenset()

    assert await _calls(slack_sandbox, "usergroups.users.list") == 0


async def test_a_disabled_group_has_no_members(directory: Directory, slack_sandbox: SlackSandbox) -> None:
    await slack_sandbox.set_usergroup(handle="sre", disabled=True)

    assert await directory.group_id("@sre") is None
    assert await directory.members("@sre") == frozenset()
    assert await directory.is_in("U_ANA", ["@sre"]) is False


async def test_a_group_disabled_after_its_handle_was_cached_has_no_members(
    directory: Directory, slack_sandbox: SlackSandbox
) -> None:
    assert await directory.group_id("@sre") == "S_SRE"  # the handle map is cached, the members are not
    await slack_sandbox.set_usergroup(id="S_SRE", disabled=True)

    assert await directory.members("@sre") == frozenset()  # Slack answers no_such_subteam
    assert await directory.is_in("U_ANA", ["@sre"]) is False


async def test_membership_is_cached_for_the_ttl_then_read_again(
    directory: Directory, slack_sandbox: SlackSandbox, redis: aioredis.Redis, clock: ManualClock
) -> None:
    assert await directory.members("@sre") == SRE
    await slack_sandbox.set_usergroup(id="S_SRE", members=["U_CARA"])

    clock.now += 59.9
    assert await directory.members("@sre") == SRE
    assert await directory.is_in("U_CARA", ["@sre"]) is False
    assert await _calls(slack_sandbox, "usergroups.users.list") == 1
    assert await _calls(slack_sandbox, "usergroups.list") == 1

    clock.now += 0.1
    assert await directory.is_in("U_CARA", ["@sre"]) is True
    assert await directory.members("@sre") == {"U_CARA"}
    assert await _calls(slack_sandbox, "usergroups.users.list") == 2
    assert await _calls(slack_sandbox, "usergroups.list") == 2
    for key in (keys.DIRECTORY_HANDLES, keys.directory_members("S_SRE")):
        assert 0 < await redis.pttl(key) <= 60_000


async def test_a_new_group_is_found_once_the_handle_map_expires(
    directory: Directory, slack_sandbox: SlackSandbox, clock: ManualClock
) -> None:
    assert await directory.group_id("@dba") is None
    await slack_sandbox.set_usergroup(id="S_DBA", handle="dba", members=["U_DAN"])
    assert await directory.group_id("@dba") is None  # an unknown handle is cached too: no call per click

    clock.now += 60
    assert await directory.members("@DBA") == {"U_DAN"}


async def test_redis_keeps_the_entries_no_longer_than_the_ttl(
    slack_sandbox: SlackSandbox, redis: aioredis.Redis
) -> None:
    directory = Directory(slack_sandbox.web_client(), redis, ttl_seconds=0.5)

    assert await directory.members("@sre") == SRE

    assert 0 < await redis.pttl(keys.directory_members("S_SRE")) <= 500
    assert 0 < await redis.pttl(keys.DIRECTORY_HANDLES) <= 500


@pytest.mark.parametrize("ttl", [0, -1, 60.5, 3600])
def test_a_ttl_over_a_minute_is_refused(slack_sandbox: SlackSandbox, redis: aioredis.Redis, ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl_seconds must be more than 0 and at most 60"):
        Directory(slack_sandbox.web_client(), redis, ttl_seconds=ttl)


async def test_replicas_share_the_cache(
    directory: Directory, slack_sandbox: SlackSandbox, redis: aioredis.Redis, clock: ManualClock
) -> None:
    other = Directory(slack_sandbox.web_client(), redis, clock=clock)

    assert await directory.members("@sre") == SRE
    assert await other.members("@sre") == SRE
    assert await other.is_in("U_BEN", ["@sre"]) is True

    assert await _calls(slack_sandbox, "usergroups.users.list") == 1


async def test_a_cache_entry_it_cannot_read_is_replaced(directory: Directory, redis: aioredis.Redis) -> None:
    await redis.set(keys.directory_members("S_SRE"), b'{"users": "not what we wrote"}')
    await redis.set(keys.DIRECTORY_HANDLES, b"\xff not json")

    assert await directory.members("@sre") == SRE
    raw = await redis.get(keys.directory_members("S_SRE"))
    assert raw is not None
    assert b"U_ANA" in raw


async def test_with_redis_down_every_answer_comes_from_slack_and_is_logged_once(
    slack_sandbox: SlackSandbox, no_redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    directory = Directory(slack_sandbox.web_client(), no_redis)

    with caplog.at_level(logging.INFO, logger="bot.directory"):
        assert await directory.members("@sre") == SRE
        assert await directory.is_in("U_BEN", ["@sre"]) is True
        assert await directory.display(["@sre"]) == "<!subteam^S_SRE>"

    assert await _calls(slack_sandbox, "usergroups.users.list") == 2
    assert await _calls(slack_sandbox, "usergroups.list") == 3
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "asking Slack directly" in caplog.records[0].getMessage()


async def test_a_redis_that_comes_back_is_used_again(
    slack_sandbox: SlackSandbox, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with redis_server(free_port()) as server:
        client = aioredis.Redis.from_url(server.url, socket_connect_timeout=1, socket_timeout=1)
        try:
            directory = Directory(slack_sandbox.web_client(), client, clock=clock)
            with caplog.at_level(logging.INFO, logger="bot.directory"):
                await server.stop()
                assert await directory.members("@sre") == SRE
                await server.start()
                assert await directory.members("@sre") == SRE  # read failed-over state, asked Slack, cached it
                assert await directory.members("@sre") == SRE  # from the cache
        finally:
            await client.aclose()

    assert await _calls(slack_sandbox, "usergroups.users.list") == 2
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "directory cache (Redis) unavailable; asking Slack directly until it answers"),
        ("INFO", "directory cache (Redis) answers again"),
    ]


async def test_slack_refusing_the_token_is_a_slack_error(slack_sandbox: SlackSandbox, redis: aioredis.Redis) -> None:
    directory = Directory(AsyncWebClient(token="xoxb-wrong", base_url=slack_sandbox.api_url), redis)

    with pytest.raises(SlackError) as raised:
        await directory.members("@sre")
    assert (raised.value.error, raised.value.method) == ("invalid_auth", "usergroups.list")
    assert await redis.exists(keys.DIRECTORY_HANDLES) == 0  # a failure is not cached
    assert await directory.members("U_ANA") == {"U_ANA"}  # ids still need no Slack


async def test_slack_rate_limiting_is_reported_with_its_retry_after(
    directory: Directory, slack_sandbox: SlackSandbox
) -> None:
    client = slack_sandbox.web_client()
    for _ in range(5):  # the fake's Tier 2 burst
        await client.usergroups_users_list(usergroup="S_SRE")

    with pytest.raises(SlackRateLimited) as raised:
        await directory.members("@sre")
    assert (raised.value.method, raised.value.retry_after) == ("usergroups.users.list", 3.0)


async def test_an_unreachable_slack_is_a_slack_error(redis: aioredis.Redis) -> None:
    directory = Directory(AsyncWebClient(token="xoxb-x", base_url=f"http://127.0.0.1:{free_port()}/api/"), redis)

    with pytest.raises(SlackError) as raised:
        await directory.is_in("U_ANA", ["@sre"])
    assert raised.value.method == "usergroups.list"
    assert not isinstance(raised.value, SlackRateLimited)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (200, {"ok": True, "usergroups": [{"handle": "sre"}]}, "invalid_response"),
        (200, {"ok": True}, "invalid_response"),
        (502, "<html>Bad Gateway</html>", "http_502"),
        (500, {"ok": False, "error": "fatal_error"}, "fatal_error"),
    ],
)
async def test_an_answer_slack_would_not_give_is_a_slack_error(
    redis: aioredis.Redis, status: int, body: object, error: str
) -> None:
    """A server that answers without the documented fields (a proxy, a Slack change) does not mean "no members"."""

    async def odd(_: web.Request) -> web.Response:
        if isinstance(body, str):
            return web.Response(status=status, text=body, content_type="text/html")
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_route("*", "/api/usergroups.list", odd)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}/api/"
        directory = Directory(AsyncWebClient(token="xoxb-x", base_url=base), redis)
        with pytest.raises(SlackError) as raised:
            await directory.group_id("@sre")
    finally:
        await runner.cleanup()
    assert (raised.value.error, raised.value.method) == (error, "usergroups.list")


async def test_display_mentions_ids_and_groups_and_escapes_the_unknown(
    directory: Directory, slack_sandbox: SlackSandbox
) -> None:
    shown = await directory.display(["U_ANA", "@sre", "@SRE", "U_ANA", "@nope<!channel>&", "dba"])

    assert shown == "<@U_ANA>, <!subteam^S_SRE>, @nope&lt;!channel&gt;&amp;, @dba"
    assert await directory.display([]) == ""


async def test_display_of_ids_alone_asks_slack_nothing(directory: Directory, slack_sandbox: SlackSandbox) -> None:
    assert await directory.display(["U_ANA", " U_BEN "]) == "<@U_ANA>, <@U_BEN>"
    assert await slack_sandbox.calls() == []


# -- properties: the cache is warmed once, then every example reads it (a fixed clock keeps it fresh) ------------

# Examples share the function-scoped sandbox and Redis on purpose: the cache they read is the thing under test.
_SHARED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_USERS = ["U_ANA", "U_BEN", "U_CARA", "U_DAN"]
_SRE_SPELLINGS = st.builds(
    lambda at, letters, pad: pad + at + "".join(letters) + pad,
    st.sampled_from(["", "@"]),
    st.tuples(*(st.sampled_from([c, c.upper()]) for c in "sre")),
    st.sampled_from(["", " ", "  "]),
)
_PRINCIPALS = st.lists(st.one_of(st.sampled_from([*_USERS, "@nope", "@dba"]), _SRE_SPELLINGS), max_size=6)


@_SHARED
@given(user=st.sampled_from(_USERS), principals=_PRINCIPALS)
async def test_is_in_matches_ids_and_sre_members_in_any_spelling(
    directory: Directory, user: str, principals: list[str]
) -> None:
    names_sre = any(p.strip().removeprefix("@").lower() == "sre" for p in principals)
    expected = user in principals or (names_sre and user in SRE)

    assert await directory.is_in(user, principals) is expected


@_SHARED
@given(principals=st.lists(st.text(max_size=12), max_size=5))
async def test_display_never_lets_text_become_markup(directory: Directory, principals: list[str]) -> None:
    shown = await directory.display(principals)

    bare = re.sub(r"<@[UW][A-Z0-9_]+>|<!subteam\^S_SRE>", "", shown)
    assert "<" not in bare
    assert ">" not in bare
    assert bare.count("&") == bare.count("&amp;") + bare.count("&lt;") + bare.count("&gt;")
