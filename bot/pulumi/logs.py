"""Following a deployment's logs page by page, in streaming mode (tokens) and step mode (offsets).

Both stop at the end of a finished deployment, and for a running one once the cursor stops advancing — they
return the lines so far instead of waiting; call again later with the last cursor to continue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from bot.pulumi.models import DeploymentLogs, DeploymentStepLogs


async def follow_stream(
    fetch: Callable[[str | None], Awaitable[DeploymentLogs]], token: str | None = None
) -> AsyncIterator[DeploymentLogs]:
    """Pages from ``token`` on: until ``nextToken`` is absent (finished) or comes back unchanged (no new lines)."""
    while True:
        page = await fetch(token)
        yield page
        if not page.next_token or page.next_token == token:
            return
        token = page.next_token


async def follow_step(
    fetch: Callable[[int], Awaitable[DeploymentStepLogs]], offset: int = 0
) -> AsyncIterator[DeploymentStepLogs]:
    """Pages of one step from ``offset`` on: until ``nextOffset`` is absent or does not move forward."""
    while True:
        page = await fetch(offset)
        yield page
        if page.next_offset is None or page.next_offset <= offset:
            return
        offset = page.next_offset
