"""The console's two ends at a terminal: lines in (stdin, read in a daemon thread, with readline on a terminal) and
text out (printed above the prompt without losing what the person was typing)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any, Protocol, TextIO


class Lines(Protocol):
    """Where console input comes from; None means there is no more."""

    async def next_line(self, prompt: str) -> str | None: ...


class Screen:
    """Prints chunks of output; on a terminal, clears the prompt line first and draws it again after."""

    def __init__(self, out: TextIO, *, redraw: bool) -> None:
        self._out = out
        self._redraw = redraw
        self.prompt: str | None = None  # set while a prompt waits for a line

    def write(self, text: str) -> None:
        if self._redraw and self.prompt is not None:
            self._out.write("\r\x1b[2K" + text + "\n" + self.prompt + _typed_so_far())
        else:
            self._out.write(text + "\n")
        self._out.flush()

    def end_prompt(self) -> None:
        """No more prompts: clear the one showing (with what was half typed) and stop drawing it."""
        if self._redraw and self.prompt is not None:
            self._out.write("\r\x1b[2K")
            self._out.flush()
        self._redraw = False

    def echo(self, prompt: str, line: str) -> None:
        """Show a line that did not come from someone typing it (a script, a pipe)."""
        self._out.write(prompt + line + "\n")
        self._out.flush()


def _typed_so_far() -> str:
    try:
        import readline
    except ImportError:  # no readline (Windows): the half-typed line is still in the terminal's buffer, just hidden
        return ""
    return readline.get_line_buffer()


class StdinLines:
    """Lines from stdin, read in a daemon thread so that Ctrl-C never waits for Enter.

    On a terminal the thread uses ``input()`` (readline editing and history); otherwise it reads the file descriptor
    directly, since a daemon thread blocked inside ``sys.stdin`` holds a lock that aborts the interpreter's exit.
    """

    def __init__(self, screen: Screen, *, terminal: bool) -> None:
        self._screen = screen
        self._terminal = terminal
        self._requests: list[tuple[str, asyncio.Future[str | None]]] = []
        self._wanted = threading.Condition()
        self._thread: threading.Thread | None = None

    async def next_line(self, prompt: str) -> str | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()
        with self._wanted:
            self._requests.append((prompt, future))
            self._wanted.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._read, args=(loop,), name="console-input", daemon=True)
            self._thread.start()
        self._screen.prompt = prompt if self._terminal else None
        try:
            line = await future
        finally:
            self._screen.prompt = None
        if line is not None and not self._terminal:
            self._screen.echo(prompt, line)
        return line

    def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        piped = _fd_lines(sys.stdin.fileno()) if not self._terminal else None
        if self._terminal:
            with contextlib.suppress(ImportError):  # input() edits lines and keeps history once readline is loaded
                importlib.import_module("readline")
        while True:
            with self._wanted:
                while not self._requests:
                    self._wanted.wait()
                prompt, future = self._requests.pop(0)
            line: str | None
            if piped is not None:
                line = next(piped, None)
            else:
                try:
                    line = input(prompt)
                except EOFError:
                    line = None
            with contextlib.suppress(RuntimeError):  # the loop closed while this thread waited
                loop.call_soon_threadsafe(_settle, future, line)
            if line is None:
                return


def _settle(future: asyncio.Future[str | None], line: str | None) -> None:
    if not future.done():
        future.set_result(line)


def _fd_lines(fd: int) -> Iterator[str]:
    pending = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            if pending:
                yield pending.decode("utf-8", errors="replace")
            return
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            yield raw.decode("utf-8", errors="replace").rstrip("\r")


class TerminalModes:
    """Saves the terminal's settings and puts them back on exit: readline, stopped mid-line, would leave echo off."""

    def __init__(self, stream: TextIO) -> None:
        self._fd = stream.fileno() if stream.isatty() else None
        self._saved: list[Any] | None = None

    def __enter__(self) -> TerminalModes:
        if self._fd is not None:
            with contextlib.suppress(ImportError, OSError):
                import termios

                self._saved = termios.tcgetattr(self._fd)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None and self._saved is not None:
            with contextlib.suppress(ImportError, OSError):
                import termios

                termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
