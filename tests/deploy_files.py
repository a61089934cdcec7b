"""The packaging files under ``deploy/`` read into plain Python for the packaging tests: the Dockerfile's stages,
YAML documents, and the variable names that ``.env.example``, the README and ``Settings`` each list."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from dockerfile_parse import DockerfileParser

from bot.app import create_app
from bot.config import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
K8S = DEPLOY / "k8s"

# load_settings() reads this one itself (it says where the secret files are), so it is no Settings field.
SECRETS_DIR_VARIABLE = "DEPLOYBOT_SECRETS_DIR"


# -- Dockerfile -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, COPY, …
    value: str  # what follows the keyword, continuation lines joined
    line: int  # 1-based, where it starts


@dataclass(frozen=True)
class Stage:
    image: str
    name: str | None
    instructions: tuple[Instruction, ...]

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None


@dataclass(frozen=True)
class Copy:
    sources: tuple[str, ...]
    destination: str
    from_stage: str | None


def dockerfile_stages(path: Path = DOCKERFILE) -> list[Stage]:
    """The build stages in order, each with the instructions after its FROM.

    dockerfile-parse does the lexing (continuation lines, comments, parser directives); stages are ours to cut.
    """
    stages: list[Stage] = []
    for item in DockerfileParser(path=str(path)).structure:
        keyword = str(item["instruction"]).upper()
        if keyword == "COMMENT":
            continue
        instruction = Instruction(keyword, str(item["value"]).strip(), int(item["startline"]) + 1)
        if keyword == "FROM":
            words = instruction.value.split()
            flags = [w for w in words if w.startswith("--")]  # FROM --platform=… image AS name
            rest = words[len(flags) :]
            name = rest[2] if len(rest) == 3 and rest[1].upper() == "AS" else None
            stages.append(Stage(rest[0], name, ()))
        elif not stages:
            if keyword != "ARG":  # only ARG may come before the first FROM
                raise ValueError(f"line {instruction.line}: {keyword} before the first FROM")
        else:
            last = stages[-1]
            stages[-1] = Stage(last.image, last.name, (*last.instructions, instruction))
    return stages


def exec_form(value: str) -> list[str]:
    """A JSON-array instruction argument (``["deploybot", "serve"]``) as argv; shell form is a ValueError."""
    try:
        argv = json.loads(value)
    except json.JSONDecodeError:
        raise ValueError(f"not exec (JSON array) form: {value!r}") from None
    if not isinstance(argv, list) or not all(isinstance(word, str) for word in argv):
        raise ValueError(f"not a JSON array of strings: {value!r}")
    return argv


def parse_copy(value: str) -> Copy:
    words = exec_form(value) if value.startswith("[") else shlex.split(value)
    flags = [w for w in words if w.startswith("--")]
    paths = [w for w in words if not w.startswith("--")]
    from_stage = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
    if len(paths) < 2:
        raise ValueError(f"COPY needs a source and a destination: {value!r}")
    return Copy(tuple(paths[:-1]), paths[-1], from_stage)


def parse_healthcheck(value: str) -> tuple[dict[str, str], list[str]]:
    """``--interval=30s … CMD ["…"]`` -> ({"interval": "30s", …}, argv)."""
    options_text, separator, command = value.partition("CMD")
    if not separator:
        raise ValueError(f"HEALTHCHECK without CMD: {value!r}")
    options = {}
    for word in options_text.split():
        key, _, setting = word.removeprefix("--").partition("=")
        options[key] = setting
    return options, exec_form(command.strip())


def dockerignore_patterns(path: Path = REPO / ".dockerignore") -> list[str]:
    """The patterns, as Docker reads them: one a line, blank lines and ``#`` comments skipped."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


# -- YAML -----------------------------------------------------------------------------------------------------


def yaml_documents(path: Path) -> list[dict[str, Any]]:
    """Every non-empty document of a (multi-document) YAML file; anything but a mapping is an error."""
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    for doc in documents:
        if not isinstance(doc, dict):
            raise ValueError(f"{path}: a document is a {type(doc).__name__}, not a mapping")
    return documents


def yaml_document(path: Path) -> dict[str, Any]:
    (document,) = yaml_documents(path)
    return document


# -- settings, as each place lists them -----------------------------------------------------------------------

# "NAME=value" or, for one that is optional, "# NAME=value" (a description never starts with an upper-case NAME=).
_ENV_LINE = re.compile(r"^(?P<commented># ?)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


@dataclass(frozen=True)
class EnvLine:
    name: str
    value: str
    commented: bool
    line: int  # 1-based


def env_example(path: Path = DEPLOY / ".env.example") -> list[EnvLine]:
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = _ENV_LINE.match(line)
        if match:
            commented = match["commented"] is not None
            found.append(EnvLine(match["name"], match["value"], commented, number))
    return found


def readme_configuration(path: Path = REPO / "README.md") -> dict[str, list[str]]:
    """The README's "## Configuration" table: variable name -> the row's cells."""
    text = path.read_text()
    start = text.index("\n## Configuration\n")
    end = text.find("\n## ", start + 1)
    rows: dict[str, list[str]] = {}
    for line in text[start : end if end != -1 else None].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`([A-Z][A-Z0-9_]*)`", cells[0]) if line.startswith("|") else None
        if match:
            rows[match[1]] = cells
    return rows


def settings_variables() -> set[str]:
    """What Settings reads (field name = variable name, upper-cased), plus the secrets directory."""
    return {name.upper() for name in Settings.model_fields} | {SECRETS_DIR_VARIABLE}


# -- the bot's HTTP surface -----------------------------------------------------------------------------------


def served_routes() -> set[tuple[str, str]]:
    """(method, path) of every route ``deploybot serve`` answers; building the app connects to nothing."""
    environ = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "PULUMI_ACCESS_TOKEN": "p"}
    app = create_app(load_settings(environ), "serve", watch_loop=False)
    return {(route.method, route.resource.canonical) for route in app.router.routes() if route.resource is not None}
