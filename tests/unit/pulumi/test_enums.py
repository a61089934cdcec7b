"""Open enums: a status Pulumi adds later is kept, shown and sent back as written, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.pulumi.models import Deployment, JobStatus, PulumiOperation, StepRun, StepStatus, Unrecognized, is_finished

BASE = {
    "id": "d-1",
    "created": "2022-10-17 22:12:34.834",
    "modified": "2022-10-17 22:12:42.411",
    "version": 3,
}


def test_known_statuses_become_members() -> None:
    deployment = Deployment.model_validate({**BASE, "status": "running"})
    assert deployment.status is JobStatus.RUNNING
    assert not deployment.is_finished


KNOWN = {member.value for member in JobStatus} | {member.value for member in PulumiOperation}


@given(st.text(min_size=1).filter(lambda text: text not in KNOWN))
def test_unknown_statuses_are_kept_as_written(raw: str) -> None:
    deployment = Deployment.model_validate({**BASE, "status": raw, "pulumiOperation": raw})
    assert deployment.status == Unrecognized(raw)
    assert str(deployment.status) == raw
    assert deployment.pulumi_operation == Unrecognized(raw)
    assert deployment.model_dump(mode="json")["status"] == raw
    # An unknown status is not assumed to be final: a watcher keeps looking rather than declaring an outcome.
    assert not deployment.is_finished


@pytest.mark.parametrize(
    ("status", "finished"),
    [(JobStatus.SUCCEEDED, True), (JobStatus.FAILED, True), (JobStatus.SKIPPED, True), (JobStatus.ACCEPTED, False)],
)
def test_finished_statuses(status: JobStatus, finished: bool) -> None:
    assert is_finished(status) is finished
    assert Deployment.model_validate({**BASE, "status": status.value}).is_finished is finished


def test_step_status_tolerates_new_values_too() -> None:
    step = StepRun.model_validate({"name": "Setup", "status": "cancelled"})
    assert step.status == Unrecognized("cancelled")
    assert StepRun.model_validate({"name": "Setup", "status": "running"}).status is StepStatus.RUNNING
