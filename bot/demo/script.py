"""``deploybot demo --script FILE``: console inputs replayed from a file, one per line (``#`` starts a comment), so CI
runs the demo itself; an ``expect TEXT`` line that does not come true in time, or any failing line, fails the run."""

from __future__ import annotations

from pathlib import Path

from bot.demo.terminal import Screen
from bot.errors import ConfigError

EXPECT_TIMEOUT = 30.0  # seconds a script's expect, click or submit waits for what it needs to appear


class ScriptLines:
    """A script's inputs, each echoed after the prompt as if someone had typed it."""

    def __init__(self, path: Path, screen: Screen) -> None:
        try:
            self._lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            raise ConfigError(f"cannot read the script {path}: {reason}") from None
        self._screen = screen
        self.path = path
        self.number = 0  # the line being run, 1-based

    async def next_line(self, prompt: str) -> str | None:
        while self.number < len(self._lines):
            self.number += 1
            line = self._lines[self.number - 1].strip()
            if line and not line.startswith("#"):
                self._screen.echo(prompt, line)
                return line
        return None

    def where(self) -> str:
        return f"{self.path}, line {self.number}"
