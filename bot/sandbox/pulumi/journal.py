"""An append-only, size-bounded list of JSON-ready entries numbered by ``seq`` (request log, event log)."""

from __future__ import annotations

from typing import Any

from bot.sandbox.pulumi.clock import now_ns, rfc3339


class Journal:
    def __init__(self, size: int) -> None:
        # A list trimmed in halves rather than a deque, so ``since`` can slice by seq without a scan.
        self._entries: list[dict[str, Any]] = []
        self._size = size
        self._seq = 0

    def add(self, entry: dict[str, Any], at_ns: int | None = None) -> None:
        self._seq += 1
        self._entries.append({"seq": self._seq, "at": rfc3339(at_ns or now_ns()), **entry})
        if len(self._entries) > 2 * self._size:
            del self._entries[: -self._size]

    def since(self, seq: int) -> list[dict[str, Any]]:
        """Entries with a ``seq`` above ``seq``, oldest first (0 = all that are kept)."""
        if not self._entries:
            return []
        return self._entries[max(0, seq - self._entries[0]["seq"] + 1) :]

    def clear(self) -> None:
        self._entries.clear()
