"""Injected faults: "the next N matching requests" or "a share of them" (seeded) get an error, a delay,
an error after the handler ran, or a dropped connection. Matched by method and a path regex.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

FAULT_STATUSES = (429, 500, 502, 503)


class FaultSpec(BaseModel):
    """The body of POST /_sandbox/faults."""

    model_config = ConfigDict(extra="forbid", strict=True)
    method: str | None = None
    path: str | None = None  # a regular expression searched in the request path
    status: int | None = None
    retryAfter: int | None = Field(None, ge=0, le=3600)
    delay: float | int | None = Field(None, ge=0, le=30)
    afterHandler: bool = False
    drop: bool = False
    count: int | None = Field(None, ge=1)
    rate: float | int | None = Field(None, gt=0, le=1)

    @field_validator("status")
    @classmethod
    def _status(cls, status: int | None) -> int | None:
        if status is not None and status not in FAULT_STATUSES:
            raise ValueError(f"status must be one of {', '.join(map(str, FAULT_STATUSES))}")
        return status

    @field_validator("path")
    @classmethod
    def _regex(cls, path: str | None) -> str | None:
        if path is not None:
            try:
                re.compile(path)
            except re.error as exc:
                raise ValueError(f"path is not a valid regular expression: {exc}") from None
        return path

    @model_validator(mode="after")
    def _effect(self) -> FaultSpec:
        if self.status is None and not self.delay and not self.afterHandler and not self.drop:
            raise ValueError("a fault needs an effect: status, delay, afterHandler or drop")
        if self.count is not None and self.rate is not None:
            raise ValueError("give count (the next N matching requests) or rate (a share of them), not both")
        return self


@dataclass(eq=False)
class Fault:
    id: int
    spec: FaultSpec
    pattern: re.Pattern[str] | None
    remaining: int | None

    def matches(self, method: str, path: str) -> bool:
        if self.spec.method is not None and self.spec.method.upper() != method.upper():
            return False
        return self.pattern is None or self.pattern.search(path) is not None

    def wire(self) -> dict[str, Any]:
        body = self.spec.model_dump(exclude_none=True)
        body.update(id=self.id, remaining=self.remaining)
        return body


class Faults:
    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._random = random.Random(seed)
        self._faults: list[Fault] = []
        self._next_id = 0

    def add(self, body: object) -> Fault:
        """Raises ValueError with a client-facing message when the body is not a valid fault."""
        try:
            spec = FaultSpec.model_validate(body)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            raise ValueError(f"{where + ': ' if where else ''}{error['msg'].removeprefix('Value error, ')}") from None
        self._next_id += 1
        fault = Fault(self._next_id, spec, re.compile(spec.path) if spec.path else None, spec.count)
        self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The fault this request gets, if any (consuming one of a counted fault's uses)."""
        for fault in self._faults:
            if not fault.matches(method, path):
                continue
            if fault.spec.rate is not None and self._random.random() >= fault.spec.rate:
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
            return fault
        return None

    def list(self) -> list[dict[str, Any]]:
        return [fault.wire() for fault in self._faults]

    def clear(self) -> None:
        self._faults.clear()
        self._random = random.Random(self._seed)
