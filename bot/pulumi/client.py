"""PulumiClient: one async method per Pulumi Deployments endpoint, plus log iterators.

Usage: ``async with PulumiClient(token, base_url=url) as pulumi: await pulumi.get_deployment(stack, id)``.
Every failure is one of ``bot.errors``' exceptions (see the tree there); the token never appears in any output.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from types import TracebackType
from typing import Any, Self, TypeVar

from pydantic import SecretStr

from bot.errors import AlreadyFinished, BadResponse, NotFound, PulumiHTTPError, ServerError, Unavailable
from bot.pulumi.calls import only_status, org_call, page_query, read_body, stack_call
from bot.pulumi.http import Call, CallObserver, Transport
from bot.pulumi.logs import follow_step, follow_stream
from bot.pulumi.models import (
    AnyDeploymentLogs,
    CreateDeploymentRequest,
    Deployment,
    DeploymentCreated,
    DeploymentLogs,
    DeploymentPage,
    DeploymentSettings,
    DeploymentStepLogs,
    JobStatus,
    LogLine,
    OrgDeploymentsMetadata,
    SecretValue,
    SettingsFields,
    StackDeploymentsMetadata,
    StepLogLine,
    UpdateInfo,
)
from bot.pulumi.retry import Replay, RetryPolicy
from bot.pulumi.stack import StackRef

DEFAULT_BASE_URL = "https://api.pulumi.com"
T = TypeVar("T")

# Replay choices, per endpoint (see retry.Replay):
# - GET anything, PUT settings (a full replace): repeating changes nothing.
# - POST settings (merge patch): merging the same patch twice gives the result of merging it once.
# - DELETE settings: a repeat after a lost answer finds no settings; clear_settings treats that as done.
# - encrypt: computes a ciphertext, stores nothing.
# - pause/resume: set a flag, so a repeat changes nothing.
# - cancel: sent once; after an unclear failure the deployment is read, and cancel repeated only if it still runs.
# - create: UNDELIVERED_ONLY — a repeat after the server may have seen it would start a second deployment.


class PulumiClient:
    """Async client for the Pulumi Deployments REST API; one connection pool for its lifetime."""

    def __init__(
        self,
        token: SecretStr,
        *,
        base_url: str = DEFAULT_BASE_URL,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        on_call: CallObserver | None = None,
    ) -> None:
        self._transport = Transport(
            base_url,
            token,
            retry=retry or RetryPolicy(),
            timeout=timeout,
            connect_timeout=connect_timeout,
            on_call=on_call,
        )

    def __repr__(self) -> str:
        return f"PulumiClient(base_url={self._transport.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool; the client cannot be used afterwards."""
        await self._transport.aclose()

    # Settings -------------------------------------------------------------------------------------------------

    async def get_settings(self, stack: StackRef) -> DeploymentSettings:
        """The stack's deployment settings; NotFound(resource="settings") when it has none."""
        return await self._call(stack_call("GET", stack, "/deployments/settings"), DeploymentSettings)

    async def patch_settings(self, stack: StackRef, patch: SettingsFields) -> DeploymentSettings:
        """Merge ``patch`` into the stack's settings (unset fields kept, fields set to None removed)."""
        call = stack_call("POST", stack, "/deployments/settings", body=patch.to_wire())
        return await self._call(call, DeploymentSettings)

    async def replace_settings(self, stack: StackRef, settings: SettingsFields) -> DeploymentSettings:
        """Replace the stack's settings whole."""
        call = stack_call("PUT", stack, "/deployments/settings", body=settings.to_wire())
        return await self._call(call, DeploymentSettings)

    async def clear_settings(self, stack: StackRef) -> None:
        """Remove the stack's settings; a stack that has none already is left as it is."""
        try:
            await self._transport.send(stack_call("DELETE", stack, "/deployments/settings"))
        except NotFound as exc:
            if exc.resource != "settings":
                raise

    async def encrypt_secret(self, stack: StackRef, value: SecretStr | str) -> SecretValue:
        """The stack's ciphertext for ``value``: store and send that instead of the plaintext."""
        plaintext = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not plaintext:
            raise ValueError("there is nothing to encrypt: the secret is empty")
        call = stack_call("POST", stack, "/deployments/settings/encrypt", body={"secret": plaintext})
        secret: SecretValue = await self._call(call, SecretValue)
        if secret.ciphertext is None:
            raise BadResponse(f"Pulumi's answer to {call.endpoint} carries no ciphertext")
        return secret

    # Deployments ----------------------------------------------------------------------------------------------

    async def create_deployment(self, stack: StackRef, request: CreateDeploymentRequest) -> DeploymentCreated:
        """Start (or queue) a deployment. Retried only when it surely did not reach the server."""
        call = stack_call("POST", stack, "/deployments", body=request.to_wire(), replay=Replay.UNDELIVERED_ONLY)
        unsure = (
            f"so it was not repeated, to avoid starting a second {request.operation} on {stack}; "
            "check the stack's deployments before trying again"
        )
        try:
            return await self._call(call, DeploymentCreated)
        except Unavailable as exc:
            if exc.sent is False:
                raise
            raise Unavailable(f"{exc}. The request may have reached Pulumi, {unsure}", sent=exc.sent) from exc
        except ServerError as exc:
            message = f"{exc}. Pulumi may have started the deployment anyway, {unsure}"
            raise ServerError(exc.status, message, code=exc.code, method=exc.method, path=exc.path) from exc

    async def get_deployment(self, stack: StackRef, deployment_id: str) -> Deployment:
        call = stack_call("GET", stack, "/deployments/{id}", id=deployment_id)
        return await self._call(call, Deployment)

    async def get_deployment_by_version(self, stack: StackRef, version: int) -> Deployment:
        if version < 1:
            raise ValueError(f"deployment versions start at 1, not {version}")
        return await self._call(stack_call("GET", stack, "/deployments/version/{version}", version=version), Deployment)

    async def list_deployments(
        self, stack: StackRef, *, page: int = 1, page_size: int = 10, asc: bool = False, status: JobStatus | None = None
    ) -> DeploymentPage:
        """One page of the stack's deployments, newest first unless ``asc``."""
        call = stack_call("GET", stack, "/deployments", query=page_query(page, page_size, asc, status))
        return only_status(await self._call(call, DeploymentPage), status)

    async def list_org_deployments(
        self, org: str, *, page: int = 1, page_size: int = 10, asc: bool = False, status: JobStatus | None = None
    ) -> DeploymentPage:
        """One page of the organization's deployments (those the token's user may see)."""
        call = org_call("GET", org, "/deployments", query=page_query(page, page_size, asc, status))
        return only_status(await self._call(call, DeploymentPage), status)

    async def get_deployment_updates(self, stack: StackRef, deployment_id: str) -> list[UpdateInfo]:
        """The engine runs of a deployment, with their resource change counts."""
        call = stack_call("GET", stack, "/deployments/{id}/updates", id=deployment_id)
        updates: list[UpdateInfo] = await self._call(call, list[UpdateInfo])
        return updates

    async def cancel_deployment(self, stack: StackRef, deployment_id: str) -> None:
        """Stop a running deployment or drop a queued one; AlreadyFinished when there is nothing left to cancel."""
        once = stack_call("POST", stack, "/deployments/{id}/cancel", id=deployment_id, replay=Replay.UNDELIVERED_ONLY)
        try:
            await self._cancel(once, deployment_id, stack)
        except (ServerError, Unavailable) as exc:
            if isinstance(exc, Unavailable) and exc.sent is False:
                raise
            # The cancel may have worked before its answer was lost; a blind repeat would then be told "already
            # finished" about a deployment we just stopped. So look first, and ask again only if it still runs.
            try:
                if (await self.get_deployment(stack, deployment_id)).is_finished:
                    return
            except NotFound:
                return  # a cancelled queued deployment may be gone altogether
            await self._cancel(replace(once, replay=Replay.IDEMPOTENT), deployment_id, stack)

    async def _cancel(self, call: Call, deployment_id: str, stack: StackRef) -> None:
        try:
            await self._transport.send(call)
        except PulumiHTTPError as exc:
            if exc.status not in (400, 404, 409):
                raise
            # The OpenAPI declares only 404, services answer 400/404/409 alike for a finished deployment.
            message = f"deployment {deployment_id} on {stack} already finished or gone ({exc.status}: {exc.message})"
            raise AlreadyFinished(exc.status, message, resource="deployment", method="POST", path=call.path) from None

    # Logs ----------------------------------------------------------------------------------------------------

    async def get_logs(
        self, stack: StackRef, deployment_id: str, *, continuation_token: str | None = None
    ) -> DeploymentLogs:
        """One page of the streamed log, from the start or from a previous page's ``next_token``."""
        query = {"continuationToken": continuation_token}
        call = stack_call("GET", stack, "/deployments/{id}/logs", id=deployment_id, query=query)
        page: DeploymentLogs | DeploymentStepLogs = await self._call(call, AnyDeploymentLogs)
        if not isinstance(page, DeploymentLogs):
            raise BadResponse(f"Pulumi answered {call.endpoint} in step mode to a streaming request")
        return page

    async def get_step_logs(
        self, stack: StackRef, deployment_id: str, *, job: int = 0, step: int, offset: int = 0, count: int = 100
    ) -> DeploymentStepLogs:
        """Up to ``count`` (1-499) lines of one step (``job`` and ``step`` are zero-based) from ``offset``."""
        if min(job, step, offset) < 0:
            raise ValueError("job, step and offset are zero-based and cannot be negative")
        if not 1 <= count <= 499:
            raise ValueError(f"count must be between 1 and 499, not {count}")
        query = {"job": job, "step": step, "offset": offset, "count": count}
        call = stack_call("GET", stack, "/deployments/{id}/logs", id=deployment_id, query=query)
        page: DeploymentLogs | DeploymentStepLogs = await self._call(call, AnyDeploymentLogs)
        if not isinstance(page, DeploymentStepLogs):
            raise BadResponse(f"Pulumi answered {call.endpoint} in streaming mode to a step request")
        return page

    def iter_log_pages(
        self, stack: StackRef, deployment_id: str, *, continuation_token: str | None = None
    ) -> AsyncIterator[DeploymentLogs]:
        """Streamed pages until the end, or — while it runs — until no new lines (the last page has the token)."""

        async def fetch(token: str | None) -> DeploymentLogs:
            return await self.get_logs(stack, deployment_id, continuation_token=token)

        return follow_stream(fetch, continuation_token)

    async def iter_logs(
        self, stack: StackRef, deployment_id: str, *, continuation_token: str | None = None
    ) -> AsyncIterator[LogLine]:
        """Every streamed entry (headers and lines), as ``iter_log_pages`` reads them."""
        async for page in self.iter_log_pages(stack, deployment_id, continuation_token=continuation_token):
            for line in page.lines:
                yield line

    async def iter_step_logs(
        self, stack: StackRef, deployment_id: str, *, job: int = 0, step: int, offset: int = 0, count: int = 100
    ) -> AsyncIterator[StepLogLine]:
        """Every line of one step from ``offset``, fetched ``count`` at a time."""

        async def fetch(at: int) -> DeploymentStepLogs:
            return await self.get_step_logs(stack, deployment_id, job=job, step=step, offset=at, count=count)

        async for page in follow_step(fetch, offset):
            for line in page.lines:
                yield line

    # Pause, resume, metadata ------------------------------------------------------------------------------------

    async def pause_stack(self, stack: StackRef) -> None:
        """Queue new deployments of the stack until resumed; running ones finish. Needs stack settings."""
        await self._transport.send(stack_call("POST", stack, "/deployments/pause"))

    async def resume_stack(self, stack: StackRef) -> None:
        await self._transport.send(stack_call("POST", stack, "/deployments/resume"))

    async def pause_org(self, org: str) -> None:
        """Queue new deployments in the whole organization (administrators only)."""
        await self._transport.send(org_call("POST", org, "/deployments/pause"))

    async def resume_org(self, org: str) -> None:
        await self._transport.send(org_call("POST", org, "/deployments/resume"))

    async def get_stack_metadata(self, stack: StackRef) -> StackDeploymentsMetadata:
        return await self._call(stack_call("GET", stack, "/deployments/metadata"), StackDeploymentsMetadata)

    async def get_org_metadata(self, org: str) -> OrgDeploymentsMetadata:
        return await self._call(org_call("GET", org, "/deployments/metadata"), OrgDeploymentsMetadata)

    # Plumbing ---------------------------------------------------------------------------------------------------

    async def _call(self, call: Call, kind: type[T] | Any) -> T:
        parsed: T = read_body(call, await self._transport.send(call), kind)
        return parsed
