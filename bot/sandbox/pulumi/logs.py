"""GET …/deployments/{id}/logs: streaming mode (``nextToken``/``continuationToken``) and step mode (``offset``).

The streaming token is "job.step.position" like the seed doc's "0.2.1"; position 0 means the step's header has
not been sent yet, position k means the header and k-1 lines have. Clients must treat it as opaque.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.sandbox.pulumi.body import optional_int
from bot.sandbox.pulumi.clock import ZERO_TIME, rfc3339
from bot.sandbox.pulumi.errors import bad_request, not_found
from bot.sandbox.pulumi.state import Deployment

STREAM_BATCH = 500  # entries per streaming answer; more come with the next token


def logs(deployment: Deployment, query: Mapping[str, str]) -> dict[str, Any]:
    count = optional_int(query, "count")
    if count is not None and not 0 < count < 500:
        raise bad_request("count must be >0 and <500")
    job, step = optional_int(query, "job"), optional_int(query, "step")
    if step is None and job is not None:
        raise bad_request("step is required with job")
    if step is not None:
        return step_logs(deployment, job or 0, step, optional_int(query, "offset") or 0, count or 100)
    return stream(deployment, query.get("continuationToken") or None)


def _position(deployment: Deployment, token: str | None) -> tuple[int, int]:
    if token is None:
        return 0, 0
    try:
        job, step, position = map(int, token.split("."))
    except ValueError:  # not three integers
        raise bad_request(f"invalid continuationToken {token!r}") from None
    if job != 0 or not 0 <= step <= len(deployment.steps) or position < 0:
        raise bad_request(f"invalid continuationToken {token!r}")
    return step, position


def stream(deployment: Deployment, token: str | None) -> dict[str, Any]:
    index, position = _position(deployment, token)
    entries: list[dict[str, str]] = []
    steps = deployment.steps if deployment.started else []
    while index < len(steps) and steps[index].status != "not-started" and len(entries) < STREAM_BATCH:
        step = steps[index]
        if position == 0:
            entries.append({"header": step.name, "timestamp": ZERO_TIME})
            position = 1
        batch = step.lines[position - 1 : position - 1 + STREAM_BATCH - len(entries)]
        entries += [{"timestamp": rfc3339(at), "line": text} for at, text in batch]
        position += len(batch)
        if position - 1 < len(step.lines) or step.status == "running":
            break
        index, position = index + 1, 0
    body: dict[str, Any] = {"__type": "DeploymentLogs", "lines": entries}
    more_steps = index < len(steps) and steps[index].status != "not-started"
    if not deployment.finished or more_steps or (index < len(steps) and position - 1 < len(steps[index].lines)):
        body["nextToken"] = f"0.{index}.{position}"
    return body


def step_logs(deployment: Deployment, job: int, index: int, offset: int, count: int) -> dict[str, Any]:
    if job != 0:
        raise not_found(f"Job {job} not found in deployment '{deployment.id}'")
    if not 0 <= index < len(deployment.steps):
        raise not_found(f"Step {index} not found in deployment '{deployment.id}' (it has {len(deployment.steps)})")
    if offset < 0:
        raise bad_request("offset must not be negative")
    step = deployment.steps[index]
    batch = step.lines[offset : offset + count]
    body: dict[str, Any] = {
        "__type": "DeploymentLogsStep",
        "name": step.name,
        "lines": [{"timestamp": rfc3339(at), "line": text} for at, text in batch],
    }
    # While the step may still print, point at the next line even when there is none yet.
    still_running = step.status in ("not-started", "running") and not deployment.finished
    if offset + len(batch) < len(step.lines) or still_running:
        body["nextOffset"] = offset + len(batch)
    return body
