"""Execution on the manual clock: status and step transitions, queueing per stack, the org concurrency limit,
skipIntermediateDeployments, deleteAfterDestroy, SANDBOX_FAIL_STEP, and the simulated resource changes."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.sandbox.conftest import Api
from tests.pulumi_sandbox import PulumiSandbox

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z")
ZERO = "0001-01-01T00:00:00Z"


async def _status(api: Api, created: dict[str, Any], stack: str = "web/dev") -> str:
    return str((await api.deployment(created["id"], stack))["status"])


async def _steps(api: Api, created: dict[str, Any], stack: str = "web/dev") -> list[dict[str, Any]]:
    return list((await api.deployment(created["id"], stack))["jobs"][0]["steps"])


async def _log_text(api: Api, created: dict[str, Any], stack: str = "web/dev") -> str:
    lines = (await api.get(f"{api.st(stack)}/{created['id']}/logs")).body["lines"]
    return "".join(line.get("line", "") for line in lines)


async def test_one_transition_per_tick(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    created = await api.create()
    await pulumi_sandbox.advance()
    assert await _status(api, created) == "accepted"
    await pulumi_sandbox.advance()
    deployment = await api.deployment(created["id"])
    assert deployment["status"] == "running"
    job = deployment["jobs"][0]
    names = [step["name"] for step in job["steps"]]
    assert names == ["Setup", "Download deployment executor", "Get source", "Download dependencies", "pulumi update"]
    assert [step["status"] for step in job["steps"]] == ["running"] + ["not-started"] * 4
    assert RFC3339.fullmatch(job["started"])
    assert RFC3339.fullmatch(job["steps"][0]["started"])
    assert job["steps"][1]["started"] == job["steps"][1]["lastUpdated"] == ZERO
    for done in range(1, 5):
        await pulumi_sandbox.advance()
        statuses = [step["status"] for step in await _steps(api, created)]
        assert statuses == ["succeeded"] * done + ["running"] + ["not-started"] * (4 - done)
    await pulumi_sandbox.advance()
    finished = await api.deployment(created["id"])
    assert finished["status"] == finished["jobs"][0]["status"] == "succeeded"
    assert all(
        step["status"] == "succeeded" and RFC3339.fullmatch(step["lastUpdated"])
        for step in finished["jobs"][0]["steps"]
    )
    assert (await pulumi_sandbox.advance())["idle"] is True
    events = [e for e in await pulumi_sandbox.events() if e["kind"] == "deployment"]
    assert [(e["from"], e["to"]) for e in events] == [
        (None, "not-started"),
        ("not-started", "accepted"),
        ("accepted", "running"),
        ("running", "succeeded"),
    ]
    step_events = [(e["stepName"], e["to"]) for e in await pulumi_sandbox.events() if e["kind"] == "step"]
    assert step_events[:3] == [
        ("Setup", "running"),
        ("Setup", "succeeded"),
        ("Download deployment executor", "running"),
    ]


async def test_steps_follow_the_settings(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    body = {
        "operation": "preview",
        "operationContext": {
            "preRunCommands": ['echo "hello world"', "make lint"],
            "oidc": {"aws": {"roleArn": "arn:aws:iam::1:role/deploy", "sessionName": "deploy"}},
            "options": {"skipInstallDependencies": True},
        },
    }
    created = await api.create(body=body)
    await pulumi_sandbox.run_until_idle()
    assert [step["name"] for step in await _steps(api, created)] == [
        "Setup",
        "Download deployment executor",
        "Fetch provider credentials via OIDC",
        "Get source",
        "Pre-run command 1",
        "Pre-run command 2",
        "pulumi preview",
    ]
    text = await _log_text(api, created)
    assert '$ echo "hello world"\nhello world\n' in text
    assert "arn:aws:iam::1:role/deploy" in text


async def test_deployments_of_one_stack_run_in_order(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    first, second = await api.create(), await api.create()
    await pulumi_sandbox.advance(3)
    assert (await _status(api, first), await _status(api, second)) == ("running", "not-started")
    while await _status(api, first) != "succeeded":
        assert await _status(api, second) == "not-started"
        await pulumi_sandbox.advance()
    # The tick that finished the first admitted the second.
    assert await _status(api, second) == "accepted"
    await pulumi_sandbox.run_until_idle()
    assert await _status(api, second) == "succeeded"
    events = await pulumi_sandbox.events()
    finished_first = next(e["seq"] for e in events if e["deploymentId"] == first["id"] and e["to"] == "succeeded")
    accepted_second = next(e["seq"] for e in events if e["deploymentId"] == second["id"] and e["to"] == "accepted")
    assert finished_first < accepted_second


async def test_the_org_concurrency_limit(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    stacks = ["web/a", "web/b", "web/c"]
    await pulumi_sandbox.create_stacks(*stacks)
    await pulumi_sandbox.set_concurrency("acme", 2)
    created = [await api.create(stack) for stack in stacks]
    await pulumi_sandbox.advance()
    statuses = [await _status(api, item, stack) for item, stack in zip(created, stacks, strict=True)]
    assert statuses == ["accepted", "accepted", "not-started"]
    metadata = (await api.get("/api/orgs/acme/deployments/metadata")).body
    assert metadata["concurrency"] == 2
    assert metadata["deploymentCounts"] == {
        "notStarted": 1,
        "accepted": 2,
        "running": 0,
        "failed": 0,
        "succeeded": 0,
        "skipped": 0,
        "total": 3,
    }
    await pulumi_sandbox.run_until_idle()
    counts = (await api.get("/api/orgs/acme/deployments/metadata")).body["deploymentCounts"]
    assert (counts["succeeded"], counts["total"]) == (3, 3)
    running_at_once, running = 0, set()
    for event in await pulumi_sandbox.events():
        if event["kind"] == "deployment":
            running.discard(event["deploymentId"])
            if event["to"] in ("accepted", "running"):
                running.add(event["deploymentId"])
            running_at_once = max(running_at_once, len(running))
    assert running_at_once == 2


async def test_skip_intermediate_deployments(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    options = {"operationContext": {"options": {"skipIntermediateDeployments": True}}}
    await pulumi_sandbox.create_stacks("web/dev", "web/prod")
    await api.post(f"{api.st()}/settings", options)
    first = await api.create()
    await pulumi_sandbox.advance()
    middle, newest = await api.create(), await api.create()
    plain = [await api.create("web/prod") for _ in range(3)]
    await pulumi_sandbox.run_until_idle()
    assert [await _status(api, item) for item in (first, middle, newest)] == ["succeeded", "skipped", "succeeded"]
    assert "jobs" not in await api.deployment(middle["id"])
    assert [await _status(api, item, "web/prod") for item in plain] == ["succeeded"] * 3
    assert (await api.get("/api/orgs/acme/deployments/metadata")).body["deploymentCounts"]["skipped"] == 1


async def test_delete_after_destroy_removes_the_stack(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev", "web/keep")
    options = {"operationContext": {"options": {"deleteAfterDestroy": True}}}
    await api.create()
    destroy = await api.create(body={"operation": "destroy", **options})
    kept = await api.create("web/keep", body={"operation": "destroy"})
    await pulumi_sandbox.run_until_idle()
    for path in (f"{api.st()}/settings", f"{api.st()}/{destroy['id']}", api.st()):
        gone = await api.get(path)
        assert gone.status == 404
        assert "Stack 'acme/web/dev' not found" in gone.body["message"]
    assert await _status(api, kept, "web/keep") == "succeeded"
    listed = (await api.get("/api/orgs/acme/deployments")).body
    assert [item["stackName"] for item in listed["deployments"]] == ["keep"]


async def test_sandbox_fail_step_by_name_and_by_index(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    by_name = await api.create(
        body={"operation": "update", "operationContext": {"environmentVariables": {"SANDBOX_FAIL_STEP": "Get source"}}}
    )
    by_index = await api.create(
        body={
            "operation": "update",
            "operationContext": {"environmentVariables": {"SANDBOX_FAIL_STEP": {"secret": "5"}}},
        }
    )
    await pulumi_sandbox.run_until_idle()
    named = await api.deployment(by_name["id"])
    assert named["status"] == "failed"
    assert [s["status"] for s in named["jobs"][0]["steps"]] == [
        "succeeded",
        "succeeded",
        "failed",
        "not-started",
        "not-started",
    ]
    assert named["jobs"][0]["steps"][3]["started"] == ZERO
    assert "error: Get source failed" in await _log_text(api, by_name)
    assert named["updates"] == []  # the pulumi step never ran
    indexed = await api.deployment(by_index["id"])
    assert [s["status"] for s in indexed["jobs"][0]["steps"]][-1] == "failed"
    update = (await api.get(f"{api.st()}/{by_index['id']}/updates")).body[0]
    assert update["info"]["result"] == "failed"
    for odd in ("²", "9" * 5000, "no such step", "0"):  # not a step: noted in Setup's log, nothing fails
        env = {"SANDBOX_FAIL_STEP": odd}
        created = await api.create(body={"operation": "update", "operationContext": {"environmentVariables": env}})
        await pulumi_sandbox.run_until_idle()
        assert (await api.deployment(created["id"]))["status"] == "succeeded"
        assert "names no step" in await _log_text(api, created)


async def _summary(api: Api, pulumi_sandbox: PulumiSandbox, operation: str) -> tuple[str, dict[str, int]]:
    created = await api.create(body={"operation": operation})
    await pulumi_sandbox.run_until_idle()
    text = await _log_text(api, created)
    updates = (await api.get(f"{api.st()}/{created['id']}/updates")).body
    return text[text.index("Resources:") :], updates[0]["info"]["resourceChanges"]


async def test_resource_changes_are_plausible_and_deterministic(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    text, first = await _summary(api, pulumi_sandbox, "update")
    assert set(first) == {"create"}
    assert f"    + {first['create']} created\n" in text
    _, again = await _summary(api, pulumi_sandbox, "update")
    assert again == {"same": first["create"]}  # the same commit changes nothing
    await pulumi_sandbox.push("https://github.com/acme/web.git", "main")
    preview_text, preview = await _summary(api, pulumi_sandbox, "preview")
    assert preview.get("update", 0) + preview.get("create", 0) + preview.get("delete", 0) >= 1
    if preview.get("update"):
        assert f"    ~ {preview['update']} to update\n" in preview_text
    _, applied = await _summary(api, pulumi_sandbox, "update")
    assert applied == preview  # the preview did not apply anything
    _, refreshed = await _summary(api, pulumi_sandbox, "refresh")
    assert set(refreshed) == {"same"}
    destroy_text, destroyed = await _summary(api, pulumi_sandbox, "destroy")
    assert set(destroyed) == {"delete"}
    assert f"    - {destroyed['delete']} deleted\n" in destroy_text
    _, recreated = await _summary(api, pulumi_sandbox, "update")
    assert set(recreated) == {"create"}


async def test_updates_carry_every_key_the_sdk_requires(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    created = await api.create()
    assert (await api.get(f"{api.st()}/{created['id']}/updates")).body == []
    await pulumi_sandbox.run_until_idle()
    [update] = (await api.get(f"{api.st()}/{created['id']}/updates")).body
    assert set(update) >= {"info", "updateID", "version", "latestVersion", "requestedBy"}
    info = update["info"]
    assert set(info) >= {"kind", "startTime", "message", "environment", "config", "result", "endTime", "version"}
    assert (info["kind"], info["result"]) == ("update", "succeeded")
    assert info["endTime"] >= info["startTime"] > 0
    nested = (await api.deployment(created["id"]))["updates"][0]
    assert set(nested) == {
        "id",
        "updateID",
        "version",
        "startTime",
        "endTime",
        "result",
        "kind",
        "message",
        "environment",
    }
    assert nested["updateID"] == update["updateID"]
