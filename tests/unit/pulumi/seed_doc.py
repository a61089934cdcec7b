"""The seed API doc's examples, read at test time from the copy kept beside the tests (``tests/payloads/pulumi``;
a test checks it matches ``shared/spec`` whenever the shared workspace sits next to the repository).

Its examples are invalid JSON in known ways: ``"..."`` placeholders (as list items and as a bare string inside an
object) and a stray trailing comma; ``cleaned`` removes those and changes nothing else.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEC = Path(__file__).resolve().parents[2] / "payloads" / "pulumi" / "pulumi-deployments-api.md"
SHARED_SPEC = Path(__file__).resolve().parents[3].parent / "shared" / "spec" / "pulumi-deployments-api.md"

_TRAILING_COMMA = re.compile(r",(\s*[\]}])")
_CURL_BODY = re.compile(r"-d '(.*?)'", re.DOTALL)


@dataclass(frozen=True)
class Example:
    heading: tuple[str, ...]  # the section's heading and the sub-headings above the block, in order
    kind: str  # "json" block or "curl" request body
    text: str

    @property
    def where(self) -> str:
        return " / ".join(self.heading)


def cleaned(text: str) -> Any:
    text = re.sub(r'(?m)^(\s*)"\.\.\."\s*,?\s*$', "", text)  # a placeholder on a line of its own
    text = re.sub(r',\s*"\.\.\."', "", text)  # a placeholder after an item: "key": "value", "..."
    return json.loads(_TRAILING_COMMA.sub(r"\1", text))


def examples() -> list[Example]:
    found: list[Example] = []
    trail: list[str] = []  # the section's ## heading, then every ###/#### heading since, in order
    block: list[str] | None = None
    fence = ""
    for line in SPEC.read_text().splitlines():
        if block is None:
            if match := re.match(r"^(#{2,4}) (.+)$", line):
                trail = [match.group(2).strip()] if match.group(1) == "##" else [*trail, match.group(2).strip()]
            elif line.startswith("```"):
                block, fence = [], line[3:].strip()
            continue
        if line.startswith("```"):
            text = "\n".join(block)
            if fence == "json":
                found.append(Example(tuple(trail), "json", text))
            elif fence == "shell":
                found.extend(Example(tuple(trail), "curl", body) for body in _CURL_BODY.findall(text))
            block = None
        else:
            block.append(line)
    return found


def by_heading(*words: str, kind: str = "json") -> list[Example]:
    return [e for e in examples() if e.kind == kind and e.heading[: len(words)] == words]
