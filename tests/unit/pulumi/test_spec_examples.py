"""Every JSON example in the seed API doc parses into our models, matched to its model by the section heading."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from bot.pulumi import merge_settings, normalize_settings
from bot.pulumi.models import (
    AnyDeploymentLogs,
    CreateDeploymentRequest,
    Deployment,
    DeploymentLogs,
    DeploymentPage,
    DeploymentSettings,
    DeploymentStepLogs,
    ExecutorContext,
    GitHubSettings,
    JobStatus,
    OperationContext,
    OrgDeploymentsMetadata,
    SettingsFields,
    SourceContext,
    StackDeploymentsMetadata,
)
from tests.unit.pulumi.seed_doc import SHARED_SPEC, SPEC, Example, by_heading, cleaned, examples

# Which model each example is: among the entries whose headings all appear above it, the one whose heading is
# nearest (e.g. a "Response" under "Organization metadata request" that follows "Stack metadata request").
MODELS: list[tuple[tuple[str, ...], str, Any]] = [
    (("Patch Settings",), "curl", SettingsFields),
    (("Create Deployment",), "curl", CreateDeploymentRequest),
    (("Get Settings",), "json", DeploymentSettings),
    (("Patch Settings",), "json", DeploymentSettings),
    (("Get Deployment Logs", "Streaming logs"), "json", DeploymentLogs),
    (("Get Deployment Logs", "Step logs"), "json", DeploymentStepLogs),
    (("Get Deployment",), "json", Deployment),
    (("List Stack Deployments",), "json", DeploymentPage),
    (("List Organization Deployments",), "json", DeploymentPage),
    (("Get Deployments Metadata", "Stack metadata request"), "json", StackDeploymentsMetadata),
    (("Get Deployments Metadata", "Organization metadata request"), "json", OrgDeploymentsMetadata),
    (("Schema Definitions", "ExecutorContext"), "json", ExecutorContext),
    (("Schema Definitions", "SourceContext"), "json", SourceContext),
    (("Schema Definitions", "OperationContext"), "json", OperationContext),
    (("Schema Definitions", "GitHub"), "json", GitHubSettings),
    # The doc wraps this one in an extra "cacheOptions" key, so it reads as (part of) a settings document.
    (("Schema Definitions", "CacheOptions"), "json", DeploymentSettings),
]


def model_for(example: Example) -> Any:
    candidates = [
        (max(example.heading.index(word) for word in words), model)
        for words, kind, model in MODELS
        if kind == example.kind and all(word in example.heading for word in words)
    ]
    if not candidates:
        raise AssertionError(f"no model is mapped for the {example.kind} example under {example.where}")
    return max(candidates, key=lambda candidate: candidate[0])[1]


def parse(example: Example) -> Any:
    model = model_for(example)
    raw = cleaned(example.text)
    if model in (DeploymentLogs, DeploymentStepLogs):
        # Through the union, as the client reads them: the doc's pages have no __type, so the keys must decide.
        parsed = TypeAdapter(AnyDeploymentLogs).validate_python(raw)
        assert isinstance(parsed, model), example.where
        return parsed
    return model.model_validate(raw)


def test_the_doc_has_the_examples_we_expect() -> None:
    found = examples()
    mapped = [model_for(example) for example in found]
    # Each documented body kind appears; the counts pin the doc version so a new example gets a conscious look.
    for model in {m for _, _, m in MODELS}:
        assert model in mapped, model.__name__
    assert len(found) == 20


@pytest.mark.parametrize("index", range(20))
def test_every_example_parses_into_its_model(index: int) -> None:
    found = examples()
    if index >= len(found):
        pytest.fail(f"the doc now has {len(found)} examples; update the count")
    example = found[index]
    parsed = parse(example)
    # Writing the parsed value back and reading it again gives the same value: nothing was half-understood.
    again = type(parsed).model_validate(parsed.model_dump(mode="json"))
    assert again == parsed, example.where


def test_get_settings_example_reads_its_repo_url_and_plain_env_vars() -> None:
    (example,) = by_heading("Get Settings")
    settings = parse(example)
    assert settings.source_context.git.repo_url == "https://github.com/pulumi/deploy-demos.git"
    env = settings.operation_context.environment_variables
    assert env["AWS_REGION"].reveal() == "us-west-2"
    assert not env["AWS_REGION"].is_secret
    # Written back, it is the same document with repoURL spelled as the service spells it.
    assert settings.to_wire() == normalize_settings(cleaned(example.text))
    assert "repoUrl" in settings.to_wire()["sourceContext"]["git"]


def test_the_patch_example_gives_the_docs_result() -> None:
    current, result = by_heading("Patch Settings")
    (patch,) = by_heading("Patch Settings", kind="curl")
    merged = merge_settings(cleaned(current.text), cleaned(patch.text))
    assert merged == cleaned(result.text)
    # The merged document is valid settings, and the patch as a model sends exactly the doc's patch.
    DeploymentSettings.model_validate(merged)
    assert parse(patch).to_wire() == normalize_settings(cleaned(patch.text))


def test_get_deployment_example_details() -> None:
    (example,) = by_heading("Get Deployment")
    deployment = parse(example)
    assert deployment.status is JobStatus.RUNNING
    steps = deployment.jobs[0].steps
    assert [step.started is None for step in steps] == [False, False, True, True, True]
    assert deployment.configuration.source.git.repo_url == "https://github.com/pulumi/examples.git"
    secret_names = {var.name for var in deployment.configuration.environment_variables if var.secret}
    assert "AWS_SECRET_ACCESS_KEY" in secret_names


def test_list_example_has_nanosecond_times_and_nested_updates() -> None:
    example = by_heading("List Stack Deployments")[0]
    page = parse(example)
    assert page.items_per_page == 5
    assert page.total == 67
    first = page.deployments[0]
    assert first.updates[0].update_id == "df60a4c7-69dc-426d-8987-39e8544fe983"
    assert first.jobs[0].started is not None
    assert first.jobs[0].started.microsecond == 644409


def test_the_copy_of_the_seed_doc_is_the_shared_one() -> None:
    if not SHARED_SPEC.exists():
        pytest.skip("the shared workspace is not next to this clone; the copy in tests/payloads is used as is")
    assert SPEC.read_bytes() == SHARED_SPEC.read_bytes()
