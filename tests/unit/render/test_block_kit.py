"""Every message the bot renders passes Block Kit validation, checked by the fake Slack's own validator (written
from Slack's documented limits, independently of slack_sdk's models the renderers use), whatever the data."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.command import OrgTarget
from bot.errors import BadRequest
from bot.pulumi import Deployment, DeploymentPage, DeploymentSettings, OrgDeploymentsMetadata, StackRef
from bot.pulumi.models import StepStatus
from bot.render import announce
from bot.render.confirm import confirmation_message
from bot.render.deployment import deployment_message
from bot.render.errors import error_text
from bot.render.help import help_message
from bot.render.message import Message, text_message
from bot.render.progress import outcome_reply
from bot.render.query import list_message, logs_message, org_metadata_message, settings_message
from bot.sandbox.slack.blockkit import validate_blocks

BASE = json.loads((Path(__file__).parents[2] / "payloads" / "pulumi" / "deployment_running.json").read_text())
NOW = datetime(2022, 10, 17, 22, 20, tzinfo=UTC)
# Valid Pulumi names: "." and ".." are not (StackRef refuses them; hypothesis found that once in ~1,000 runs).
names = st.from_regex(r"[A-Za-z0-9_.-]{1,100}", fullmatch=True).filter(lambda name: name not in {".", ".."})
anything = st.text(max_size=4000)


def accepted(message: Message) -> None:
    blocks = message.block_dicts()
    problems = validate_blocks(blocks, "message")
    assert problems == [], problems
    assert len(message.payload()["text"]) <= 4000


@given(
    stack=st.builds(StackRef, names, names, names),
    step_names=st.lists(anything, min_size=1, max_size=120),
    env=st.dictionaries(anything, anything, max_size=40),
    message=anything,
    status=st.sampled_from(["running", "succeeded", "failed", "not-started", "skipped", "brand-new-status"]),
)
@settings(max_examples=60, deadline=None)
def test_deployment_messages(
    stack: StackRef, step_names: list[str], env: dict[str, str], message: str, status: str
) -> None:
    raw: dict[str, Any] = dict(BASE, status=status)
    step = BASE["jobs"][0]["steps"][0]
    raw["jobs"] = [dict(BASE["jobs"][0], steps=[dict(step, name=name) for name in step_names])]
    raw["configuration"] = {
        "environmentVariables": [{"name": k, "value": v, "secret": len(k) % 2 == 0} for k, v in env.items()],
        "source": {"git": {"repoURL": message[:3000], "branch": message[:200]}},
    }
    deployment = Deployment.model_validate(raw)
    accepted(
        deployment_message(
            deployment, stack, NOW, requester="U1", message=message, console_url="https://app.pulumi.com/x",
            with_configuration=True, buttons=True,
        )
    )  # fmt: skip
    finished = [(name, StepStatus.FAILED, 2.0) for name in step_names]
    for cancelled_by in (None, "U2"):
        accepted(
            outcome_reply(
                deployment, stack, took=12.0, requester="U1", cancelled_by=cancelled_by, log_tail=step_names,
                steps=finished,
            )
        )  # fmt: skip


@given(count=st.integers(0, 100), title=anything, page=st.integers(1, 10_000), who=anything)
@settings(max_examples=40, deadline=None)
def test_list_pages(count: int, title: str, page: int, who: str) -> None:
    items = [dict(BASE, version=v, projectName="p" * 100, stackName="s" * 100, requestedBy={"name": who})
             for v in range(count)]  # fmt: skip
    result = DeploymentPage.model_validate({"deployments": items, "itemsPerPage": 100, "total": 10**9})
    accepted(list_message(result, title, page, NOW, with_stack=True, view_id="v" * 16))


@given(lines=st.lists(anything, max_size=300), heading=anything, note=anything)
@settings(max_examples=40, deadline=None)
def test_logs(lines: list[str], heading: str, note: str) -> None:
    accepted(logs_message(heading[:2000], lines, note=note, more=("v" * 16, "123456")))


@given(values=st.dictionaries(anything, anything, max_size=60), paused=st.lists(anything, max_size=200))
@settings(max_examples=30, deadline=None)
def test_settings_metadata_and_announcements(values: dict[str, str], paused: list[str]) -> None:
    settings_doc = DeploymentSettings.model_validate({"operationContext": {"environmentVariables": values}})
    accepted(settings_message(StackRef("a", "b", "c"), settings_doc))
    meta = OrgDeploymentsMetadata.model_validate({"paused": True, "concurrency": 3, "pausedStacks": paused})
    accepted(org_metadata_message("a" * 100, meta))
    accepted(announce.settings_changed("U1", StackRef("a", "b", "c"), {"operationContext": {"x": values}}))
    accepted(announce.paused("U1", OrgTarget("o" * 100), resume=False))


def test_fixed_messages() -> None:
    accepted(help_message())
    for topic in ("update", "logs", "settings", "settings set"):
        accepted(help_message(topic))
    accepted(confirmation_message("q" * 5000, "w" * 5000, "c" * 16, confirm_label="Cancel deployment"))
    accepted(text_message(error_text(BadRequest(400, "x" * 10_000))))
