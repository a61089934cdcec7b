"""Query answers: list pages with paging buttons, metadata in words, settings and logs without secrets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bot.pulumi.models import (
    Deployment,
    DeploymentPage,
    DeploymentSettings,
    OrgDeploymentsMetadata,
    StackDeploymentsMetadata,
)
from bot.pulumi.stack import StackRef
from bot.render.query import (
    list_message,
    logs_message,
    org_metadata_message,
    settings_message,
    stack_metadata_message,
)

PAYLOADS = Path(__file__).parents[2] / "payloads" / "pulumi"
STACK = StackRef("acme", "web", "dev")
NOW = datetime(2022, 10, 17, 22, 20, 0, tzinfo=UTC)


def page_of(count: int, total: int, per_page: int) -> DeploymentPage:
    base = json.loads((PAYLOADS / "deployment_running.json").read_text())
    items = [dict(base, version=v, projectName="web", stackName="dev") for v in range(total, total - count, -1)]
    return DeploymentPage.model_validate({"deployments": items, "itemsPerPage": per_page, "total": total})


def text_of(blocks: list[dict[str, object]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_a_middle_page_offers_both_directions_with_ids_only() -> None:
    message = list_message(page_of(5, 23, 5), "acme/web/dev", 2, NOW, with_stack=False, view_id="v1")
    text = text_of(message.block_dicts())
    assert "page 2 of 5 (23 in all)" in text
    assert "#23" in text
    assert '"value": "v1:1"' in text
    assert '"value": "v1:3"' in text


def test_first_and_last_pages_offer_one_direction() -> None:
    first = text_of(list_message(page_of(5, 23, 5), "t", 1, NOW, with_stack=True, view_id="v").block_dicts())
    last = text_of(list_message(page_of(3, 23, 5), "t", 5, NOW, with_stack=True, view_id="v").block_dicts())
    assert "list.next" in first
    assert "list.previous" not in first
    assert "list.previous" in last
    assert "list.next" not in last
    assert "web/dev" in first


@given(st.integers(min_value=1, max_value=100))
def test_a_full_page_of_a_hundred_fits(count: int) -> None:
    message = list_message(page_of(count, 1000, 100), "acme", 1, NOW, with_stack=True, view_id="v")
    blocks = message.block_dicts()
    assert len(blocks) <= 50
    assert text_of(blocks).count("#") >= count


def test_metadata_in_words() -> None:
    stack = StackDeploymentsMetadata.model_validate({"paused": True, "stackPaused": False, "organizationPaused": True})
    assert "its organization is paused" in text_of(stack_metadata_message(STACK, stack).block_dicts())
    org = OrgDeploymentsMetadata.model_validate(
        {
            "paused": False,
            "concurrency": 1,
            "pausedStacks": ["aws-ts-s3-folder/dev"],
            "deploymentCounts": {"notStarted": 2, "succeeded": 5, "total": 7},
        }
    )
    text = text_of(org_metadata_message("acme", org).block_dicts())
    assert "Concurrency: 1" in text
    assert "Queued 2" in text
    assert "aws-ts-s3-folder/dev" in text


def test_settings_hide_secrets_and_their_ciphertext() -> None:
    settings = DeploymentSettings.model_validate(
        {
            "sourceContext": {"git": {"repoURL": "https://github.com/acme/web.git", "branch": "refs/heads/main"}},
            "operationContext": {
                "environmentVariables": {
                    "REGION": "us-west-2",
                    "TOKEN": {"secret": "[secret]", "ciphertext": "AAAAciphertextAAAA"},
                    "OTHER": {"secret": "plain-secret"},
                }
            },
        }
    )
    text = text_of(settings_message(STACK, settings).block_dicts())
    assert "us-west-2" in text
    assert "repoUrl" in text
    assert "AAAAciphertextAAAA" not in text
    assert "plain-secret" not in text
    assert text.count("🔒 hidden") == 2


def test_logs_keep_the_end_and_offer_more() -> None:
    message = logs_message("*Step 6*", [f"line {i}" for i in range(2000)], more=("v9", "100"))
    text = text_of(message.block_dicts())
    assert "line 1999" in text
    assert '"value": "v9:100"' in text


def test_list_rows_read_status_and_age() -> None:
    base = json.loads((PAYLOADS / "deployment_running.json").read_text())
    deployment = Deployment.model_validate(dict(base, status="failed"))
    page = DeploymentPage(deployments=[deployment], items_per_page=10, total=1)
    text = text_of(list_message(page, "acme/web/dev", 1, NOW, with_stack=False).block_dicts())
    assert "✗ failed" in text
    assert "7m 25s ago" in text
    assert "list.next" not in text
