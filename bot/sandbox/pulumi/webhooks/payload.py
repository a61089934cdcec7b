"""What a deployment webhook says: the event a transition fires, its ``raw`` JSON payload, headers and signature."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from bot.sandbox.pulumi.events import Transition

KIND = "deployment"
USER_AGENT = "pulumi-webhooks/1.0"
# Deployment status -> event. "accepted" fires nothing (Pulumi has no filter for it). "skipped" fires nothing
# either: Pulumi documents no event for it, and it is neither a success nor a failure (our inference).
# "failed" covers cancelled deployments and ones whose stack was deleted before they ran.
_EVENT_BY_STATUS = {
    "not-started": "deployment_queued",
    "running": "deployment_started",
    "succeeded": "deployment_succeeded",
    "failed": "deployment_failed",
}


def event_for(transition: Transition) -> str | None:
    """The webhook event a transition fires, if any (step transitions never do)."""
    if transition.step is not None:
        return None
    if transition.to_status == "not-started" and transition.from_status is not None:
        return None  # only creation queues a deployment
    return _EVENT_BY_STATUS.get(transition.to_status)


def payload(transition: Transition, console_url: str) -> dict[str, Any]:
    """The ``raw`` format body (reference §7), with the status the deployment has at this transition."""
    deployment = transition.deployment
    stack, user = deployment.stack, deployment.requested_by
    org = stack.org.name
    return {
        "user": {"name": user.name, "githubLogin": user.login, "avatarUrl": _avatar(user.login)},
        "organization": {"name": org, "githubLogin": org, "avatarUrl": _avatar(org)},
        "projectName": stack.project,
        "stackName": stack.name,
        "deploymentUrl": f"{console_url.rstrip('/')}/{stack.ref}/deployments/{deployment.version}",
        "version": deployment.version,
        "operation": deployment.operation,
        "status": transition.to_status,
    }


def _avatar(login: str) -> str:
    return f"https://api.pulumi.com/static/avatars/{login}.png"


def signature(secret: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of the raw body (the docs' table and Go/JS samples; not base64)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(delivery_id: str, body: bytes, secret: str | None) -> dict[str, str]:
    sent = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Pulumi-Webhook-ID": delivery_id,
        "Pulumi-Webhook-Kind": KIND,
    }
    if secret is not None:
        sent["Pulumi-Webhook-Signature"] = signature(secret, body)
    return sent
