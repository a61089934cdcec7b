"""Fake git remotes: each repository's branches point at 40-hex SHAs, deterministic until someone pushes."""

from __future__ import annotations

import hashlib
import re

_SHA = re.compile(r"[0-9a-f]{40}")
DEFAULT_BRANCH = "refs/heads/main"


def repo_key(url: str) -> str:
    """One key per repository however the URL is spelled (trailing slash, ``.git`` suffix, host case)."""
    key = url.strip().rstrip("/").removesuffix(".git")
    scheme, sep, rest = key.partition("://")
    if sep:
        host, slash, path = rest.partition("/")
        key = f"{scheme.lower()}://{host.lower()}{slash}{path}"
    return key


def branch_ref(branch: str) -> str:
    """``main`` and ``refs/heads/main`` name the same branch; tags and other refs are kept as given."""
    branch = branch.strip()
    return branch if branch.startswith("refs/") else f"refs/heads/{branch}"


def short_name(ref: str) -> str:
    return ref.removeprefix("refs/heads/").removeprefix("refs/tags/")


class Remotes:
    """Every repository the emulator has heard of. Unknown repositories exist on first use (any URL works)."""

    def __init__(self) -> None:
        self._heads: dict[str, dict[str, str]] = {}
        self._known: dict[str, set[str]] = {}
        self._pushes = 0

    def head(self, url: str, branch: str) -> str:
        """The SHA a branch points at now; a branch never pushed to gets a SHA derived from repo and branch."""
        key, ref = repo_key(url), branch_ref(branch)
        heads = self._heads.setdefault(key, {})
        if ref not in heads:
            heads[ref] = hashlib.sha1(f"{key}\0{ref}".encode()).hexdigest()
            self._known.setdefault(key, set()).add(heads[ref])
        return heads[ref]

    def push(self, url: str, branch: str, commit: str | None = None) -> str:
        """Move a branch to ``commit`` (or to a new SHA); returns the new head."""
        if commit is not None and not _SHA.fullmatch(commit):
            raise ValueError("commit must be a full 40-character lowercase hexadecimal SHA")
        key, ref = repo_key(url), branch_ref(branch)
        previous = self.head(url, branch)
        self._pushes += 1
        new = commit or hashlib.sha1(f"{key}\0{ref}\0{previous}\0{self._pushes}".encode()).hexdigest()
        self._heads[key][ref] = new
        self._known[key].add(new)
        return new

    def has_commit(self, url: str, commit: str) -> bool:
        key = repo_key(url)
        if key not in self._known:
            self.head(url, DEFAULT_BRANCH)
        return commit in self._known[key]
