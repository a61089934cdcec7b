"""Hypothesis throws arbitrary JSON, settings-shaped JSON, raw bytes and query strings at every endpoint:
the emulator must always answer 2xx or 4xx (with a {code, message} body for errors), never a 5xx."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.integration.sandbox.conftest import Api
from tests.pulumi_sandbox import PulumiSandbox

ST = "/api/stacks/acme/web/dev/deployments"
ENDPOINTS = [
    ("GET", f"{ST}/settings"),
    ("POST", f"{ST}/settings"),
    ("PUT", f"{ST}/settings"),
    ("DELETE", f"{ST}/settings"),
    ("POST", f"{ST}/settings/encrypt"),
    ("POST", ST),
    ("GET", ST),
    ("GET", f"{ST}/{{id}}"),
    ("GET", f"{ST}/version/1"),
    ("GET", f"{ST}/{{id}}/logs"),
    ("GET", f"{ST}/{{id}}/updates"),
    ("POST", f"{ST}/{{id}}/cancel"),
    ("POST", f"{ST}/pause"),
    ("POST", f"{ST}/resume"),
    ("GET", f"{ST}/metadata"),
    ("GET", "/api/orgs/acme/deployments"),
    ("GET", "/api/orgs/acme/deployments/metadata"),
    ("POST", "/api/orgs/acme/deployments/pause"),
    ("POST", "/api/orgs/acme/deployments/resume"),
    ("POST", "/_sandbox/stacks"),
    ("POST", "/_sandbox/git/push"),
    ("GET", "/_sandbox/git/head"),
    ("PUT", "/_sandbox/orgs/acme/concurrency"),
    ("PUT", "/_sandbox/clock"),
    ("POST", "/_sandbox/advance"),
    ("GET", "/_sandbox/requests"),
    ("GET", "/_sandbox/events"),
]
# Field names the emulator knows, so generated objects reach past the first "unknown field" check.
VOCABULARY = [
    "operation", "inheritSettings", "sourceContext", "git", "repoUrl", "repoURL", "branch", "commit", "tag",
    "repoDir", "gitAuth", "accessToken", "basicAuth", "sshAuth", "userName", "password", "sshPrivateKey",
    "operationContext", "environmentVariables", "SANDBOX_FAIL_STEP", "preRunCommands", "options",
    "skipIntermediateDeployments", "deleteAfterDestroy", "skipInstallDependencies", "oidc", "aws", "roleArn",
    "sessionName", "executorContext", "executorImage", "reference", "credentials", "username", "gitHub",
    "repository", "paths", "cacheOptions", "enable", "secret", "ciphertext", "isSecret", "value", "plaintext",
    "stacks", "settings", "withSettings", "steps", "untilIdle", "concurrency", "stepSeconds", "template",
]  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(
        ["update", "destroy", "main", "refs/heads/main", "a" * 40, "[secret]", "1", "Get source", "²", "٣", "9" * 5000]
    )
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(VOCABULARY) | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)
# Mostly well-formed settings with odd values mixed in, so many requests get as far as the engine.
SECRETS = (
    st.text(max_size=5)
    | st.builds(lambda text: {"secret": text}, st.text(max_size=5))
    | st.just({"isSecret": True, "value": "5"})
    | SCALARS
)
GIT = st.fixed_dictionaries(
    {},
    optional={
        "repoUrl": st.sampled_from(["https://github.com/acme/web.git", "git@github.com:a/b.git", ""]) | SCALARS,
        "branch": st.sampled_from(["main", "refs/heads/dev", " ", None]),
        "commit": st.sampled_from(["a" * 40, None, "zz"]),
        "tag": st.sampled_from(["v1", None]),
        "repoDir": st.text(max_size=5),
    },
)
OPERATION_CONTEXT = st.fixed_dictionaries(
    {},
    optional={
        "environmentVariables": st.fixed_dictionaries(
            {},
            optional={
                "A": SECRETS,
                " ": SECRETS,
                "SANDBOX_FAIL_STEP": st.sampled_from(
                    ["1", "5", "0", "-1", "²", "٣", "9" * 5000, "Get source", " setup "]
                )
                | SECRETS,
            },
        ),
        "preRunCommands": st.lists(st.text(max_size=10), max_size=3) | SCALARS,
        "options": st.dictionaries(
            st.sampled_from(["skipIntermediateDeployments", "deleteAfterDestroy", "skipInstallDependencies"]),
            st.booleans() | SCALARS,
        ),
        "oidc": st.sampled_from(
            [
                {"aws": {"roleArn": "r", "sessionName": "s"}},
                {"azure": {"clientId": "c"}},
                {"gcp": {"projectId": "p", "workloadPoolId": "w", "providerId": "i", "serviceAccount": "a"}},
                {},
                {"aws": {}},
            ]
        ),
    },
)
SETTINGS = st.fixed_dictionaries(
    {},
    optional={
        "sourceContext": st.fixed_dictionaries({}, optional={"git": GIT}),
        "operationContext": OPERATION_CONTEXT,
        "executorContext": st.fixed_dictionaries(
            {}, optional={"executorImage": st.sampled_from(["img", {"reference": "r"}, {}]) | SCALARS}
        ),
    },
)
OPERATIONS = st.sampled_from(["update", "preview", "refresh", "destroy", "detect-drift", "remediate-drift", "x"])
QUERIES = st.dictionaries(
    st.sampled_from(["page", "pageSize", "asc", "status", "continuationToken", "job", "step", "offset", "count"]),
    st.text(max_size=6) | st.integers(min_value=-5, max_value=600).map(str),
    max_size=4,
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


async def _prepare(pulumi_sandbox: PulumiSandbox, api: Api) -> str:
    """The stack web/dev with settings and one deployment; returns its id (the fixture outlives an example)."""
    if (await api.get(ST)).status == 404:
        await pulumi_sandbox.create_stacks("web/dev")
    await api.call("PUT", f"{ST}/settings", {"sourceContext": {"git": {"repoUrl": "https://github.com/acme/web"}}})
    listed = (await api.get(ST)).body["deployments"]
    return str(listed[0]["id"]) if listed else str((await api.create())["id"])


def _assert_not_a_server_error(method: str, path: str, status: int, body: Any) -> None:
    assert status < 500, (method, path, status, body)
    if status >= 400:
        assert isinstance(body, dict), body
        assert body["code"] == status
        assert isinstance(body["message"], str)
        assert body["message"]


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), value=JSON_VALUES, query=QUERIES, tick=st.booleans())
async def test_any_json_body_gets_a_4xx_or_2xx(
    pulumi_sandbox: PulumiSandbox, api: Api, endpoint: tuple[str, str], value: Any, query: dict[str, str], tick: bool
) -> None:
    deployment_id = await _prepare(pulumi_sandbox, api)
    method, template = endpoint
    path = template.format(id=deployment_id)
    reply = await api.call(method, path, value, params=query)
    event(f"status {reply.status}")
    _assert_not_a_server_error(method, path, reply.status, reply.body)
    if tick:  # let the engine run whatever the fuzz managed to create
        advanced = await api.call("POST", "/_sandbox/advance", {"steps": 3})
        _assert_not_a_server_error("POST", "/_sandbox/advance", advanced.status, advanced.body)


@FUZZ
@given(endpoint=st.sampled_from(ENDPOINTS), data=st.binary(max_size=300))
async def test_any_bytes_get_a_4xx_or_2xx(
    pulumi_sandbox: PulumiSandbox, api: Api, endpoint: tuple[str, str], data: bytes
) -> None:
    deployment_id = await _prepare(pulumi_sandbox, api)
    method, template = endpoint
    path = template.format(id=deployment_id)
    reply = await api.call(method, path, data=data or b" ")
    _assert_not_a_server_error(method, path, reply.status, reply.body)


@FUZZ
@given(
    settings_body=SETTINGS | JSON_VALUES,
    create_body=st.builds(lambda body, operation: {**body, "operation": operation}, SETTINGS, OPERATIONS) | JSON_VALUES,
)
async def test_settings_then_a_deployment_never_break_the_engine(
    pulumi_sandbox: PulumiSandbox, api: Api, settings_body: Any, create_body: Any
) -> None:
    await _prepare(pulumi_sandbox, api)
    stored = await api.call("POST", f"{ST}/settings", settings_body)  # a patch over _prepare's git source
    _assert_not_a_server_error("POST", "settings", stored.status, stored.body)
    created = await api.call("POST", ST, create_body)
    event(f"settings {stored.status}, create {created.status}")
    _assert_not_a_server_error("POST", ST, created.status, created.body)
    finished = await api.call("POST", "/_sandbox/advance", {"untilIdle": True})
    _assert_not_a_server_error("POST", "advance", finished.status, finished.body)
    if created.status == 202:
        for suffix in ("", "/logs", "/updates"):
            reply = await api.get(f"{ST}/{created.body['id']}{suffix}")
            assert reply.status == 200, reply.text
            json.dumps(reply.body)


@FUZZ
@given(segment=st.text(min_size=1, max_size=30), suffix=st.sampled_from(["", "/logs", "/updates", "/cancel"]))
async def test_any_path_segment_gets_a_4xx_or_2xx(
    pulumi_sandbox: PulumiSandbox, api: Api, segment: str, suffix: str
) -> None:
    await _prepare(pulumi_sandbox, api)
    quoted = urllib.parse.quote(segment, safe="")
    for path in (f"{ST}/{quoted}{suffix}", f"{ST}/version/{quoted}", f"/api/orgs/{quoted}/deployments"):
        reply = await api.call("POST" if suffix == "/cancel" else "GET", path)
        _assert_not_a_server_error("GET", path, reply.status, reply.body)


@FUZZ
@given(value=st.text(max_size=8) | st.sampled_from(["²", "٣", "9" * 5000, " 2 ", "-1", "0"]), secret=st.booleans())
async def test_any_sandbox_fail_step_value_is_handled(
    pulumi_sandbox: PulumiSandbox, api: Api, value: str, secret: bool
) -> None:
    await _prepare(pulumi_sandbox, api)
    env = {"SANDBOX_FAIL_STEP": {"secret": value} if secret else value}
    created = await api.call("POST", ST, {"operation": "update", "operationContext": {"environmentVariables": env}})
    _assert_not_a_server_error("POST", ST, created.status, created.body)
    finished = await api.call("POST", "/_sandbox/advance", {"untilIdle": True})
    _assert_not_a_server_error("POST", "advance", finished.status, finished.body)
