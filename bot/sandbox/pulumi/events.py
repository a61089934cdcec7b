"""State transitions: what the engine reports to listeners, and the event log kept for lag measurements.

Listeners are the seam for later features (Pulumi's deployment webhooks fire on queued/started/succeeded/failed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox.pulumi.journal import Journal
from bot.sandbox.pulumi.state import Deployment


@dataclass(frozen=True)
class Transition:
    at_ns: int
    deployment: Deployment
    from_status: str | None  # None when the deployment was just created (queued)
    to_status: str
    step: int | None = None  # set for a step's transition (zero-based index into the job's steps)


Listener = Callable[[Transition], None]


class EventLog(Journal):
    """Every transition, as JSON: a listener the emulator always has."""

    def __call__(self, transition: Transition) -> None:
        deployment = transition.deployment
        event: dict[str, Any] = {
            "atNs": transition.at_ns,
            "kind": "deployment" if transition.step is None else "step",
            "deploymentId": deployment.id,
            "stack": deployment.stack.ref,
            "version": deployment.version,
            "operation": deployment.operation,
            "from": transition.from_status,
            "to": transition.to_status,
        }
        if transition.step is not None:
            event["step"] = transition.step
            event["stepName"] = deployment.steps[transition.step].name
        self.add(event, transition.at_ns)
