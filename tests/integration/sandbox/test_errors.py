"""Auth (401/403), the 404 kinds, and 400s: every error is a {code, message} body that says what is wrong."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.sandbox.conftest import Api
from tests.pulumi_sandbox import PulumiSandbox


async def test_no_token_or_a_wrong_one_is_401(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    for token in (None, "pul-not-a-token"):
        reply = await api.get(f"{api.st()}/settings", token=token)
        assert reply.status == 401
        assert reply.body["code"] == 401
        assert "Authorization: token" in reply.body["message"]
    bearer = await api.session.get(
        pulumi_sandbox.url + f"{api.st()}/settings", headers={"Authorization": f"Bearer {pulumi_sandbox.token}"}
    )
    assert bearer.status == 401  # Pulumi's scheme is the literal word "token"
    bearer.release()


async def test_only_admins_pause_or_resume_an_org(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    for action in ("pause", "resume"):
        refused = await api.post(f"/api/orgs/acme/deployments/{action}", token="member")
        assert refused.status == 403
        assert "administrators" in refused.body["message"]
    assert (await api.post("/api/orgs/acme/deployments/pause", token="admin")).status == 200
    metadata = await api.get("/api/orgs/acme/deployments/metadata", token="member")
    assert metadata.body["paused"] is True


async def test_a_member_may_pause_a_stack(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    assert (await api.post(f"{api.st()}/pause", token="member")).status == 200
    assert (await api.get(f"{api.st()}/metadata", token="member")).body["stackPaused"] is True


async def test_404_messages_say_what_was_missing(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await pulumi_sandbox.create_stacks("web/bare", with_settings=False)
    created = await api.create()
    cases = {
        "/api/orgs/nope/deployments": "Organization 'nope' not found",
        "/api/stacks/nope/web/dev/deployments/settings": "Organization 'nope' not found",
        "/api/stacks/acme/web/prod/deployments/settings": "Stack 'acme/web/prod' not found",
        "/api/stacks/acme/web/prod/deployments": "Stack 'acme/web/prod' not found",
        f"/api/stacks/acme/web/prod/deployments/{created['id']}": "Stack 'acme/web/prod' not found",
        f"{api.st()}/00000000-0000-0000-0000-000000000000": "Deployment '00000000-0000-0000-0000-000000000000'",
        f"{api.st()}/version/9": "Deployment version 9 not found",
        f"{api.st('web/bare')}/settings": "No deployment settings for stack 'acme/web/bare'",
        f"{api.st('web/bare')}/{created['id']}": f"Deployment '{created['id']}' not found",
    }
    for path, message in cases.items():
        reply = await api.get(path)
        assert (reply.status, reply.body["code"]) == (404, 404), path
        assert message in reply.body["message"], (path, reply.body)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "operation is required"),
        ({"operation": "deploy"}, "unknown operation 'deploy'"),
        ({"operation": 5}, "operation"),
        ({"operation": "update", "operationContext": {"operation": "update"}}, "top level"),
        ({"operation": "update", "inheritSettings": "yes"}, "inheritSettings"),
        ({"operation": "update", "sourceContext": {"git": {"commit": "a" * 40}}}, "mutually exclusive"),
        ({"operation": "update", "sourceContext": {"git": {"commit": "abc"}}}, "40-character"),
        ({"operation": "update", "surprise": 1}, "unknown field 'surprise'"),
        ({"operation": "update", "cacheOptions": {"enable": "true"}}, "cacheOptions.enable"),
        ({"operation": "update", "agentPoolID": "pool-1"}, "agent pool"),
        ([1, 2], "JSON object"),
    ],
)
async def test_invalid_create_requests_are_400(
    pulumi_sandbox: PulumiSandbox, api: Api, body: object, fragment: str
) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    reply = await api.post(api.st(), body)
    assert (reply.status, reply.body["code"]) == (400, 400)
    assert fragment in reply.body["message"]


async def test_malformed_missing_and_oversized_bodies(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    for data, fragment in ((b"{", "malformed JSON"), (b"", "body is required"), (b"\xff\xfe", "UTF-8")):
        reply = await api.call("POST", api.st(), data=data) if data else await api.post(api.st())
        assert reply.status == 400, data
        assert fragment in reply.body["message"]
    for number in (b"NaN", b"Infinity", b"1e999", b"1" * 5000):
        odd = await api.call("POST", api.st(), data=b'{"operation": "update", "x": ' + number + b"}")
        assert odd.status == 400, number
        assert "malformed JSON" in odd.body["message"]
    deep = await api.call("POST", api.st(), data=b"[" * 50_000 + b"]" * 50_000)
    assert deep.status == 400
    huge = await api.call("POST", f"{api.st()}/settings", data=b'{"tag": "' + b"x" * 300_000 + b'"}')
    assert huge.status == 413
    assert "too large" in huge.body["message"]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"page": "0"}, "page must be at least 1"),
        ({"page": "x"}, "page must be an integer"),
        ({"pageSize": "0"}, "pageSize must be between 1 and 100"),
        ({"pageSize": "101"}, "pageSize must be between 1 and 100"),
        ({"asc": "maybe"}, "asc must be true or false"),
        ({"status": "cancelled"}, "status must be one of"),
    ],
)
async def test_list_query_out_of_range_is_400(
    pulumi_sandbox: PulumiSandbox, api: Api, query: dict[str, str], fragment: str
) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    for path in (api.st(), "/api/orgs/acme/deployments"):
        reply = await api.get(path, params=query)
        assert reply.status == 400
        assert fragment in reply.body["message"]


async def test_unknown_routes_and_methods_answer_json(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    missing = await api.get("/api/nothing/here")
    assert (missing.status, missing.body["code"]) == (404, 404)
    wrong_method = await api.call("PATCH", f"{api.st()}/settings", {})
    assert (wrong_method.status, wrong_method.body["code"]) == (405, 405)
    for version in ("first", "²", "9" * 5000):
        bad_version = await api.get(f"{api.st()}/version/{version}")
        assert bad_version.status == 400, version
    assert (await api.get(f"{api.st()}/version/0")).status == 404


async def test_a_malformed_host_header_is_no_server_error(pulumi_sandbox: PulumiSandbox) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    port = int(pulumi_sandbox.url.rsplit(":", 1)[1])
    body = b'{"operation": "update"}'
    for host in (b"x:99999999", b"\xff", b"a b"):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /api/stacks/acme/web/dev/deployments HTTP/1.1\r\nHost: " + host
            + b"\r\nAuthorization: token pul-test-admin\r\nConnection: close\r\n"
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )  # fmt: skip
        await writer.drain()
        status_line = (await reader.read()).split(b"\r\n", 1)[0]
        writer.close()
        await writer.wait_closed()
        assert status_line == b"HTTP/1.1 202 Accepted", host
