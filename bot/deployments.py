"""Deployment work the commands and buttons share: starting one (secrets encrypted first), finding one by id,
``#version`` or "latest", and reading its log. Talks to Pulumi only; knows nothing of Slack.
"""

from __future__ import annotations

from collections import deque
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr, ValidationError

from bot.command import CommandError, DeployCommand, DeploymentRef
from bot.errors import NotFound
from bot.overrides import assign
from bot.pulumi import (
    CreateDeploymentRequest,
    Deployment,
    DeploymentCreated,
    DeploymentStepLogs,
    PulumiClient,
    StackRef,
)
from bot.pulumi.models import REDACTED

LOG_TAIL = 30  # lines a log excerpt shows by default


async def encrypt_secrets(pulumi: PulumiClient, stack: StackRef, secrets: dict[str, SecretStr]) -> dict[str, str]:
    """Each secret as the stack's ciphertext, so the plaintext is never stored or sent again."""
    encrypted = {}
    for name, value in secrets.items():
        if not value.get_secret_value():
            raise CommandError(f"--secret-env {name} is empty", "update")
        ciphertext = (await pulumi.encrypt_secret(stack, value)).ciphertext
        assert ciphertext is not None  # encrypt_secret raises BadResponse otherwise
        encrypted[name] = ciphertext
    return encrypted


def create_request(command: DeployCommand, ciphertexts: dict[str, str]) -> CreateDeploymentRequest:
    """The create body: the command's patch, the encrypted secrets, the operation and the inherit flag."""
    patch = dict(command.patch)
    for name, ciphertext in ciphertexts.items():
        assign(patch, ["operationContext", "environmentVariables", name], {"ciphertext": ciphertext})
    try:
        return CreateDeploymentRequest.model_validate(
            {**patch, "operation": command.operation, "inheritSettings": command.inherit}
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CommandError(f"{where}: {first['msg']}", command.operation) from None


async def seal(pulumi: PulumiClient, stack: StackRef, document: Any) -> Any:
    """``document`` with every plaintext secret (``{"secret": "…"}``, e.g. from ``--set``) turned into ciphertext,
    so what the bot sends and stores (for Retry) never holds a plaintext secret."""
    if isinstance(document, list):
        return [await seal(pulumi, stack, item) for item in document]
    if not isinstance(document, dict):
        return document
    secret = document.get("secret")
    if set(document) == {"secret"} and isinstance(secret, str) and secret and secret != REDACTED:
        encrypted = await pulumi.encrypt_secret(stack, SecretStr(secret))
        return {"ciphertext": encrypted.ciphertext}
    return {key: await seal(pulumi, stack, value) for key, value in document.items()}


async def prepare(pulumi: PulumiClient, command: DeployCommand) -> dict[str, Any]:
    """The create request the command describes, with every secret turned into the stack's ciphertext: safe to
    store while it waits (for approval, or for Retry)."""
    ciphertexts = await encrypt_secrets(pulumi, command.stack, command.secret_env)
    sealed: dict[str, Any] = await seal(pulumi, command.stack, create_request(command, ciphertexts).to_wire())
    return sealed


async def start(pulumi: PulumiClient, command: DeployCommand) -> tuple[DeploymentCreated, dict[str, Any]]:
    """Create the deployment the command describes (Pulumi queues it when the stack or org is busy or paused).

    Returns Pulumi's answer and the request as sent, which holds secrets only as ciphertext.
    """
    request = await prepare(pulumi, command)
    return await restart(pulumi, command.stack, request), request


async def restart(pulumi: PulumiClient, stack: StackRef, request: dict[str, Any]) -> DeploymentCreated:
    """Create a deployment from a request recorded earlier (the Retry button)."""
    return await pulumi.create_deployment(stack, CreateDeploymentRequest.model_validate(request))


async def resolve(pulumi: PulumiClient, stack: StackRef, ref: DeploymentRef | None) -> Deployment:
    """The deployment ``ref`` names, or the stack's latest one."""
    if ref is None:
        page = await pulumi.list_deployments(stack, page=1, page_size=1)
        if not page.deployments:
            raise NotFound(404, f"stack {stack} has no deployments yet", resource="deployment")
        # List entries lack the configuration; the full record comes from GET by id.
        return await pulumi.get_deployment(stack, page.deployments[0].id)
    if ref.version is not None:
        return await pulumi.get_deployment_by_version(stack, ref.version)
    assert ref.id is not None  # a DeploymentRef holds one or the other
    return await pulumi.get_deployment(stack, ref.id)


async def log_tail(pulumi: PulumiClient, stack: StackRef, deployment_id: str, lines: int = LOG_TAIL) -> list[str]:
    """The last ``lines`` lines of the streamed log (so far, for a running deployment), step headers included."""
    kept: deque[str] = deque(maxlen=lines)
    async for entry in pulumi.iter_logs(stack, deployment_id):
        if entry.header is not None:
            kept.append(f"── {entry.header} ──")
        elif entry.line is not None:
            kept.extend(entry.line.rstrip("\n").split("\n"))
    return list(kept)


async def step_page(
    pulumi: PulumiClient, stack: StackRef, deployment: Deployment, job: int, step: int, offset: int, count: int
) -> tuple[str, DeploymentStepLogs]:
    """One page of a step's log; ``job`` and ``step`` are 1-based as /deploy status numbers them."""
    if not 1 <= job <= len(deployment.jobs):
        raise CommandError(f"deployment #{deployment.version} has no job {job} (it has {len(deployment.jobs)})", "logs")
    steps = deployment.jobs[job - 1].steps
    if not 1 <= step <= len(steps):
        raise CommandError(f"deployment #{deployment.version} has no step {step} (it has {len(steps)})", "logs")
    page = await pulumi.get_step_logs(stack, deployment.id, job=job - 1, step=step - 1, offset=offset, count=count)
    return steps[step - 1].name, page


def console_url(backend_url: str, stack: StackRef, version: int) -> str | None:
    """The Pulumi console page of a deployment, when the backend is Pulumi Cloud (``api.*`` → ``app.*``)."""
    parts = urlsplit(backend_url)
    if not parts.hostname or not parts.hostname.startswith("api."):
        return None
    host = "app." + parts.netloc.removeprefix("api.")
    return urlunsplit((parts.scheme, host, f"/{stack.org}/{stack.project}/{stack.stack}/deployments/{version}", "", ""))
