"""Deployments as JSON: GetDeployment (the union of the SDK's and the CLI's key sets), list snapshots, updates."""

from __future__ import annotations

from typing import Any

from bot.sandbox.pulumi.clock import created_stamp, rfc3339, unix_seconds
from bot.sandbox.pulumi.secrets import Secret
from bot.sandbox.pulumi.state import Deployment, Update


def deployment(item: Deployment) -> dict[str, Any]:
    """GET by id / by version. ``jobs`` is left out until the deployment starts, as the SDK documents."""
    body = _common(item)
    body["latestVersion"] = item.stack.latest_version
    body["configuration"] = configuration(item)
    body["inheritSettings"] = item.inherit_settings  # the CLI's apitype reads it; the SDK ignores it
    if item.started:
        body["jobs"] = [job(item)]
    return body


def snapshot(item: Deployment) -> dict[str, Any]:
    """One entry of a stack or org list; the SDK requires ``jobs`` and ``updates`` here, so they are always set."""
    body = _common(item)
    body["jobs"] = [job(item)] if item.started else []
    return body


def _common(item: Deployment) -> dict[str, Any]:
    stack = item.stack
    return {
        "id": item.id,
        "created": created_stamp(item.created_ns),
        "modified": created_stamp(item.modified_ns),
        "status": item.status,
        "version": item.version,
        "requestedBy": item.requested_by.wire(),
        "projectName": stack.project,
        "stackName": stack.name,
        "paused": item.status == "not-started" and (stack.paused or stack.org.paused),
        "pulumiOperation": item.operation,
        "updates": [nested_update(item.update)] if item.update is not None else [],
        "initiator": item.initiator,
    }


def job(item: Deployment) -> dict[str, Any]:
    last = max([item.job_started_ns, *(step.updated_ns for step in item.steps)])
    return {
        "status": item.status,
        "started": rfc3339(item.job_started_ns),
        "lastUpdated": rfc3339(last),
        "steps": [
            {
                "name": step.name,
                "status": step.status,
                "started": rfc3339(step.started_ns),
                "lastUpdated": rfc3339(step.updated_ns),
            }
            for step in item.steps
        ],
    }


def configuration(item: Deployment) -> dict[str, Any]:
    """Environment variables with secret values hidden, plus those Pulumi adds; the git source as resolved."""
    variables: list[dict[str, Any]] = []
    for name, value in item.settings.get("operationContext", {}).get("environmentVariables", {}).items():
        variables.append(_variable(name, None) if isinstance(value, Secret) else _variable(name, str(value)))
    variables += [
        _variable("PULUMI_CI_BUILD_ID", item.id),
        _variable("PULUMI_CI_BUILD_NUMBER", str(item.version)),
        _variable("PULUMI_CI_SYSTEM", "Pulumi Deploy"),
        _variable("PULUMI_ACCESS_TOKEN", None),
        _variable("PULUMI_BACKEND_URL", item.backend_url),
    ]
    git = item.git()
    source: dict[str, Any] = {"repoURL": git["repoUrl"]}  # DeploymentSourceGit spells it repoURL
    for key in ("branch", "repoDir"):
        if git.get(key):
            source[key] = git[key]
    if item.commit is not None or git.get("commit"):
        source["commit"] = item.commit or git["commit"]
    return {"environmentVariables": variables, "source": {"git": source}}


def _variable(name: str, value: str | None) -> dict[str, Any]:
    if value is None:
        return {"name": name, "secret": True}
    return {"name": name, "value": value, "secret": False}


def nested_update(update: Update) -> dict[str, Any]:
    return {
        "id": update.id,
        "updateID": update.update_id,
        "version": update.version,
        "startTime": unix_seconds(update.start_ns),
        "endTime": unix_seconds(update.end_ns),
        "result": update.result,
        "kind": update.kind,
        "message": "",
        "environment": dict(update.environment),
    }


def update_infos(item: Deployment) -> list[dict[str, Any]]:
    """GET …/deployments/{id}/updates: the update the ``pulumi`` step ran (none before that step starts)."""
    update = item.update
    if update is None:
        return []
    info = {
        "kind": update.kind,
        "startTime": unix_seconds(update.start_ns),
        "message": "",
        "environment": dict(update.environment),
        "config": {},
        "result": update.result,
        "endTime": unix_seconds(update.end_ns),
        "version": update.version,
        "resourceChanges": update.plan.counts(),
        "resourceCount": len(update.plan.after),
    }
    return [
        {
            "info": info,
            "updateID": update.update_id,
            "version": update.version,
            "latestVersion": item.stack.update_versions,
            "requestedBy": item.requested_by.wire(),
        }
    ]
