"""The clock (manual and automatic) and the /_sandbox/ control API: stacks, git, concurrency, events, reset."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from bot.sandbox.pulumi.config import EmulatorConfig
from bot.sandbox.pulumi.emulator import Emulator
from bot.sandbox.pulumi.state import Deployment
from tests.integration.sandbox.conftest import Api
from tests.pulumi_sandbox import PulumiSandbox, SandboxError, start_pulumi_sandbox


async def _wait_for(condition: Callable[[], Awaitable[bool]]) -> None:
    """Poll a condition until it holds; a deadline, not a fixed sleep, bounds the wait."""
    async with asyncio.timeout(10):
        while not await condition():  # noqa: ASYNC110 - the state lives in another server: poll it
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("phases", [1, 3])
async def test_the_automatic_clock_runs_deployments(phases: int) -> None:
    clocked = start_pulumi_sandbox(manual_clock=False, step_seconds=0.01 * phases, phases=phases)
    async with clocked as sandbox, aiohttp.ClientSession() as s:
        await sandbox.create_stacks("web/dev")
        url = f"{sandbox.url}/api/stacks/acme/web/dev/deployments"
        async with s.post(url, json={"operation": "update"}, headers=sandbox.headers()) as resp:
            created = await resp.json()

        async def succeeded() -> bool:
            async with s.get(f"{url}/{created['id']}", headers=sandbox.headers()) as resp:
                return bool((await resp.json())["status"] == "succeeded")

        await _wait_for(succeeded)
        clock = await sandbox.clock()
        assert clock["manual"] is False
        assert clock["phases"] == phases
        assert clock["ticks"] >= 6 * phases
        await sandbox.set_step_seconds(60)
        assert (await sandbox.clock())["stepSeconds"] == 60


def test_phases_spread_transitions_over_a_step_and_keep_each_deployment_at_one_step_a_step() -> None:
    """With phases, a tick moves only the deployments of its phase: every deployment changes on every 3rd tick, its
    own, and the deployments between them use every phase, so their transitions no longer land on one tick."""
    emulator = Emulator(EmulatorConfig(admin_tokens=("t",), demo_org=False, concurrency=100, phases=3))
    user = next(iter(emulator.users.values()))
    made = [
        emulator.engine.create(stack, "update", stack.settings or {}, user, fail_step=None, backend_url="http://e/")
        for stack in emulator.add_stacks([f"acme/p{n}/dev" for n in range(6)])
    ]

    def state(deployment: Deployment) -> tuple[object, ...]:
        return deployment.status, deployment.current, tuple(step.status for step in deployment.steps)

    changed_on: dict[str, list[int]] = {d.id: [] for d in made}
    for tick in range(3 * 12):
        before = {d.id: state(d) for d in made}
        emulator.engine.tick(tick % 3, 3)
        for d in made:
            if state(d) != before[d.id]:
                changed_on[d.id].append(tick)
    assert {d.status for d in made} == {"succeeded"}
    for d in made:
        ticks = changed_on[d.id]
        assert {t % 3 for t in ticks} == {d.seq % 3}
        assert all(later - earlier == 3 for earlier, later in itertools.pairwise(ticks))
    assert {d.seq % 3 for d in made} == {0, 1, 2}
    # Every deployment made the same transitions, whichever its phase.
    assert len({len(ticks) for ticks in changed_on.values()}) == 1


async def test_the_manual_clock_only_moves_when_told(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    created = await api.create()
    assert (await api.deployment(created["id"]))["status"] == "not-started"
    assert (await pulumi_sandbox.clock())["ticks"] == 0
    assert (await pulumi_sandbox.advance(2)) == {"ticks": 2, "idle": False, "totalTicks": 2}
    finished = await pulumi_sandbox.run_until_idle()
    assert finished["idle"] is True
    assert (await api.deployment(created["id"]))["status"] == "succeeded"


async def test_creating_stacks(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    settings = {"sourceContext": {"git": {"repoUrl": "https://gitlab.example/g/r.git", "branch": "dev"}}}
    created = await pulumi_sandbox.create_stacks("web/a", "beta/web/b", settings=settings)
    assert created == ["acme/web/a", "beta/web/b"]
    assert (await api.get(f"{api.st('web/a')}/settings")).body == settings
    assert (await api.get("/api/stacks/beta/web/b/deployments/settings")).status == 200
    with pytest.raises(SandboxError) as taken:
        await pulumi_sandbox.create_stacks("web/c", "web/a")
    assert taken.value.status == 409
    assert (await api.get(api.st("web/c"))).status == 404  # nothing was created
    for bad in ("no-slashes", "a/b/c/d", "acme/we b/x"):
        with pytest.raises(SandboxError) as refused:
            await pulumi_sandbox.create_stacks(bad)
        assert refused.value.status == 400
    with pytest.raises(SandboxError):
        await pulumi_sandbox.create_stacks("web/d", settings={"sourceContext": {"git": {"nope": 1}}})


async def test_git_and_concurrency_validation(pulumi_sandbox: PulumiSandbox) -> None:
    with pytest.raises(SandboxError) as bad_commit:
        await pulumi_sandbox.push("https://github.com/acme/web.git", "main", "xyz")
    assert bad_commit.value.status == 400
    with pytest.raises(SandboxError):
        await pulumi_sandbox.set_concurrency("acme", 0)
    await pulumi_sandbox.set_concurrency("neworg", 3)  # creates the org


async def test_events_since_and_reset(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await api.create()
    first = await pulumi_sandbox.events()
    assert [event["seq"] for event in first] == [1]
    await pulumi_sandbox.run_until_idle()
    later = await pulumi_sandbox.events(since=1)
    assert later[0]["seq"] == 2
    assert all(event["atNs"] >= first[0]["atNs"] for event in later)
    await pulumi_sandbox.push("https://github.com/acme/web.git", "main")
    await pulumi_sandbox.add_fault(status=500, path="/never")
    await pulumi_sandbox.reset()
    assert await pulumi_sandbox.events() == []
    assert await pulumi_sandbox.faults() == []
    assert (await api.get(api.st())).status == 404  # back to the configured start: no stacks
    assert (await api.get("/api/orgs/acme/deployments")).status == 200
    head = await pulumi_sandbox.head("https://github.com/acme/web.git")
    assert head == await pulumi_sandbox.head("https://github.com/acme/web.git", "main")


async def test_the_demo_org_is_seeded_without_stacks() -> None:
    async with start_pulumi_sandbox(demo_org=True, orgs=()) as sandbox, aiohttp.ClientSession() as s:
        async with s.get(f"{sandbox.url}/_sandbox/stacks") as resp:
            stacks = [item["stack"] for item in (await resp.json())["stacks"]]
        assert stacks == ["acme/web/dev", "acme/web/staging", "acme/web/prod", "acme/api/dev", "acme/api/prod"]
        async with s.get(
            f"{sandbox.url}/api/stacks/acme/web/prod/deployments/settings", headers=sandbox.headers()
        ) as r:
            prod = await r.json()
        assert "aws" in prod["operationContext"]["oidc"]
        assert prod["operationContext"]["environmentVariables"]["SENTRY_DSN"]["secret"] == "[secret]"
        assert prod["operationContext"]["preRunCommands"]
