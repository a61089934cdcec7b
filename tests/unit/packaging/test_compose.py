"""deploy/compose.yaml: valid against the Compose Specification's schema, the bot built from deploy/Dockerfile with
its settings from .env and the same health check as the image, and a Redis that keeps its data (AOF on a volume)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from tests.deploy_files import (
    DEPLOY,
    DOCKERFILE,
    REPO,
    dockerfile_stages,
    env_example,
    parse_healthcheck,
    yaml_document,
)

COMPOSE = DEPLOY / "compose.yaml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml_document(COMPOSE)


def _check_against_the_compose_spec(path: Path) -> subprocess.CompletedProcess[str]:
    # check-jsonschema ships the Compose Specification's JSON schema, so this needs no network.
    binary = Path(sys.executable).parent / "check-jsonschema"
    argv = [str(binary), "--builtin-schema", "vendor.compose-spec", "--color", "never", str(path)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_compose_yaml_follows_the_compose_specification(tmp_path: Path) -> None:
    result = _check_against_the_compose_spec(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    # …and the check does reject what Compose would: a misspelt key.
    misspelt = yaml_document(COMPOSE)
    misspelt["services"]["bot"]["healtcheck"] = misspelt["services"]["bot"].pop("healthcheck")
    broken = tmp_path / "compose.yaml"
    broken.write_text(yaml.safe_dump(misspelt))
    assert _check_against_the_compose_spec(broken).returncode != 0


def test_the_services_are_the_bot_and_redis(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"bot", "redis"}


def test_redis_appends_every_write_to_a_file_on_a_named_volume(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in redis["volumes"]}
    assert "/data" in mounts, "the official image writes its AOF under /data"
    assert mounts["/data"] in compose["volumes"], "a named volume, so `docker compose down` keeps the data"
    assert "ports" not in redis, "only the bot talks to Redis"
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_the_bot_is_built_from_the_dockerfile_with_settings_from_env(compose: dict[str, Any]) -> None:
    bot = compose["services"]["bot"]
    context = (COMPOSE.parent / bot["build"]["context"]).resolve()
    assert context == REPO, "the Dockerfile copies paths relative to the repository root"
    assert context / bot["build"]["dockerfile"] == DOCKERFILE
    assert bot["env_file"] == [".env"]
    assert (COMPOSE.parent / ".env.example").is_file(), "the file operators copy to .env"
    assert "environment" not in bot, ".env.example is the one place settings are written"
    assert bot["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert bot["command"] == ["serve"]


def test_the_bot_reaches_redis_by_its_service_name(compose: dict[str, Any]) -> None:
    (redis_url,) = [line.value for line in env_example() if line.name == "REDIS_URL" and not line.commented]
    url = urlparse(redis_url)
    assert url.hostname in compose["services"], redis_url
    assert url.port == 6379


def test_the_bots_port_is_published_as_port_says(compose: dict[str, Any]) -> None:
    assert compose["services"]["bot"]["ports"] == ["${PORT:-3000}:${PORT:-3000}"]


def test_the_bots_health_check_is_the_images(compose: dict[str, Any]) -> None:
    check = compose["services"]["bot"]["healthcheck"]
    healthcheck = dockerfile_stages()[-1].last("HEALTHCHECK")
    assert healthcheck is not None
    options, argv = parse_healthcheck(healthcheck.value)
    assert check["test"] == ["CMD", *argv]  # tests/integration/packaging runs it against a real server
    for option in ("interval", "timeout", "retries"):
        assert str(check[option]) == options[option]
    assert check["start_period"] == options["start-period"]
