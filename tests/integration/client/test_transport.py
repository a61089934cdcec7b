"""The client's transport over real HTTP: headers, connection reuse, retries, timeouts, error mapping, secrecy."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable

import pytest
from pydantic import SecretStr

from bot.errors import (
    AlreadyFinished,
    BadResponse,
    NotFound,
    PulumiError,
    RateLimited,
    ServerError,
    Unauthorized,
    Unavailable,
)
from bot.pulumi import (
    CreateDeploymentRequest,
    JobStatus,
    PulumiClient,
    PulumiOperation,
    RetryPolicy,
    SettingsFields,
    StackRef,
)
from tests.conftest import free_port
from tests.integration.client.conftest import TOKEN
from tests.integration.client.scripted import Script, drop_then_answer, raw_json, reply

STACK = StackRef("acme", "web", "dev")
ST = "/api/stacks/acme/web/dev"
CREATED = {"id": "d-1", "consoleUrl": "https://app.pulumi.com/acme/web/dev/deployments/1", "version": 1}
SETTINGS = {"sourceContext": {"git": {"repoUrl": "https://github.com/acme/web.git", "branch": "main"}}}
UPDATE = CreateDeploymentRequest(operation=PulumiOperation.UPDATE)
MakeClient = Callable[..., PulumiClient]


def deployment(status: str, version: int) -> dict[str, object]:
    return {
        "id": f"d-{version}",
        "created": "2026-01-01 00:00:00.000",
        "modified": "2026-01-01 00:00:01.000",
        "status": status,
        "version": version,
    }


def assert_no_token(error: BaseException) -> None:
    shown = "".join(traceback.format_exception(error)) + repr(error) + str(error)
    assert TOKEN not in shown


async def test_requests_carry_the_token_header_and_json_bodies(script: Script, make_client: MakeClient) -> None:
    script.on("POST", f"{ST}/deployments/settings", reply(json_body=SETTINGS))
    client = make_client(script.url + "/")  # a trailing slash on the base URL is harmless
    patch = SettingsFields.model_validate({"operationContext": {"environmentVariables": {"OLD": None}}})
    settings = await client.patch_settings(STACK, patch)
    assert settings.source_context is not None
    (seen,) = script.seen
    assert seen.headers["Authorization"] == f"token {TOKEN}"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Accept"] == "application/json"
    assert seen.body == b'{"operationContext":{"environmentVariables":{"OLD":null}}}'


async def test_one_connection_serves_many_calls(script: Script, make_client: MakeClient) -> None:
    script.on("GET", f"{ST}/deployments/metadata", reply(json_body={"paused": False}))
    async with make_client(script.url) as client:
        for _ in range(5):
            assert not (await client.get_stack_metadata(STACK)).paused
    assert len({seen.peer for seen in script.seen}) == 1
    with pytest.raises(RuntimeError, match="closed"):
        await client.get_stack_metadata(STACK)


async def test_ids_are_percent_encoded_and_queries_written_as_pulumi_expects(
    script: Script, make_client: MakeClient
) -> None:
    script.on("GET", f"{ST}/deployments/a%2Fb%20c", reply(json_body=deployment("running", 1)))
    script.on("GET", f"{ST}/deployments", reply(json_body={"deployments": [], "itemsPerPage": 5, "total": 0}))
    client = make_client(script.url)
    assert (await client.get_deployment(STACK, "a/b c")).status is JobStatus.RUNNING
    await client.list_deployments(STACK, page=2, page_size=5, asc=False)
    assert script.seen[-1].raw_path == f"{ST}/deployments?page=2&pageSize=5&asc=false"


async def test_the_status_filter_is_applied_even_when_the_service_ignores_it(
    script: Script, make_client: MakeClient
) -> None:
    mixed = [deployment("running", 3), deployment("succeeded", 2), deployment("running", 1)]
    listing = {"deployments": mixed, "itemsPerPage": 10, "total": 3}
    script.on("GET", "/api/orgs/acme/deployments", reply(json_body=listing))
    page = await make_client(script.url).list_org_deployments("acme", status=JobStatus.RUNNING)
    assert [d.version for d in page.deployments] == [3, 1]
    assert "status=running" in script.seen[0].raw_path


async def test_a_transient_503_is_retried_and_each_attempt_observed(script: Script, make_client: MakeClient) -> None:
    script.on("GET", f"{ST}/deployments/d-1", reply(503, text="busy"), reply(json_body=deployment("running", 1)))
    observed: list[tuple[str, int | None, float]] = []
    client = make_client(script.url, on_call=lambda *call: observed.append(call))
    assert (await client.get_deployment(STACK, "d-1")).version == 1
    assert [(endpoint, status) for endpoint, status, _ in observed] == [
        ("GET /api/stacks/{org}/{project}/{stack}/deployments/{id}", 503),
        ("GET /api/stacks/{org}/{project}/{stack}/deployments/{id}", 200),
    ]
    assert all(seconds >= 0 for _, _, seconds in observed)


async def test_retry_after_is_waited_in_full(script: Script, make_client: MakeClient) -> None:
    script.on(
        "GET",
        f"{ST}/deployments/d-1",
        reply(429, headers={"Retry-After": "1"}),
        reply(json_body=deployment("running", 1)),
    )
    await make_client(script.url).get_deployment(STACK, "d-1")
    first, second = script.seen
    assert second.at - first.at >= 1.0


async def test_a_wait_longer_than_we_accept_is_reported_at_once(script: Script, make_client: MakeClient) -> None:
    script.on("GET", f"{ST}/deployments/d-1", reply(429, text="quota", headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimited) as caught:
        await make_client(script.url).get_deployment(STACK, "d-1")
    assert caught.value.retry_after == 3600
    assert len(script.seen) == 1


async def test_retries_run_out_into_a_server_error_with_the_proxys_words(
    script: Script, make_client: MakeClient
) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"
    script.on("GET", f"{ST}/deployments/d-1/updates", reply(502, text=page, content_type="text/html"))
    with pytest.raises(ServerError, match="502 Bad Gateway") as caught:
        await make_client(script.url).get_deployment_updates(STACK, "d-1")
    assert len(script.seen) == 3
    assert "\n" not in str(caught.value)


async def test_a_create_answered_with_a_server_error_is_not_repeated(script: Script, make_client: MakeClient) -> None:
    script.on("POST", f"{ST}/deployments", reply(502, text="upstream reset"))
    with pytest.raises(ServerError, match="not repeated") as caught:
        await make_client(script.url).create_deployment(STACK, UPDATE)
    assert len(script.seen) == 1
    assert "check the stack's deployments" in str(caught.value)


async def test_a_create_refused_with_429_is_repeated(script: Script, make_client: MakeClient) -> None:
    script.on("POST", f"{ST}/deployments", reply(429, text="slow down"), reply(202, json_body=CREATED))
    created = await make_client(script.url).create_deployment(STACK, UPDATE)
    assert created.version == 1
    assert len(script.seen) == 2
    assert script.seen[0].body == script.seen[1].body == b'{"operation":"update"}'


async def test_an_answer_that_never_comes_times_out(script: Script, make_client: MakeClient) -> None:
    script.on("GET", f"{ST}/deployments/d-1", script.hang())
    script.on("POST", f"{ST}/deployments", script.hang())
    client = make_client(script.url, timeout=0.2)
    with pytest.raises(Unavailable, match="no answer") as caught:
        await client.get_deployment(STACK, "d-1")
    assert caught.value.sent is None
    assert len(script.calls("GET", f"{ST}/deployments/d-1")) == 3
    # A create that timed out may be running: it is not repeated.
    with pytest.raises(Unavailable, match="may have reached Pulumi"):
        await client.create_deployment(STACK, UPDATE)
    assert len(script.calls("POST", f"{ST}/deployments")) == 1


async def test_a_dropped_connection_is_retried_for_reads_but_not_for_create(make_client: MakeClient) -> None:
    server, requests = await drop_then_answer([None, raw_json(200, deployment("succeeded", 4))])
    async with server:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        assert (await make_client(url).get_deployment(STACK, "d-4")).version == 4
        assert len(requests) == 2
    server, requests = await drop_then_answer([None, raw_json(202, CREATED)])
    async with server:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        with pytest.raises(Unavailable, match="not repeated") as caught:
            await make_client(url).create_deployment(STACK, UPDATE)
        assert len(requests) == 1
        assert caught.value.sent is None


async def test_connection_refused_is_unavailable_and_safe_to_retry_even_for_create(make_client: MakeClient) -> None:
    observed: list[int | None] = []
    client = make_client(f"http://127.0.0.1:{free_port()}", on_call=lambda _e, status, _s: observed.append(status))
    with pytest.raises(Unavailable, match="cannot reach Pulumi") as caught:
        await client.create_deployment(STACK, UPDATE)
    assert caught.value.sent is False
    assert observed == [None, None, None]  # every attempt was made: nothing could have been created
    assert_no_token(caught.value)


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b'{"id": "d-1"}', b'{"id": 5, "consoleUrl": "x", "version": "seven-' + TOKEN.encode() + b'"}'],
    ids=["empty", "not-json", "missing-keys", "wrong-types"],
)
async def test_an_unreadable_success_is_a_bad_response_that_does_not_echo_it(
    script: Script, make_client: MakeClient, body: bytes
) -> None:
    script.on("POST", f"{ST}/deployments", reply(202, text=body.decode(), content_type="application/json"))
    with pytest.raises(BadResponse, match="not what the API documents") as caught:
        await make_client(script.url).create_deployment(STACK, UPDATE)
    assert_no_token(caught.value)
    assert "seven" not in str(caught.value)


async def test_a_log_page_of_the_other_mode_is_a_bad_response(script: Script, make_client: MakeClient) -> None:
    script.on("GET", f"{ST}/deployments/d-1/logs", reply(json_body={"__type": "DeploymentLogsStep", "lines": []}))
    with pytest.raises(BadResponse, match="step mode"):
        await make_client(script.url).get_logs(STACK, "d-1")


@pytest.mark.parametrize("status", [400, 404, 409])
async def test_cancel_of_a_finished_deployment_is_already_finished(
    script: Script, make_client: MakeClient, status: int
) -> None:
    script.on("POST", f"{ST}/deployments/d-1/cancel", reply(status, json_body={"code": status, "message": "done"}))
    with pytest.raises(AlreadyFinished, match="already finished or gone") as caught:
        await make_client(script.url).cancel_deployment(STACK, "d-1")
    assert isinstance(caught.value, NotFound)
    assert caught.value.resource == "deployment"


async def test_clear_settings_is_done_when_there_are_none_but_not_when_the_stack_is_missing(
    script: Script, make_client: MakeClient
) -> None:
    client = make_client(script.url)
    script.on("DELETE", f"{ST}/deployments/settings", reply(404, json_body={"message": "No deployment settings"}))
    await client.clear_settings(STACK)
    script.on("DELETE", f"{ST}/deployments/settings", reply(404, json_body={"message": "Stack 'acme/web/dev'"}))
    with pytest.raises(NotFound) as caught:
        await client.clear_settings(STACK)
    assert caught.value.resource == "stack"


async def test_the_token_appears_in_no_error_log_or_repr(
    script: Script, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    script.on("GET", f"{ST}/deployments/d-1", reply(503, text="busy"))
    script.on("GET", f"{ST}/deployments/metadata", reply(401, json_body={"code": 401, "message": "Unauthorized"}))
    client = make_client(script.url, on_call=lambda *_: 1 / 0)  # a broken observer must not break calls either
    errors: list[PulumiError] = []
    for call in (client.get_deployment(STACK, "d-1"), client.get_stack_metadata(STACK)):
        with pytest.raises(PulumiError) as caught:
            await call
        errors.append(caught.value)
    assert isinstance(errors[1], Unauthorized)
    for error in errors:
        assert_no_token(error)
    assert TOKEN not in repr(client)
    assert TOKEN not in caplog.text
    assert "observer failed" in caplog.text


async def test_bad_arguments_are_refused_before_anything_is_sent(script: Script, make_client: MakeClient) -> None:
    client = make_client(script.url)
    for call, complaint in [
        (client.list_deployments(STACK, page=0), "pages start at 1"),
        (client.list_deployments(STACK, page_size=101), "between 1 and 100"),
        (client.get_step_logs(STACK, "d", step=0, count=500), "between 1 and 499"),
        (client.get_step_logs(STACK, "d", step=-1), "negative"),
        (client.get_deployment(STACK, " "), "must not be empty"),
        (client.get_deployment_by_version(STACK, 0), "start at 1"),
        (client.encrypt_secret(STACK, ""), "nothing to encrypt"),
        (client.list_org_deployments("acme/../x"), "invalid organization"),
    ]:
        with pytest.raises(ValueError, match=complaint):
            await call
    assert script.seen == []
    with pytest.raises(ValueError, match="http"):
        PulumiClient(SecretStr(TOKEN), base_url="api.pulumi.com")


async def test_timeouts_are_injectable_and_one_slow_call_does_not_block_others(
    script: Script, make_client: MakeClient
) -> None:
    script.on("GET", f"{ST}/deployments/slow", script.hang())
    script.on("GET", f"{ST}/deployments/metadata", reply(json_body={"paused": True}))
    client = make_client(script.url, timeout=0.3, retry=RetryPolicy(attempts=1))
    slow = asyncio.ensure_future(client.get_deployment(STACK, "slow"))
    assert (await client.get_stack_metadata(STACK)).paused
    with pytest.raises(Unavailable):
        await slow
