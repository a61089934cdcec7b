"""Creating deployments: 202 answers, versions and console URLs, inherited vs request-only settings, git
resolution (branches, pushes, pinned commits) and what GetDeployment shows before and after it runs."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from tests.integration.sandbox.conftest import Api
from tests.pulumi_sandbox import PulumiSandbox, start_pulumi_sandbox

REPO = "https://github.com/acme/web.git"


def _variables(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in deployment["configuration"]["environmentVariables"]}


async def test_create_answers_202_with_counting_versions(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev", "web/prod")
    first, second = await api.create(), await api.create()
    other = await api.create("web/prod")
    assert (first["version"], second["version"], other["version"]) == (1, 2, 1)
    assert first["consoleUrl"] == "https://app.pulumi.com/acme/web/dev/deployments/1"
    assert len({first["id"], second["id"], other["id"]}) == 3
    missing = await api.post(api.st("web/none"), {"operation": "update"})
    assert missing.status == 404
    assert "Stack 'acme/web/none' not found" in missing.body["message"]


async def test_console_url_follows_the_configuration() -> None:
    async with start_pulumi_sandbox(console_url="https://console.example/") as sandbox, aiohttp.ClientSession() as s:
        await sandbox.create_stacks("web/dev")
        url = f"{sandbox.url}/api/stacks/acme/web/dev/deployments"
        async with s.post(url, json={"operation": "preview"}, headers=sandbox.headers()) as resp:
            assert (await resp.json())["consoleUrl"] == "https://console.example/acme/web/dev/deployments/1"


async def test_get_deployment_before_it_starts(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    created = await api.create()
    deployment = await api.deployment(created["id"])
    assert deployment["status"] == "not-started"
    assert "jobs" not in deployment  # the SDK documents jobs as absent before the deployment starts
    assert deployment["updates"] == []
    assert (deployment["version"], deployment["latestVersion"]) == (1, 1)
    assert (deployment["projectName"], deployment["stackName"]) == ("web", "dev")
    assert (deployment["initiator"], deployment["pulumiOperation"]) == ("api", "update")
    assert deployment["inheritSettings"] is True
    assert deployment["requestedBy"] == {
        "name": "Sandbox Admin",
        "githubLogin": "admin",
        "avatarUrl": "https://api.pulumi.com/static/avatars/admin.png",
        "email": "admin@example.com",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", deployment["created"])
    assert deployment["configuration"]["source"] == {"git": {"repoURL": REPO, "branch": "refs/heads/main"}}
    by_version = (await api.get(f"{api.st()}/version/1")).body
    assert by_version["id"] == created["id"]


async def test_requested_by_follows_the_token(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    reply = await api.post(api.st(), {"operation": "update"}, token="member")
    deployment = await api.deployment(reply.body["id"])
    assert deployment["requestedBy"]["githubLogin"] == "member"


async def test_configuration_lists_variables_with_secrets_hidden(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    env = {"REGION": "eu-west-1", "TOKEN": {"secret": "t0k3n"}}
    await pulumi_sandbox.create_stacks("web/dev", settings={"sourceContext": {"git": {"repoUrl": REPO}}})
    await api.post(f"{api.st()}/settings", {"operationContext": {"environmentVariables": env}})
    created = await api.create()
    variables = _variables(await api.deployment(created["id"]))
    assert variables["REGION"] == {"name": "REGION", "value": "eu-west-1", "secret": False}
    assert variables["TOKEN"] == {"name": "TOKEN", "secret": True}
    assert variables["PULUMI_CI_BUILD_ID"]["value"] == created["id"]
    assert variables["PULUMI_CI_BUILD_NUMBER"]["value"] == "1"
    assert variables["PULUMI_CI_SYSTEM"]["value"] == "Pulumi Deploy"
    assert variables["PULUMI_ACCESS_TOKEN"] == {"name": "PULUMI_ACCESS_TOKEN", "secret": True}
    assert variables["PULUMI_BACKEND_URL"]["value"] == pulumi_sandbox.url + "/"


async def test_inherit_merges_request_over_stack_settings(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await api.post(f"{api.st()}/settings", {"operationContext": {"environmentVariables": {"A": "1", "B": "2"}}})
    body = {"operation": "update", "operationContext": {"environmentVariables": {"B": "two", "A": None, "C": "3"}}}
    inherited = _variables(await api.deployment((await api.create(body=body))["id"]))
    assert {name: item.get("value") for name, item in inherited.items() if len(name) == 1} == {"B": "two", "C": "3"}
    explicit_true = await api.create(body={**body, "inheritSettings": True})
    assert "C" in _variables(await api.deployment(explicit_true["id"]))
    # inheritSettings false: the request alone, so without a source it cannot run.
    alone = await api.post(api.st(), {**body, "inheritSettings": False})
    assert alone.status == 400
    assert "no source" in alone.body["message"]
    with_source = {**body, "inheritSettings": False, "sourceContext": {"git": {"repoUrl": "https://x.test/r.git"}}}
    only_request = await api.deployment((await api.create(body=with_source))["id"])
    assert {name for name in _variables(only_request) if len(name) == 1} == {"B", "C"}
    assert only_request["configuration"]["source"]["git"] == {"repoURL": "https://x.test/r.git"}
    assert only_request["inheritSettings"] is False


async def test_a_stack_without_settings_needs_a_source_in_the_request(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev", with_settings=False)
    refused = await api.post(api.st(), {"operation": "update"})
    assert refused.status == 400
    assert "sourceContext.git.repoUrl" in refused.body["message"]
    ok = await api.post(api.st(), {"operation": "update", "sourceContext": {"git": {"repoURL": REPO}}})
    assert ok.status == 202


async def test_branch_resolution_push_and_pinned_commits(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    initial = await pulumi_sandbox.head(REPO, "main")
    assert initial == await pulumi_sandbox.head(REPO.removesuffix(".git"), "refs/heads/main")
    assert re.fullmatch(r"[0-9a-f]{40}", initial)
    first = await api.create()
    await pulumi_sandbox.run_until_idle()
    pushed = await pulumi_sandbox.push(REPO, "main")
    assert pushed != initial
    assert await pulumi_sandbox.head(REPO, "refs/heads/main") == pushed
    second = await api.create()
    pinned = await api.create(
        body={"operation": "update", "sourceContext": {"git": {"branch": None, "commit": initial}}}
    )
    await pulumi_sandbox.run_until_idle()
    commits = []
    for created in (first, second, pinned):
        deployment = await api.deployment(created["id"])
        assert deployment["status"] == "succeeded"
        commits.append(deployment["configuration"]["source"]["git"]["commit"])
        update = (await api.get(f"{api.st()}/{created['id']}/updates")).body[0]
        assert update["info"]["environment"]["git.head"] == commits[-1]
    assert commits == [initial, pushed, initial]
    assert "branch" not in (await api.deployment(pinned["id"]))["configuration"]["source"]["git"]
    env = (await api.get(f"{api.st()}/{first['id']}/updates")).body[0]["info"]["environment"]
    assert env["git.headName"] == "refs/heads/main"


async def test_an_explicit_push_commit_and_an_unknown_commit(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    chosen = "c0ffee" + "0" * 34
    assert await pulumi_sandbox.push(REPO, "refs/heads/release", chosen) == chosen
    on_release = await api.create(body={"operation": "update", "sourceContext": {"git": {"branch": "release"}}})
    unknown = await api.create(
        body={"operation": "update", "sourceContext": {"git": {"branch": None, "commit": "d" * 40}}}
    )
    await pulumi_sandbox.run_until_idle()
    assert (await api.deployment(on_release["id"]))["configuration"]["source"]["git"]["commit"] == chosen
    failed = await api.deployment(unknown["id"])
    assert failed["status"] == "failed"
    source = next(step for step in failed["jobs"][0]["steps"] if step["name"] == "Get source")
    assert source["status"] == "failed"
    logs = (await api.get(f"{api.st()}/{unknown['id']}/logs")).body["lines"]
    assert any("reference is not a tree" in line.get("line", "") for line in logs)
