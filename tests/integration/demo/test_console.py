"""The demo console in-process against the real demo (fake Slack, Pulumi emulator and bot over HTTP, the test Redis):
scripts of console inputs, asserted on what the console printed and on what reached the emulator."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.demo.console import Console, Outcome
from bot.demo.control import Sandboxes
from bot.demo.feed import Feed
from bot.demo.people import People
from bot.demo.render import Renderer
from bot.demo.runner import Demo, DemoOptions, running_demo
from bot.demo.script import ScriptLines
from bot.demo.terminal import Screen

# The emulator's own clock never moves in these tests (a step takes ten minutes): `tick` drives every transition.
STILL = 600.0

Run = Callable[..., Coroutine[Any, Any, tuple[Outcome, str]]]


@pytest.fixture
async def demo(tmp_path: Path, redis_url: str, redis: object, request: pytest.FixtureRequest) -> AsyncIterator[Demo]:
    """The whole demo on the test Redis; ``@pytest.mark.policy(toml)`` gives it an approval policy."""
    marker = request.node.get_closest_marker("policy")
    policy = None
    if marker is not None:
        policy = tmp_path / "policy.toml"
        policy.write_text(marker.args[0])
    async with running_demo(DemoOptions(tmp_path / "state", STILL, redis_url=redis_url, policy=policy)) as running:
        yield running


@pytest.fixture
async def session(demo: Demo) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def run(demo: Demo, session: aiohttp.ClientSession, tmp_path: Path) -> Run:
    """Run a script through a fresh console (as `deploybot demo --script` does); returns its outcome and output."""

    async def run_script(script: str, *, stop_on_failure: bool = True, patience: float = 10.0) -> tuple[Outcome, str]:
        path = tmp_path / "script.txt"
        path.write_text(script)
        out = io.StringIO()
        screen = Screen(out, redraw=False)
        sandboxes = Sandboxes(session, demo.slack_url, demo.pulumi_url)
        people = People(await sandboxes.workspace())
        feed = Feed(sandboxes, Renderer(people.names), "C_DEPLOYS", "U_CARA", screen.write)
        console = Console(sandboxes, feed, people, screen, ScriptLines(path, screen), patience=patience)
        outcome = await console.run(stop_on_failure=stop_on_failure)
        return outcome, out.getvalue()

    return run_script


async def pulumi_calls(demo: Demo, session: aiohttp.ClientSession, method: str, path_end: str) -> list[dict[str, Any]]:
    """What reached the emulator's API (its request log, read over HTTP)."""
    async with session.get(demo.pulumi_url + "/_sandbox/requests") as response:
        calls = (await response.json())["requests"]
    return [c for c in calls if c["method"] == method and c["path"].endswith(path_end)]


async def test_a_denial_with_a_reason_typed_into_the_modal(
    run: Run, demo: Demo, session: aiohttp.ClientSession
) -> None:
    outcome, out = await run(
        "/deploy update web/dev\n"
        "as ben\n"
        "click deny\n"
        "submit not on a Friday\n"
        "expect Denied by @ben: not on a Friday\n"
        "as cara\n"
        "expect Your request to run update `acme/web/dev`: ✗ Denied by @ben: not on a Friday\n"
        "show\n"
        "thread 1\n"
    )
    assert outcome.ok, out
    assert "[modal for ben]" in out
    assert "[modal for ben closed]" in out
    assert "💬 1 reply — `thread 1`" in out
    assert "    ↳ deploybot" in out
    assert await pulumi_calls(demo, session, "POST", "/deployments") == []


@pytest.mark.policy("[defaults]\nconfirm_destroy = true\n")
async def test_a_destroy_waits_for_the_stack_name_typed_exactly(
    run: Run, demo: Demo, session: aiohttp.ClientSession
) -> None:
    outcome, out = await run(
        "/deploy destroy web/dev\n"
        "as ben\n"
        "click approve\n"
        "submit web/dev\n"
        "expect Type acme/web/dev exactly\n"
        "submit acme/web/dev\n"
        "expect approved by @ben\n"
    )
    assert outcome.ok, out
    assert "⚠ Type acme/web/dev exactly" in out
    [create] = await pulumi_calls(demo, session, "POST", "/deployments")
    assert create["body"]["operation"] == "destroy"


async def test_a_confirm_dialog_asks_first_and_tick_moves_the_deployment(
    run: Run, demo: Demo, session: aiohttp.ClientSession
) -> None:
    outcome, out = await run(
        "/deploy update web/dev\n"
        "as ben\n"
        "click 1\n"
        "expect approved by @ben\n"
        "click cancel\n"
        "n\n"
        "tick 2\n"
        "expect ⟳ running\n"
        "click Cancel\n"
        "yes\n"
        "expect @ben cancelled update `acme/web/dev` #1\n"
    )
    assert outcome.ok, out
    assert "┌ Cancel this deployment?" in out
    assert "Not clicked (Keep running)." in out
    assert "The Pulumi emulator moved 2 steps." in out
    assert "[msg 1 updated]" in out  # the request's message became the deployment's, reprinted as it changed
    assert len(await pulumi_calls(demo, session, "POST", "/cancel")) == 1


async def test_someone_elses_private_buttons_are_theirs_to_press(run: Run) -> None:
    outcome, out = await run(
        "/deploy settings clear web/dev\nexpect Clear all deployment settings\nas ben\nclick Keep\n"
    )
    assert not outcome.ok
    assert outcome.message == "✗ that button is on cara's private message: `as cara` to press it"
    outcome, out = await run("/deploy settings clear web/dev\nexpect [2 Keep]\nclick 2\n")
    assert outcome.ok, out


async def test_every_mistake_gets_a_sentence(run: Run) -> None:
    lines = {
        "hello": "✗ unknown command 'hello' — (`help` lists them)",
        "deploy list web/dev": "✗ unknown command 'deploy' — did you mean `/deploy list web/dev`?",
        "/foo bar": "✗ only /deploy is installed in this workspace, not /foo",
        "as nobody": "✗ nobody called 'nobody' here; people: ana (admin), ben, cara, dan",
        "click": "✗ click which button? e.g. `click 1` or `click approve`",
        "click 42": "✗ no button '42' is on screen; buttons show as [N Label] in the messages",
        "submit anything": "✗ cara has no modal open (a button such as Deny opens one)",
        "tick many": "✗ tick takes a number of steps from 1 to 1000, e.g. `tick 3`",
        "tick 0": "✗ tick takes a number of steps from 1 to 1000, e.g. `tick 3`",
        "wait forever": "✗ wait takes seconds from 0 to 600, e.g. `wait 5`",
        "thread 7": "✗ no msg '7': messages are numbered [msg N] as they are shown",
        "expect": "✗ expect what? e.g. `expect succeeded`",
        "expect words nobody wrote": "✗ expected to see 'words nobody wrote' within 0.3 s, but it did not appear",
    }
    outcome, out = await run("\n".join(lines) + "\nhelp\n", stop_on_failure=False, patience=0.3)
    assert outcome.ok
    for line, answer in lines.items():
        assert f"cara> {line}\n{answer}\n" in out
    assert "People: ana (admin), ben, cara, dan" in out
    assert "Traceback" not in out


async def test_a_script_stops_at_its_first_failure(run: Run) -> None:
    outcome, out = await run("as nobody\n/deploy update web/dev\n")
    assert outcome.message == "✗ nobody called 'nobody' here; people: ana (admin), ben, cara, dan"
    assert "/deploy update" not in out
