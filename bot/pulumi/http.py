"""The transport under the Pulumi client: one aiohttp session, the token header, timeouts, retries with backoff,
and the mapping of every failure to our exceptions. Callers never see aiohttp's, asyncio's or pydantic's errors.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import yarl
from pydantic import SecretStr

from bot.errors import PulumiHTTPError, Unavailable
from bot.pulumi.failure import error_for
from bot.pulumi.retry import Replay, RetryPolicy, parse_retry_after

log = logging.getLogger(__name__)

# Called once per HTTP attempt: endpoint template ("GET /api/stacks/{org}/…"), status (None: no answer), seconds.
CallObserver = Callable[[str, "int | None", float], None]
Query = Mapping[str, str | int | bool | None]


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = ""
    retry_after: str | None = None  # the raw Retry-After header


@dataclass(frozen=True, slots=True)
class Call:
    """One logical request: ``template`` names the endpoint (for metrics and errors), ``path`` is the real one."""

    method: str
    template: str
    path: str
    replay: Replay
    query: Query | None = None
    body: bytes | None = field(default=None, repr=False)  # may hold a secret to encrypt

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.template}"


class Transport:
    """Sends calls to one Pulumi API base URL with one connection pool; create lazily, close with ``aclose()``."""

    def __init__(
        self,
        base_url: str,
        token: SecretStr,
        *,
        retry: RetryPolicy,
        timeout: float,
        connect_timeout: float,
        on_call: CallObserver | None = None,
        user_agent: str = "deploybot",
    ) -> None:
        url = yarl.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"the Pulumi API URL must be http(s)://host[:port], not {base_url!r}")
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._retry = retry
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)
        self._on_call = on_call
        self._user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    @property
    def base_url(self) -> str:
        return self._base_url

    def _open_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this Pulumi client was closed")
        if self._session is None:
            # Built on first use, inside the running loop (aiohttp wants a loop; nothing is built at import time).
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers={"Accept": "application/json", "User-Agent": self._user_agent},
            )
        return self._session

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, call: Call) -> Reply:
        """The first 2xx reply, after the retries the call's ``replay`` allows; otherwise one of our exceptions."""
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                reply = await self._attempt(call)
            except Unavailable as exc:
                self._observe(call.endpoint, None, time.monotonic() - started)
                if attempt >= self._retry.attempts or not call.replay.after_connection_failure(exc.sent):
                    raise
                delay, reason = self._retry.backoff(attempt), str(exc)
            else:
                self._observe(call.endpoint, reply.status, time.monotonic() - started)
                if reply.status < 400:
                    return reply
                error, delay = self._judge(call, reply, attempt)
                if error is not None:
                    raise error
                reason = f"HTTP {reply.status}"
            log.warning(
                "pulumi.retry", extra={"endpoint": call.endpoint, "attempt": attempt, "reason": reason, "delay": delay}
            )
            await asyncio.sleep(delay)

    def _judge(self, call: Call, reply: Reply, attempt: int) -> tuple[PulumiHTTPError | None, float]:
        """(the error to raise, 0) when this answer is final, else (None, seconds to wait before trying again)."""
        retry_after = parse_retry_after(reply.retry_after)
        error = error_for(
            reply.status,
            reply.body,
            method=call.method,
            path=call.path,
            template=call.template,
            content_type=reply.content_type,
            retry_after=retry_after,
        )
        give_up = (
            attempt >= self._retry.attempts
            or not call.replay.after_status(reply.status)
            or (retry_after is not None and retry_after > self._retry.max_retry_after)
        )
        if give_up:
            return error, 0.0
        return None, retry_after if retry_after is not None else self._retry.backoff(attempt)

    async def _attempt(self, call: Call) -> Reply:
        session = self._open_session()
        headers = {"Authorization": f"token {self._token.get_secret_value()}"}
        if call.body is not None:
            headers["Content-Type"] = "application/json"
        params = {key: _query_value(value) for key, value in (call.query or {}).items() if value is not None}
        try:
            # No redirects: the token is for this host only, and Pulumi's API does not redirect.
            async with session.request(
                call.method,
                self._base_url + call.path,
                params=params,
                data=call.body,
                headers=headers,
                allow_redirects=False,
            ) as response:
                body = await response.read()
                return Reply(
                    response.status,
                    body,
                    content_type=response.headers.get("Content-Type", ""),
                    retry_after=response.headers.get("Retry-After"),
                )
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # The connection was never made, so the server cannot have seen the request.
            raise Unavailable(f"cannot reach Pulumi at {self._base_url}: {_reason(exc)}", sent=False) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unavailable(
                f"no answer from Pulumi at {self._base_url} to {call.method} {call.path}: {_reason(exc)}", sent=None
            ) from exc

    def _observe(self, endpoint: str, status: int | None, seconds: float) -> None:
        if self._on_call is None:
            return
        try:
            self._on_call(endpoint, status, seconds)
        except Exception:
            # A metrics hook must never turn a good call into a failure; its bug is logged instead.
            log.exception("pulumi.on_call observer failed", extra={"endpoint": endpoint})


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError) and not str(exc):
        return "timed out"
    return str(exc) or type(exc).__name__
