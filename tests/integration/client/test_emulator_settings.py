"""Settings through our client against the Pulumi emulator: the spec's merge example, replace, clear, secrets."""

from __future__ import annotations

import pytest

from bot.errors import BadRequest, NotFound
from bot.pulumi import (
    PulumiClient,
    SecretValue,
    SettingsFields,
    StackRef,
    merge_settings,
    normalize_settings,
)
from tests.pulumi_sandbox import PulumiSandbox
from tests.unit.pulumi.seed_doc import by_heading, cleaned

STACK = StackRef("acme", "web", "dev")
PLAINTEXT = "s3cr3t-value-never-in-clear"
PASSWORD = "git-password-never-in-clear"


async def test_the_spec_merge_example_round_trips(pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient) -> None:
    current_doc, result_doc = by_heading("Patch Settings")
    (patch_doc,) = by_heading("Patch Settings", kind="curl")
    current, patch, expected = cleaned(current_doc.text), cleaned(patch_doc.text), cleaned(result_doc.text)
    await pulumi_sandbox.create_stacks("web/dev", settings=current)

    stored = await pulumi.get_settings(STACK)
    assert stored.to_wire() == normalize_settings(current)
    merged = await pulumi.patch_settings(STACK, SettingsFields.model_validate(patch))
    # The service's answer, our model of it, and our own merge all agree with the doc's result.
    assert merged.to_wire() == expected
    assert merge_settings(stored.to_wire(), patch) == expected
    assert (await pulumi.get_settings(STACK)) == merged
    # The same patch again changes nothing (why a retried patch is safe).
    assert (await pulumi.patch_settings(STACK, SettingsFields.model_validate(patch))) == merged


async def test_replace_then_clear(pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    replacement = SettingsFields.model_validate(
        {
            "sourceContext": {"git": {"repoURL": "https://github.com/acme/other.git", "branch": "refs/heads/release"}},
            "executorContext": {"executorImage": "pulumi/pulumi-python:latest"},
            "cacheOptions": {"enable": True},
        }
    )
    replaced = await pulumi.replace_settings(STACK, replacement)
    assert replaced.to_wire() == {
        "sourceContext": {"git": {"repoUrl": "https://github.com/acme/other.git", "branch": "refs/heads/release"}},
        "executorContext": {"executorImage": {"reference": "pulumi/pulumi-python:latest"}},
        "cacheOptions": {"enable": True},
    }  # replaced whole: the default settings' other parts are gone
    assert (await pulumi.get_settings(STACK)).to_wire() == replaced.to_wire()

    await pulumi.clear_settings(STACK)
    with pytest.raises(NotFound) as caught:
        await pulumi.get_settings(STACK)
    assert caught.value.resource == "settings"
    await pulumi.clear_settings(STACK)  # clearing what is already clear is fine


async def test_secrets_are_stored_as_ciphertext_and_sent_back_as_ciphertext(
    pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient
) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    encrypted = await pulumi.encrypt_secret(STACK, PLAINTEXT)
    assert encrypted.is_secret
    assert encrypted.ciphertext
    assert encrypted.reveal() is None
    patch = SettingsFields.model_validate(
        {
            "operationContext": {"environmentVariables": {"API_TOKEN": encrypted.to_wire(), "REGION": "eu-west-1"}},
            "sourceContext": {"git": {"gitAuth": {"basicAuth": {"userName": "bot", "password": {"secret": PASSWORD}}}}},
        }
    )
    settings = await pulumi.patch_settings(STACK, patch)
    assert settings.operation_context is not None
    env = settings.operation_context.environment_variables
    assert env is not None
    assert env["API_TOKEN"] == encrypted
    assert env["REGION"] == SecretValue.plain("eu-west-1")
    assert settings.source_context is not None
    assert settings.source_context.git is not None
    assert settings.source_context.git.git_auth is not None
    basic = settings.source_context.git.git_auth.basic_auth
    assert basic is not None
    assert basic.password is not None
    assert basic.password.is_secret
    assert basic.password.ciphertext
    assert basic.password.reveal() is None

    # Read, then written back unchanged: the ciphertexts are accepted as they are and nothing is lost.
    assert (await pulumi.replace_settings(STACK, settings)) == settings
    requests = await pulumi_sandbox.requests()
    assert requests
    assert all(PLAINTEXT not in str(entry) and PASSWORD not in str(entry) for entry in requests)


async def test_a_ciphertext_from_another_stack_is_refused(pulumi_sandbox: PulumiSandbox, pulumi: PulumiClient) -> None:
    await pulumi_sandbox.create_stacks("web/dev", "web/prod")
    foreign = await pulumi.encrypt_secret(StackRef("acme", "web", "prod"), PLAINTEXT)
    patch = SettingsFields.model_validate({"operationContext": {"environmentVariables": {"T": foreign.to_wire()}}})
    with pytest.raises(BadRequest, match="Pulumi refused the request"):
        await pulumi.patch_settings(STACK, patch)


async def test_settings_of_a_missing_stack_say_stack(pulumi: PulumiClient) -> None:
    with pytest.raises(NotFound) as caught:
        await pulumi.get_settings(StackRef("acme", "nope", "dev"))
    assert caught.value.resource == "stack"
