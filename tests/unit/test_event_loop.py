"""``deploybot serve`` runs on uvloop where it is installed, as the pyproject promises on Linux and macOS."""

from __future__ import annotations

import sys

import pytest

from bot.__main__ import event_loop


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop is not installed on Windows")
def test_serve_runs_on_uvloop_and_redis_parses_with_hiredis() -> None:
    import uvloop
    from redis.utils import HIREDIS_AVAILABLE

    loop = event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
        assert loop.run_until_complete(_answer()) == 42
    finally:
        loop.close()
    assert HIREDIS_AVAILABLE


async def _answer() -> int:
    return 42
