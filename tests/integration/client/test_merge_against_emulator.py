"""Differential test: our settings merge and the emulator's (an independent implementation of Pulumi's side) give
the same settings for generated documents and patches. Secrets are left out here: the service turns them into
ciphertext, so their forms differ by design (unit tests cover secret leaves; other tests here cover the round trip).
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.pulumi import PulumiClient, RetryPolicy, SettingsFields, StackRef, merge_settings
from tests.pulumi_sandbox import start_pulumi_sandbox

STACK = StackRef("acme", "web", "dev")
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
repo_urls = words.map(lambda word: f"https://github.com/acme/{word}.git")
names = st.from_regex(r"[A-Z][A-Z0-9_]{0,5}", fullmatch=True)


def obj(nullable: bool, **optional: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    maybe = {key: st.one_of(st.none(), value) if nullable else value for key, value in optional.items()}
    return st.fixed_dictionaries({}, optional=maybe)


def documents(nullable: bool) -> st.SearchStrategy[dict[str, Any]]:
    def value(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(st.none(), strategy) if nullable else strategy

    # Objects with required keys are generated whole, since Pulumi refuses settings that end up without them.
    aws = st.fixed_dictionaries({"roleArn": words, "sessionName": words})
    image = st.fixed_dictionaries({"reference": words})
    return obj(
        nullable,
        sourceContext=obj(
            nullable,
            git=obj(
                nullable, repoUrl=words.map(lambda w: f"https://github.com/acme/{w}.git"), branch=words, repoDir=words
            ),
        ),
        operationContext=obj(
            nullable,
            environmentVariables=st.dictionaries(names, value(words), max_size=3),
            preRunCommands=st.lists(words, max_size=2),
            options=obj(nullable, skipInstallDependencies=st.booleans(), shell=words),
            oidc=obj(nullable, aws=aws),
        ),
        gitHub=obj(nullable, repository=words, deployCommits=st.booleans(), paths=st.lists(words, max_size=2)),
        cacheOptions=st.fixed_dictionaries({"enable": st.booleans()}),
        executorContext=obj(nullable, executorImage=image),
    )


async def both_merges(current: dict[str, Any], patch: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    async with start_pulumi_sandbox() as sandbox:
        await sandbox.create_stacks("web/dev", settings=current)
        async with PulumiClient(
            SecretStr(sandbox.token), base_url=sandbox.url, retry=RetryPolicy(attempts=1)
        ) as pulumi:
            stored = (await pulumi.get_settings(STACK)).to_wire()
            served = (await pulumi.patch_settings(STACK, SettingsFields.model_validate(patch))).to_wire()
    return served, merge_settings(stored, patch)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(nullable=False), documents(nullable=True))
def test_our_merge_matches_the_emulators(current: dict[str, Any], patch: dict[str, Any]) -> None:
    served, ours = asyncio.run(both_merges(current, patch))
    assert served == ours
