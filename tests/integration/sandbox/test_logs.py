"""Deployment logs: streaming with nextToken/continuationToken and step mode with offset/count reassemble the
same lines; headers precede each step; a running deployment hands back its token until there is more."""

from __future__ import annotations

from typing import Any

from tests.integration.sandbox.conftest import Api
from tests.pulumi_sandbox import PulumiSandbox

ZERO = "0001-01-01T00:00:00Z"


async def _stream(api: Api, deployment_id: str, token: str | None = None) -> dict[str, Any]:
    params = {"continuationToken": token} if token else None
    reply = await api.get(f"{api.st()}/{deployment_id}/logs", params=params)
    assert reply.status == 200, reply.text
    body: dict[str, Any] = reply.body
    assert body["__type"] == "DeploymentLogs"
    return body


async def _stream_all(api: Api, deployment_id: str) -> list[dict[str, Any]]:
    lines, token = [], None
    for _ in range(1000):
        body = await _stream(api, deployment_id, token)
        lines += body["lines"]
        if "nextToken" not in body:
            return lines
        token = body["nextToken"]
    raise AssertionError("the stream never ended")


async def _step_all(api: Api, deployment_id: str, step: int, count: int) -> tuple[str, list[dict[str, Any]]]:
    lines: list[dict[str, Any]] = []
    offset: int | None = 0
    name = ""
    while offset is not None:
        params = {"job": "0", "step": str(step), "offset": str(offset), "count": str(count)}
        reply = await api.get(f"{api.st()}/{deployment_id}/logs", params=params)
        assert reply.status == 200, reply.text
        assert reply.body["__type"] == "DeploymentLogsStep"
        assert len(reply.body["lines"]) <= count
        name, offset = reply.body["name"], reply.body.get("nextOffset")
        lines += reply.body["lines"]
    return name, lines


async def test_streaming_and_step_mode_give_the_same_lines(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    created = await api.create(body={"operation": "update", "operationContext": {"preRunCommands": ["echo a"]}})
    await pulumi_sandbox.run_until_idle()
    streamed = await _stream_all(api, created["id"])
    steps = (await api.deployment(created["id"]))["jobs"][0]["steps"]
    assert [entry["header"] for entry in streamed if "header" in entry] == [step["name"] for step in steps]
    assert all(entry["timestamp"] == ZERO for entry in streamed if "header" in entry)
    assert streamed[0] == {"header": "Setup", "timestamp": ZERO}
    paged: list[dict[str, Any]] = []
    for index, step in enumerate(steps):
        name, lines = await _step_all(api, created["id"], index, count=2)
        assert name == step["name"]
        paged += [{"header": name, "timestamp": ZERO}, *lines]
    assert paged == streamed
    text = [entry["line"] for entry in streamed if "line" in entry]
    assert all(line.endswith("\n") for line in text)
    assert "Resources:\n" in text
    assert (await api.get(f"{api.st()}/{created['id']}/logs/", params={"step": "0"})).body["name"] == "Setup"


async def test_streaming_a_running_deployment(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    created = await api.create()
    queued = await _stream(api, created["id"])
    assert queued["lines"] == []
    assert queued["nextToken"]
    await pulumi_sandbox.advance(2)  # running, step 1 in progress
    first = await _stream(api, created["id"], queued["nextToken"])
    assert first["lines"][0] == {"header": "Setup", "timestamp": ZERO}
    same = await _stream(api, created["id"], first["nextToken"])
    assert (same["lines"], same["nextToken"]) == ([], first["nextToken"])  # nothing new: the same token
    collected = queued["lines"] + first["lines"]
    token = first["nextToken"]
    while True:
        await pulumi_sandbox.advance()
        body = await _stream(api, created["id"], token)
        collected += body["lines"]
        if "nextToken" not in body:
            break
        token = body["nextToken"]
    assert (await api.deployment(created["id"]))["status"] == "succeeded"
    assert collected == await _stream_all(api, created["id"])


async def test_step_mode_while_running_and_its_errors(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    created = await api.create()
    path = f"{api.st()}/{created['id']}/logs"
    not_yet = (await api.get(path, params={"job": "0", "step": "4"})).body
    assert (not_yet["lines"], not_yet["nextOffset"], not_yet["name"]) == ([], 0, "pulumi update")
    await pulumi_sandbox.advance(2)
    running = (await api.get(path, params={"job": "0", "step": "0"})).body
    assert running["nextOffset"] == len(running["lines"])  # still running: come back for more
    await pulumi_sandbox.run_until_idle()
    done = (await api.get(path, params={"job": "0", "step": "0", "offset": str(len(running["lines"]))})).body
    assert "nextOffset" not in done
    for params, status, fragment in (
        ({"step": "0", "count": "0"}, 400, "count must be >0 and <500"),
        ({"step": "0", "count": "500"}, 400, "count must be >0 and <500"),
        ({"step": "0", "offset": "-1"}, 400, "offset"),
        ({"job": "0"}, 400, "step is required"),
        ({"step": "x"}, 400, "step must be an integer"),
        ({"job": "1", "step": "0"}, 404, "Job 1 not found"),
        ({"step": "99"}, 404, "Step 99 not found"),
        ({"continuationToken": "bogus"}, 400, "continuationToken"),
        ({"continuationToken": "0.99.0"}, 400, "continuationToken"),
    ):
        reply = await api.get(path, params=params)
        assert reply.status == status, params
        assert fragment in reply.body["message"]
    assert (await api.get(f"{api.st()}/no-such-id/logs")).status == 404


async def test_a_long_log_streams_in_batches(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    commands = [f"echo line {n}" for n in range(300)]
    created = await api.create(body={"operation": "update", "operationContext": {"preRunCommands": commands}})
    await pulumi_sandbox.run_until_idle()
    first = await _stream(api, created["id"])
    assert len(first["lines"]) == 500
    assert "nextToken" in first  # finished, but more lines are left
    everything = await _stream_all(api, created["id"])
    assert len(everything) > 900
    assert [entry["line"] for entry in everything if entry.get("line", "").startswith("line ")] == [
        f"line {n}\n" for n in range(300)
    ]
