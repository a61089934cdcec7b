"""Deployment settings over HTTP: get/patch/replace/delete, the merge rules (incl. the seed doc's worked example),
every secret form, aliases and the shapes of executorImage, gitAuth, gitHub and cacheOptions."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.sandbox.conftest import Api
from tests.pulumi_sandbox import PulumiSandbox, SandboxError

# The seed doc's "Patch Settings" example (shared/spec/pulumi-deployments-api.md), copied verbatim except for
# the trailing comma after "repoURL": null, which makes the doc's JSON invalid.
SPEC_CURRENT: dict[str, Any] = {
    "sourceContext": {
        "git": {
            "repoURL": "https://github.com/pulumi/deploy-demos.git",
            "branch": "refs/heads/demo",
            "repoDir": "pulumi-programs/aws-ts-s3",
        }
    },
    "operationContext": {
        "preRunCommands": ['echo "hello world"'],
        "environmentVariables": {
            "AWS_REGION": "us-west-2",
            "AWS_ACCESS_KEY_ID": "$AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY": "$AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN": "$AWS_SESSION_TOKEN",
        },
    },
}
SPEC_PATCH: dict[str, Any] = {
    "sourceContext": {"git": {"repoURL": None}},
    "operationContext": {
        "preRunCommands": ['echo "bonjour"'],
        "environmentVariables": {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None},
        "oidc": {"aws": {"roleArn": "my-role-arn", "sessionName": "pulumi-deploy"}},
    },
    "gitHub": {"repository": "pulumi/deploy-demos"},
}
SPEC_RESULT: dict[str, Any] = {
    "sourceContext": {"git": {"branch": "refs/heads/demo", "repoDir": "pulumi-programs/aws-ts-s3"}},
    "operationContext": {
        "preRunCommands": ['echo "bonjour"'],
        "environmentVariables": {"AWS_REGION": "us-west-2"},
        "oidc": {"aws": {"roleArn": "my-role-arn", "sessionName": "pulumi-deploy"}},
    },
    "gitHub": {"repository": "pulumi/deploy-demos"},
}
GIT = {"repoUrl": "https://github.com/acme/web.git", "branch": "refs/heads/main"}


async def _settings(api: Api, stack: str = "web/dev") -> dict[str, Any]:
    reply = await api.get(f"{api.st(stack)}/settings")
    assert reply.status == 200, reply.text
    found: dict[str, Any] = reply.body
    return found


async def _put(api: Api, body: Any, stack: str = "web/dev") -> dict[str, Any]:
    reply = await api.call("PUT", f"{api.st(stack)}/settings", body)
    assert reply.status == 200, reply.text
    found: dict[str, Any] = reply.body
    return found


async def _patch(api: Api, body: Any, stack: str = "web/dev") -> dict[str, Any]:
    reply = await api.post(f"{api.st(stack)}/settings", body)
    assert reply.status == 200, reply.text
    found: dict[str, Any] = reply.body
    return found


async def test_the_seed_docs_worked_example(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev", with_settings=False)
    await _put(api, SPEC_CURRENT)
    assert await _patch(api, SPEC_PATCH) == SPEC_RESULT
    assert await _settings(api) == SPEC_RESULT


async def test_defaults_get_replace_delete(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    assert await _settings(api) == {"sourceContext": {"git": GIT}}
    replaced = await _put(api, {"sourceContext": {"git": {"repoUrl": "https://example.com/r.git"}}, "tag": None})
    assert replaced == {"sourceContext": {"git": {"repoUrl": "https://example.com/r.git"}}}
    deleted = await api.call("DELETE", f"{api.st()}/settings")
    assert (deleted.status, deleted.body) == (200, True)
    assert (await api.get(f"{api.st()}/settings")).status == 404
    assert (await api.call("DELETE", f"{api.st()}/settings")).body is True
    created = await _patch(api, {"operationContext": {"preRunCommands": ["make"]}})  # patching nothing creates
    assert created == {"operationContext": {"preRunCommands": ["make"]}}


async def test_merge_nulls_objects_and_arrays(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    await _patch(api, {"operationContext": {"preRunCommands": ["a", "b"], "options": {"shell": "bash"}}})
    merged = await _patch(
        api,
        {
            "sourceContext": {"git": {"repoDir": "infra", "branch": None}},
            "operationContext": {"preRunCommands": ["c"], "options": {"skipInstallDependencies": True}},
            "executorContext": {"executorImage": {"reference": "pulumi/pulumi-nodejs", "isDefault": None}},
        },
    )
    assert merged == {
        "sourceContext": {"git": {"repoUrl": GIT["repoUrl"], "repoDir": "infra"}},
        "operationContext": {"preRunCommands": ["c"], "options": {"shell": "bash", "skipInstallDependencies": True}},
        "executorContext": {"executorImage": {"reference": "pulumi/pulumi-nodejs"}},
    }
    assert (await _patch(api, {"operationContext": None}))["sourceContext"] == merged["sourceContext"]
    assert "operationContext" not in await _settings(api)


async def test_repo_url_alias_and_executor_image_forms(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev", with_settings=False)
    stored = await _put(
        api,
        {
            "sourceContext": {"git": {"repoURL": "https://github.com/acme/web.git"}},
            "executorContext": {"executorImage": "pulumi/pulumi-python:latest", "executorRootPath": "/work"},
        },
    )
    assert stored["sourceContext"] == {"git": {"repoUrl": "https://github.com/acme/web.git"}}
    assert stored["executorContext"] == {
        "executorImage": {"reference": "pulumi/pulumi-python:latest"},
        "executorRootPath": "/work",
    }
    with_credentials = await _patch(
        api,
        {
            "executorContext": {
                "executorImage": {
                    "reference": "registry.example/img:1",
                    "credentials": {"username": "bot", "password": {"secret": "hunter2"}},
                }
            }
        },
    )
    credentials = with_credentials["executorContext"]["executorImage"]["credentials"]
    assert credentials["username"] == "bot"
    assert credentials["password"]["secret"] == "[secret]"
    assert credentials["password"]["ciphertext"]
    missing_password = await api.call(
        "PUT",
        f"{api.st()}/settings",
        {"executorContext": {"executorImage": {"reference": "x", "credentials": {"username": "bot"}}}},
    )
    assert missing_password.status == 400
    assert "password" in missing_password.body["message"]


async def test_secret_forms_are_stored_sealed(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    encrypted = (await api.post(f"{api.st()}/settings/encrypt", {"secret": "from-encrypt"})).body
    assert encrypted["secret"] == "[secret]"
    stored = await _patch(
        api,
        {
            "operationContext": {
                "environmentVariables": {
                    "PLAIN": "visible",
                    "SEALED": {"secret": "s3cret"},
                    "FROM_ENCRYPT": {"ciphertext": encrypted["ciphertext"]},
                    "EXPLICIT_SECRET": {"isSecret": True, "value": "v9-secret"},
                    "EXPLICIT_PLAIN": {"isSecret": False, "value": "v9-plain"},
                    "SDK_STYLE": {"secret": "sdk", "plaintext": None, "ciphertext": None},
                }
            }
        },
    )
    variables = stored["operationContext"]["environmentVariables"]
    assert variables["PLAIN"] == "visible"
    assert variables["EXPLICIT_PLAIN"] == "v9-plain"
    for name in ("SEALED", "FROM_ENCRYPT", "EXPLICIT_SECRET", "SDK_STYLE"):
        assert set(variables[name]) == {"secret", "ciphertext"}
        assert variables[name]["secret"] == "[secret]"
    assert variables["FROM_ENCRYPT"]["ciphertext"] == encrypted["ciphertext"]
    # What a client read can be written back unchanged: echoed secrets keep their ciphertext.
    assert await _put(api, copy.deepcopy(stored)) == stored
    assert await _settings(api) == stored


async def test_a_secret_is_a_leaf_replaced_whole(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    first = await _patch(api, {"operationContext": {"environmentVariables": {"TOKEN": {"secret": "one"}}}})
    old = first["operationContext"]["environmentVariables"]["TOKEN"]
    second = await _patch(api, {"operationContext": {"environmentVariables": {"TOKEN": {"secret": "two"}}}})
    new = second["operationContext"]["environmentVariables"]["TOKEN"]
    assert set(new) == {"secret", "ciphertext"}
    assert new["ciphertext"] != old["ciphertext"]
    plain = await _patch(api, {"operationContext": {"environmentVariables": {"TOKEN": "now-plain"}}})
    assert plain["operationContext"]["environmentVariables"]["TOKEN"] == "now-plain"
    back = await _patch(api, {"operationContext": {"environmentVariables": {"TOKEN": old}}})
    assert back["operationContext"]["environmentVariables"]["TOKEN"] == old


async def test_bad_secrets_are_400(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev", "web/prod")
    other_stack = (await api.post(f"{api.st('web/prod')}/settings/encrypt", {"secret": "prod-only"})).body
    forged = dict(other_stack, ciphertext="A" + other_stack["ciphertext"][1:])
    cases = [
        (other_stack, "not produced for stack 'acme/web/dev'"),
        ({"ciphertext": other_stack["ciphertext"]}, "not produced for stack"),
        (forged, "not produced for stack"),
        ({"ciphertext": "%%% not base64"}, "base64"),
        ({"secret": "[secret]"}, "placeholder"),
        ({"secret": "new", "ciphertext": other_stack["ciphertext"]}, "not both"),
        ({"secret": 5}, "must be a string"),
        ({"isSecret": "yes", "value": "x"}, "isSecret must be a boolean"),
        ({"password": "x"}, "a secret value must be"),
        (17, "a secret value must be"),
    ]
    for value, fragment in cases:
        reply = await api.post(f"{api.st()}/settings", {"operationContext": {"environmentVariables": {"X": value}}})
        assert reply.status == 400, value
        assert fragment in reply.body["message"], (value, reply.body)
        assert "operationContext.environmentVariables.X" in reply.body["message"]


async def test_encrypt_endpoint(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    reply = await api.post(f"{api.st()}/settings/encrypt", {"secret": "abc", "plaintext": None, "ciphertext": None})
    assert reply.status == 200
    assert set(reply.body) == {"secret", "ciphertext"}
    for body in ({"secret": ""}, {}, {"secret": None}, {"value": "x"}, "abc"):
        refused = await api.post(f"{api.st()}/settings/encrypt", body)
        assert refused.status == 400, body
    assert (await api.post(f"{api.st('web/none')}/settings/encrypt", {"secret": "x"})).status == 404


async def test_git_auth_github_and_cache_options(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    for auth in (
        {"accessToken": {"secret": "ghp_x"}},
        {"sshAuth": {"sshPrivateKey": {"secret": "-----BEGIN KEY-----"}, "password": {"secret": "pw"}}},
        {"basicAuth": {"userName": {"secret": "me"}, "password": {"secret": "pw"}}},
        {"basicAuth": {"userName": "me-in-plain", "password": {"secret": "pw"}}},
    ):
        stored = await _patch(api, {"sourceContext": {"git": {"gitAuth": None}}})
        stored = await _patch(api, {"sourceContext": {"git": {"gitAuth": auth}}})
        echoed = stored["sourceContext"]["git"]["gitAuth"]
        assert set(echoed) == set(auth)
        assert "ghp_x" not in str(echoed)
        assert "BEGIN KEY" not in str(echoed)
    # A patch merges into the stored basicAuth (its password stays); without one stored, it is incomplete.
    kept = await _patch(api, {"sourceContext": {"git": {"gitAuth": {"basicAuth": {"userName": "other"}}}}})
    assert set(kept["sourceContext"]["git"]["gitAuth"]["basicAuth"]) == {"userName", "password"}
    await _patch(api, {"sourceContext": {"git": {"gitAuth": None}}})
    incomplete = await api.post(
        f"{api.st()}/settings", {"sourceContext": {"git": {"gitAuth": {"basicAuth": {"userName": "me"}}}}}
    )
    assert incomplete.status == 400
    assert "password" in incomplete.body["message"]
    github = {"repository": "acme/web", "deployCommits": True, "paths": ["infra/**"], "pullRequestTemplate": False}
    assert (await _patch(api, {"gitHub": github}))["gitHub"] == github
    assert (await _patch(api, {"cacheOptions": {"enable": True}}))["cacheOptions"] == {"enable": True}
    for cache in ({"enable": "true"}, {}, {"enable": True, "size": 1}):
        assert (await api.call("PUT", f"{api.st()}/settings", {"cacheOptions": cache})).status == 400, cache
    oidc = await api.post(f"{api.st()}/settings", {"operationContext": {"oidc": {"aws": {"roleArn": "arn"}}}})
    assert oidc.status == 400
    assert "sessionName" in oidc.body["message"]


async def test_secret_plaintext_never_leaves_the_emulator(pulumi_sandbox: PulumiSandbox, api: Api) -> None:
    await pulumi_sandbox.create_stacks("web/dev")
    plaintexts = ["plaintext-env-93817", "plaintext-git-55120", "plaintext-encrypt-40021", "plaintext-v9-77310"]
    texts = [
        (await api.post(f"{api.st()}/settings/encrypt", {"secret": plaintexts[2]})).text,
        (
            await api.post(
                f"{api.st()}/settings",
                {
                    "sourceContext": {"git": {"gitAuth": {"accessToken": {"secret": plaintexts[1]}}}},
                    "operationContext": {"environmentVariables": {"A": {"secret": plaintexts[0]}}},
                },
            )
        ).text,
    ]
    created = await api.create(
        body={
            "operation": "update",
            "operationContext": {"environmentVariables": {"B": {"isSecret": True, "value": plaintexts[3]}}},
        }
    )
    await pulumi_sandbox.run_until_idle()
    deployment_path = f"{api.st()}/{created['id']}"
    for path in ("/settings", f"/{created['id']}", f"/{created['id']}/logs", f"/{created['id']}/updates", ""):
        texts.append((await api.get(api.st() + path)).text)
    texts.append((await api.get(deployment_path, params={"job": "0", "step": "0"})).text)
    texts.append((await api.get("/api/orgs/acme/deployments")).text)
    texts.append(str(await pulumi_sandbox.requests()))
    texts.append(str(await pulumi_sandbox.events()))
    deployment = await api.deployment(created["id"])
    hidden = {v["name"]: v for v in deployment["configuration"]["environmentVariables"]}
    assert hidden["A"] == {"name": "A", "secret": True}
    assert hidden["B"] == {"name": "B", "secret": True}
    for plaintext in plaintexts:
        assert all(plaintext not in text for text in texts), plaintext
    logged = [entry["body"] for entry in await pulumi_sandbox.requests() if entry["method"] == "POST"]
    assert logged[0] == {"secret": "[secret]"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    patch=st.dictionaries(
        st.sampled_from(["A", "B", "C", "D"]),
        st.none() | st.text(max_size=5) | st.builds(lambda s: {"secret": s}, st.text(min_size=1, max_size=5)),
        max_size=4,
    )
)
async def test_env_var_patches_follow_the_merge_rule(pulumi_sandbox: PulumiSandbox, api: Api, patch: Any) -> None:
    stack, start = "web/prop", {"operationContext": {"environmentVariables": {"A": "a", "B": {"secret": "b"}}}}
    with contextlib.suppress(SandboxError):  # the fixture outlives one example: the stack may exist already
        await pulumi_sandbox.create_stacks(stack, with_settings=False)
    await _put(api, start, stack)
    before = (await _settings(api, stack))["operationContext"]["environmentVariables"]
    after_reply = await api.post(f"{api.st(stack)}/settings", {"operationContext": {"environmentVariables": patch}})
    assert after_reply.status == 200, after_reply.text
    after = after_reply.body.get("operationContext", {}).get("environmentVariables", {})
    for name in {"A", "B", "C", "D"}:
        if name in patch and patch[name] is None:
            assert name not in after
        elif name in patch and isinstance(patch[name], str):
            assert after[name] == patch[name]
        elif name in patch:
            assert after[name]["secret"] == "[secret]"
        elif name in before:
            assert after[name] == before[name]
        else:
            assert name not in after
