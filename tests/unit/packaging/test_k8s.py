"""deploy/k8s: every document valid against Kubernetes' own schemas (kubernetes-validate ships them), and the pieces
fitting each other and the bot — probes on routes the bot serves, settings it reads, secrets from the Secret, the
policy where DEPLOYBOT_POLICY says, selectors that pick the bot's pods and nothing else."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlparse

import kubernetes_validate
import pytest
from pydantic import SecretStr

from bot.config import Mode, Settings, load_settings
from bot.policy import Policy
from tests.deploy_files import K8S, dockerfile_stages, served_routes, settings_variables, yaml_documents

# The oldest Kubernetes release the manifests are checked against, and the newest kubernetes-validate knows.
K8S_VERSIONS = ("1.29", kubernetes_validate.utils.latest_version())

Doc = dict[str, Any]


def _documents() -> list[tuple[Path, Doc]]:
    return [(path, doc) for path in sorted(K8S.rglob("*.yaml")) for doc in yaml_documents(path)]


def _one(kind: str, name: str) -> Doc:
    (found,) = [doc for _, doc in _documents() if doc["kind"] == kind and doc["metadata"]["name"] == name]
    return found


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@pytest.fixture(scope="module")
def deployment() -> Doc:
    return _one("Deployment", "deploybot")


@pytest.fixture(scope="module")
def container(deployment: Doc) -> Doc:
    containers: list[Doc] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, "one container: the bot"
    return containers[0]


@pytest.fixture(scope="module")
def secret() -> Doc:
    return _one("Secret", "deploybot")


def _plain_env(container: Doc) -> dict[str, str]:
    """Variables the container always gets: literal values and the keys of the ConfigMaps it loads whole."""
    env = {item["name"]: item["value"] for item in container["env"] if "value" in item}
    for source in container.get("envFrom", []):
        env |= _one("ConfigMap", source["configMapRef"]["name"]).get("data", {})
    return env


def _secret_refs(container: Doc) -> dict[str, dict[str, Any]]:
    return {item["name"]: item["valueFrom"]["secretKeyRef"] for item in container["env"] if "valueFrom" in item}


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize(("path", "doc"), _documents(), ids=lambda v: v.name if isinstance(v, Path) else v["kind"])
def test_every_document_is_valid_kubernetes(version: str, path: Path, doc: Doc) -> None:
    try:
        kubernetes_validate.validate(doc, version, strict=True)  # strict: unknown fields are errors too
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.path)
        pytest.fail(f"{path.relative_to(K8S)}: {doc['kind']} {where}: {error.message} (Kubernetes {version})")


def test_the_validator_rejects_a_misspelt_field(deployment: Doc) -> None:
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(broken, K8S_VERSIONS[0], strict=True)


def test_two_replicas_of_the_bot_each_with_the_selectors_labels(deployment: Doc) -> None:
    assert deployment["spec"]["replicas"] == 2  # safe: replicas share the work through leases in Redis
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert _selects(selector, deployment["spec"]["template"]["metadata"]["labels"])
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_probes_hit_the_bots_health_routes_on_its_port(container: Doc) -> None:
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    probes = {name: container[name]["httpGet"] for name in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probes["livenessProbe"]["path"] == "/healthz"  # the watcher's loop is stuck: restart
    assert probes["startupProbe"]["path"] == "/healthz"  # liveness waits for the first round
    assert probes["readinessProbe"]["path"] == "/readyz"  # Redis and Pulumi answer: send traffic
    routes = served_routes()
    for name, probe in probes.items():
        assert probe["port"] in ports, f"{name}: port {probe['port']!r} is not a named container port"
        assert ("GET", probe["path"]) in routes, f"{name}: the bot does not serve GET {probe['path']}"
    assert _plain_env(container)["PORT"] == str(ports["http"])


def test_prometheus_is_told_where_metrics_are(deployment: Doc, container: Doc) -> None:
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(container["ports"][0]["containerPort"])
    assert ("GET", annotations["prometheus.io/path"]) in served_routes()


def _bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    suffix = quantity[-2:]
    return int(quantity[:-2]) * units[suffix] if suffix in units else int(quantity)


def test_resources_are_requested_and_limited(container: Doc) -> None:
    resources = container["resources"]
    for kind in ("requests", "limits"):
        assert set(resources[kind]) == {"cpu", "memory"}, kind
    assert _bytes(resources["requests"]["memory"]) <= _bytes(resources["limits"]["memory"])


def test_every_variable_the_container_gets_is_a_setting(container: Doc) -> None:
    given = [item["name"] for item in container["env"]] + list(_plain_env(container))
    unknown = set(given) - settings_variables()
    assert not unknown, f"the bot reads no such variable: {sorted(unknown)}"


def test_secrets_come_only_from_the_secret(container: Doc, secret: Doc) -> None:
    fields = Settings.model_fields.items()
    secret_settings = {name.upper() for name, field in fields if SecretStr in get_args(field.annotation)}
    assert secret_settings, "Settings has SecretStr fields"
    assert not secret_settings & set(_plain_env(container)), "a secret as a plain value or in a ConfigMap"
    refs = _secret_refs(container)
    assert secret_settings <= set(refs), f"not wired: {sorted(secret_settings - set(refs))}"
    keys = set(secret["stringData"])
    for name, ref in refs.items():
        assert ref["name"] == secret["metadata"]["name"], name
        assert ref["key"] in keys or ref.get("optional") is True, f"{name}: the Secret has no key {ref['key']}"
    assert keys <= {ref["key"] for ref in refs.values()}, "a key of the Secret that nothing reads"


# The Secret keys each mode needs: what Settings.require asks for, and REDIS_URL (the manifests read it from there).
MODE_SECRETS: dict[Mode, set[str]] = {
    "serve": {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "PULUMI_ACCESS_TOKEN", "REDIS_URL"},
    "socket": {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "PULUMI_ACCESS_TOKEN", "REDIS_URL"},
}


@pytest.mark.parametrize("mode", sorted(MODE_SECRETS))
def test_each_mode_starts_with_only_the_secret_keys_it_needs(container: Doc, secret: Doc, mode: Mode) -> None:
    """A Secret holding just the keys ``mode`` needs lets the pod start (Kubernetes refuses to start a container whose
    non-optional secretKeyRef is missing), and what the container then gets satisfies Settings.require."""
    keys = MODE_SECRETS[mode]
    refs = _secret_refs(container)
    required = {ref["key"] for ref in refs.values() if not ref.get("optional")}
    assert required <= keys, f"{mode}: the pod would not start without the keys {sorted(required - keys)}"
    values = secret["stringData"]  # the documented examples where there are some
    given = _plain_env(container) | {
        name: values.get(ref["key"], "x") for name, ref in refs.items() if ref["key"] in keys
    }
    load_settings({k: v for k, v in given.items() if k != "DEPLOYBOT_POLICY"}).require(mode)
    if [mode] == container["args"]:
        assert keys <= set(secret["stringData"]), "the documented Secret lacks a key the manifests' mode needs"


def test_the_policy_is_mounted_where_deploybot_policy_says_and_is_valid(deployment: Doc, container: Doc) -> None:
    policy_path = Path(_plain_env(container)["DEPLOYBOT_POLICY"])
    (mount,) = [m for m in container["volumeMounts"] if Path(m["mountPath"]) == policy_path.parent]
    assert mount["readOnly"] is True
    (volume,) = [v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == mount["name"]]
    policy_map = _one("ConfigMap", volume["configMap"]["name"])
    text = policy_map["data"][policy_path.name]
    policy = Policy.loads(text, source=policy_path.name)  # what the bot checks at start-up; raises on a problem
    assert policy.entries == ()  # the starting point is the built-in defaults, written out
    assert policy.defaults == Policy.default().defaults


def test_the_pdb_and_the_service_select_the_bots_pods_only(deployment: Doc, container: Doc) -> None:
    pods = deployment["spec"]["template"]["metadata"]["labels"]
    redis_pods = _one("StatefulSet", "deploybot-redis")["spec"]["template"]["metadata"]["labels"]
    pdb, service = _one("PodDisruptionBudget", "deploybot"), _one("Service", "deploybot")
    assert pdb["spec"]["minAvailable"] == 1
    for selector in (pdb["spec"]["selector"]["matchLabels"], service["spec"]["selector"]):
        assert _selects(selector, pods)
        assert not _selects(selector, redis_pods)
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] in {p["name"] for p in container["ports"]}


def test_the_pods_run_as_the_images_non_root_user_with_nothing_extra(deployment: Doc, container: Doc) -> None:
    pod = deployment["spec"]["template"]["spec"]
    user = dockerfile_stages()[-1].last("USER")
    assert user is not None
    uid, _, gid = user.value.partition(":")
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (int(uid), int(gid))
    assert pod["automountServiceAccountToken"] is False
    hardening = container["securityContext"]
    assert hardening["allowPrivilegeEscalation"] is False
    assert hardening["readOnlyRootFilesystem"] is True
    assert hardening["capabilities"]["drop"] == ["ALL"]


def test_the_container_runs_a_pinned_image_as_deploybot_serve(container: Doc) -> None:
    image, _, tag = container["image"].rpartition(":")
    assert image, f"pin a tag: {container['image']}"
    assert tag != "latest"
    entrypoint = dockerfile_stages()[-1].last("ENTRYPOINT")
    assert entrypoint is not None
    assert entrypoint.value == '["deploybot"]'
    assert container["args"] == ["serve"]  # the image's ENTRYPOINT + these args: deploybot serve
    assert "command" not in container, "keep the image's entrypoint"


def test_the_optional_redis_keeps_an_append_only_file_on_a_persistent_volume(secret: Doc) -> None:
    statefulset, service = _one("StatefulSet", "deploybot-redis"), _one("Service", "deploybot-redis")
    (redis,) = statefulset["spec"]["template"]["spec"]["containers"]
    args = redis["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    assert {"name": claim["metadata"]["name"], "mountPath": "/data"} in redis["volumeMounts"]
    assert statefulset["spec"]["serviceName"] == service["metadata"]["name"]
    assert _selects(service["spec"]["selector"], statefulset["spec"]["template"]["metadata"]["labels"])
    url = urlparse(secret["stringData"]["REDIS_URL"])
    assert (url.hostname, url.port) == (service["metadata"]["name"], service["spec"]["ports"][0]["port"])
