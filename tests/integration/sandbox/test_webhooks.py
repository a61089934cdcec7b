"""Pulumi's deployment webhooks from the emulator, received by a real HTTP endpoint: which event fires at which
transition, the payload, headers and signature, filters and stack hooks, the control API and reset."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.sandbox.pulumi.webhooks.hook import WebhookConfig
from tests.integration.sandbox.conftest import Api
from tests.integration.sandbox.webhook_receiver import Receiver, start_receiver
from tests.pulumi_sandbox import PulumiSandbox, start_pulumi_sandbox

ALL = ["deployment_queued", "deployment_started", "deployment_succeeded", "deployment_failed"]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with start_receiver() as started:
        yield started


def _events(deliveries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(item["event"], item["payload"]["status"]) for item in deliveries]


async def test_each_event_fires_at_its_transition(pulumi_sandbox: PulumiSandbox, api: Api, receiver: Receiver) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    hook = await pulumi_sandbox.add_webhook(f"{receiver.url}/hooks/pulumi", secret="s3cret")
    assert hook == {
        "id": hook["id"],
        "url": f"{receiver.url}/hooks/pulumi",
        "hasSecret": True,
        "filters": ALL,
        "org": "acme",
        "stack": None,
    }
    created = await api.create()
    queued = await pulumi_sandbox.webhook_deliveries(min=1, idle=True)
    assert _events(queued) == [("deployment_queued", "not-started")]

    await pulumi_sandbox.advance()  # admitted: "accepted" has no webhook
    assert len(await pulumi_sandbox.webhook_deliveries(idle=True)) == 1
    await pulumi_sandbox.advance()  # the job starts
    started = await pulumi_sandbox.webhook_deliveries(min=2, idle=True)
    assert _events(started)[1] == ("deployment_started", "running")

    await pulumi_sandbox.run_until_idle()
    deliveries = await pulumi_sandbox.webhook_deliveries(min=3, idle=True)
    assert _events(deliveries)[2] == ("deployment_succeeded", "succeeded")
    assert len(deliveries) == 3
    assert (await api.deployment(created["id"]))["status"] == "succeeded"

    assert [item.path for item in receiver.received] == ["/hooks/pulumi"] * 3
    for sent, got in zip(deliveries, receiver.received, strict=True):
        assert sent["ok"] is True
        assert sent["status"] == 200
        assert sent["hookId"] == hook["id"]
        assert sent["error"] is None
        assert got.json == sent["payload"]
        assert got.headers["Content-Type"] == "application/json"
        assert got.headers["User-Agent"] == "pulumi-webhooks/1.0"
        assert got.headers["Pulumi-Webhook-Kind"] == "deployment"
        assert got.headers["Pulumi-Webhook-ID"] == sent["id"]
        expected = hmac.new(b"s3cret", got.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(got.headers["Pulumi-Webhook-Signature"], expected)
        assert sent["headers"]["Pulumi-Webhook-Signature"] == expected  # the signature is logged, the secret not
    assert len({got.headers["Pulumi-Webhook-ID"] for got in receiver.received}) == 3
    uuid.UUID(receiver.received[0].headers["Pulumi-Webhook-ID"])
    assert receiver.received[0].json == {
        "user": {
            "name": "Sandbox Admin",
            "githubLogin": "admin",
            "avatarUrl": "https://api.pulumi.com/static/avatars/admin.png",
        },
        "organization": {
            "name": "acme",
            "githubLogin": "acme",
            "avatarUrl": "https://api.pulumi.com/static/avatars/acme.png",
        },
        "projectName": "web",
        "stackName": "dev",
        "deploymentUrl": "https://app.pulumi.com/acme/web/dev/deployments/1",
        "version": 1,
        "operation": "update",
        "status": "not-started",
    }
    assert created["consoleUrl"] == receiver.received[0].json["deploymentUrl"]


async def test_failed_cancelled_and_skipped(pulumi_sandbox: PulumiSandbox, api: Api, receiver: Receiver) -> None:
    await pulumi_sandbox.create_stacks("web/dev", "web/prod")
    await api.post(f"{api.st()}/settings", {"operationContext": {"options": {"skipIntermediateDeployments": True}}})
    fail = {"operation": "preview", "operationContext": {"environmentVariables": {"SANDBOX_FAIL_STEP": "Get source"}}}
    await api.create("web/prod", body=fail)
    first = await api.create()
    await pulumi_sandbox.advance()
    skipped, newest = await api.create(), await api.create()
    cancelled = await api.create("web/prod")
    await pulumi_sandbox.add_webhook(receiver.url)  # from here on
    assert (await api.post(f"{api.st('web/prod')}/{cancelled['id']}/cancel")).status == 200
    await pulumi_sandbox.run_until_idle()
    deliveries = await pulumi_sandbox.webhook_deliveries(min=6, idle=True)

    by_version: dict[tuple[str, int], list[tuple[str, str]]] = {}
    for item in sorted(deliveries, key=lambda item: ALL.index(item["event"])):  # ordering is not guaranteed
        payload = item["payload"]
        by_version.setdefault((payload["stackName"], payload["version"]), []).append((item["event"], payload["status"]))
    assert by_version == {
        # Cancelled while queued: failed, never started.
        ("prod", 2): [("deployment_failed", "failed")],
        ("prod", 1): [("deployment_started", "running"), ("deployment_failed", "failed")],
        ("dev", 1): [("deployment_started", "running"), ("deployment_succeeded", "succeeded")],
        # The skipped one (dev 2) sends nothing.
        ("dev", 3): [("deployment_started", "running"), ("deployment_succeeded", "succeeded")],
    }
    assert [first["version"], skipped["version"], newest["version"]] == [1, 2, 3]
    assert (await api.deployment(skipped["id"]))["status"] == "skipped"
    failed = next(
        item for item in deliveries if item["payload"]["stackName"] == "prod" and item["payload"]["version"] == 1
    )
    assert failed["payload"]["operation"] == "preview"
    assert "Pulumi-Webhook-Signature" not in failed["headers"]
    assert all("Pulumi-Webhook-Signature" not in got.headers for got in receiver.received)
    assert len(receiver.received) == 7


async def test_filters_and_stack_hooks_limit_what_is_sent(
    pulumi_sandbox: PulumiSandbox, api: Api, receiver: Receiver
) -> None:
    await pulumi_sandbox.create_stacks("web/dev", "web/prod", "other/web/dev")
    ends = await pulumi_sandbox.add_webhook(
        f"{receiver.url}/ends", filters=["deployment_succeeded", "deployment_failed"]
    )
    dev = await pulumi_sandbox.add_webhook(f"{receiver.url}/dev", stack="web/dev")
    other = await pulumi_sandbox.add_webhook(f"{receiver.url}/other", stack="other/web/dev", filters=ALL[:1])
    assert (other["org"], other["stack"], other["filters"]) == ("other", "web/dev", ["deployment_queued"])
    assert [hook["id"] for hook in await pulumi_sandbox.webhooks()] == [ends["id"], dev["id"], other["id"]]
    for stack in ("web/dev", "web/prod"):
        await api.create(stack)
    await pulumi_sandbox.run_until_idle()
    deliveries = await pulumi_sandbox.webhook_deliveries(min=5, idle=True)

    assert sorted(got.json["stackName"] for got in receiver.at("/ends")) == ["dev", "prod"]
    assert {got.json["status"] for got in receiver.at("/ends")} == {"succeeded"}
    assert sorted(got.json["status"] for got in receiver.at("/dev")) == ["not-started", "running", "succeeded"]
    assert {got.json["stackName"] for got in receiver.at("/dev")} == {"dev"}
    assert receiver.at("/other") == []
    assert len(deliveries) == len(receiver.received) == 5

    await pulumi_sandbox.clear_webhooks()
    assert await pulumi_sandbox.webhooks() == []
    await api.create("web/dev")
    await pulumi_sandbox.run_until_idle()
    assert len(await pulumi_sandbox.webhook_deliveries(idle=True)) == 5


async def test_reset_keeps_only_the_configured_hooks(receiver: Receiver) -> None:
    configured = WebhookConfig(f"{receiver.url}/configured", secret="k", filters=("deployment_queued",), org="acme")
    async with (
        start_pulumi_sandbox(webhooks=(configured,), stacks=("acme/web/dev",)) as sandbox,
        aiohttp.ClientSession() as session,
    ):
        api = Api(sandbox, session)
        added = await sandbox.add_webhook(f"{receiver.url}/added")
        assert [hook["url"] for hook in await sandbox.webhooks()] == [configured.url, added["url"]]
        await sandbox.webhook_faults(drop=5)
        await api.create()
        assert len(await sandbox.webhook_deliveries(min=2, idle=True)) == 2
        await sandbox.reset()
        assert [hook["url"] for hook in await sandbox.webhooks()] == [configured.url]
        assert await sandbox.webhook_deliveries() == []
        assert (await sandbox.webhook_faults())["drop"] == 0
        await api.create()
        [delivery] = await sandbox.webhook_deliveries(min=1, idle=True)
        assert delivery["url"] == configured.url
        assert delivery["ok"] is True
        assert (
            receiver.at("/configured")[0].headers["Pulumi-Webhook-Signature"]
            == hmac.new(b"k", receiver.at("/configured")[0].body, hashlib.sha256).hexdigest()
        )
        assert receiver.at("/added") == []


async def _raw(sandbox: PulumiSandbox, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{sandbox.url}/_sandbox/{path}", json=body) as resp,
    ):
        return resp.status, await resp.json()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"url": "ftp://example.com/x"}, "url must be an absolute http:// or https:// URL"),
        ({"url": "/relative"}, "url must be an absolute http:// or https:// URL"),
        ({"url": "http://h/", "filters": ["deployment_done"]}, "filters must be a non-empty list drawn from"),
        ({"url": "http://h/", "filters": []}, "filters must be a non-empty list"),
        ({"url": "http://h/", "stack": "web/dev"}, "a stack hook needs its org"),
        ({"url": "http://h/", "org": "acme", "stack": "acme/web/dev"}, "stack must look like 'project/stack'"),
        ({"url": "http://h/", "secret": ""}, "secret must not be empty"),
        ({"url": "http://h/", "headers": {}}, "unknown field 'headers'"),
        ({"secret": "x"}, "url: Field required"),
        ({"url": 5}, "url: Input should be a valid string"),
    ],
)
async def test_a_bad_webhook_is_a_clear_400(pulumi_sandbox: PulumiSandbox, body: Any, message: str) -> None:
    status, answer = await _raw(pulumi_sandbox, "POST", "webhooks", body)
    assert status == 400
    assert message in answer["message"]
    assert await pulumi_sandbox.webhooks() == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("wait=soon", "wait must be a number of seconds"),
        ("wait=nan", "wait must be between 0 and 30"),
        ("wait=31", "wait must be between 0 and 30"),
        ("min=-1", "min must be between 0 and 1000000"),
        ("idle=maybe", "idle must be true or false"),
    ],
)
async def test_a_bad_deliveries_query_is_a_clear_400(pulumi_sandbox: PulumiSandbox, query: str, message: str) -> None:
    status, answer = await _raw(pulumi_sandbox, "GET", f"webhooks/deliveries?{query}")
    assert (status, message in answer["message"]) == (400, True), answer


async def test_a_short_wait_answers_with_what_there_is(pulumi_sandbox: PulumiSandbox) -> None:
    status, answer = await _raw(pulumi_sandbox, "GET", "webhooks/deliveries?min=3&wait=0.05")
    assert (status, answer) == (200, {"deliveries": [], "pending": 0})
    with pytest.raises(TimeoutError, match="for 1 webhook deliveries: 0 arrived, 0 pending"):
        await pulumi_sandbox.webhook_deliveries(min=1, wait=0.05)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
# Mostly well-formed bodies with odd values mixed in, so many get past the first check.
ODD: st.SearchStrategy[Any] = st.sampled_from([None, "", 0, 1.5, True, [], {}, "²", "a b", "x", "a/b/c"])
URLS = st.sampled_from(["http://127.0.0.1:9/x", "https://h.example/p?q=1", "http://[::1]:9/"])
HOOKS = st.fixed_dictionaries(
    {"url": st.one_of(URLS, URLS, ODD)},
    optional={
        "secret": st.one_of(st.text(min_size=1, max_size=5), st.none(), ODD),
        "filters": st.one_of(st.lists(st.sampled_from(ALL), min_size=1, max_size=3), st.none(), ODD),
        "org": st.one_of(st.just("acme"), st.just("acme"), ODD),
        "stack": st.one_of(st.just("web/dev"), st.none(), ODD),
    },
)
COUNTS = st.none() | st.integers(min_value=-2, max_value=5) | JSON
FAULTS = st.fixed_dictionaries(
    {},
    optional={
        "drop": COUNTS,
        "duplicate": COUNTS,
        "delay": st.floats(min_value=-1, max_value=40) | COUNTS,
        "count": COUNTS,
        "reorder": COUNTS,
    },
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    target=st.sampled_from(["webhooks", "webhooks/faults"]).flatmap(
        lambda path: st.tuples(st.just(path), (HOOKS if path == "webhooks" else FAULTS) | JSON)
    )
)
async def test_any_body_is_accepted_or_refused_never_a_500(
    pulumi_sandbox: PulumiSandbox, target: tuple[str, Any]
) -> None:
    path, body = target
    status, answer = await _raw(pulumi_sandbox, "POST", path, body)
    event(f"{path} -> {status}")
    assert status in (201, 400), answer
    if status == 400:
        assert answer["code"] == 400
        assert answer["message"]
    elif path == "webhooks":
        assert answer in await pulumi_sandbox.webhooks()
        assert answer["hasSecret"] is (body.get("secret") is not None)
    else:
        assert await _raw(pulumi_sandbox, "GET", path) == (200, answer)
    await pulumi_sandbox.reset()
