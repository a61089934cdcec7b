"""Which ``[[stacks]]`` pattern applies to a stack: glob matching part by part, and "the most specific match wins".

Specificity, most specific first: fewer ``*``, then fewer ``?``, then more literal characters; a tie goes to the
later entry in the file. Matching ignores case (see ``matches``).
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

Specificity = tuple[int, int, int]


def split_stack(stack: str) -> tuple[str, str, str]:
    """``org/project/stack`` as its three parts; anything else is a ValueError saying what to write."""
    parts = stack.split("/")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"{stack!r} is not a stack: write org/project/stack")
    return parts[0], parts[1], parts[2]


def matches(pattern: str, stack: str) -> bool:
    """Whether ``pattern`` (already validated: three parts, only ``*`` and ``?`` as wildcards) covers ``stack``.

    Each part is matched on its own, so ``*`` never crosses a ``/``. Case is ignored: if Pulumi resolves
    ``acme/web/Prod`` to the ``prod`` stack, a case-sensitive ``acme/*/prod`` would let that spelling skip its gate.
    """
    # fnmatchcase on lower-cased text rather than fnmatch: fnmatch folds case only on Windows.
    return all(
        fnmatchcase(name.lower(), glob.lower())
        for name, glob in zip(split_stack(stack), pattern.split("/"), strict=True)
    )


def specificity(pattern: str) -> Specificity:
    """A sort key where smaller is more specific."""
    stars = pattern.count("*")
    questions = pattern.count("?")
    literals = len(pattern.replace("/", "")) - stars - questions
    return stars, questions, -literals


def most_specific(patterns: Sequence[str], stack: str) -> int | None:
    """The index of the pattern that applies to ``stack``, or None when none matches."""
    best: int | None = None
    for index, pattern in enumerate(patterns):
        # "<=" so that, among equally specific patterns, the later one wins.
        if matches(pattern, stack) and (best is None or specificity(pattern) <= specificity(patterns[best])):
            best = index
    return best
