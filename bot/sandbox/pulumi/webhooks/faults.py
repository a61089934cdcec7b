"""Injected webhook faults: drop the next N deliveries, send the next N twice, delay them, or reorder a batch."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FaultSpec(BaseModel):
    """The body of POST /_sandbox/webhooks/faults; each field given replaces that fault's current setting."""

    model_config = ConfigDict(extra="forbid", strict=True)
    drop: int | None = Field(None, ge=0, le=1_000_000)
    duplicate: int | None = Field(None, ge=0, le=1_000_000)
    delay: float | int | None = Field(None, ge=0, le=30)
    count: int | None = Field(None, ge=1, le=1_000_000)  # how many deliveries the delay applies to (None: all)
    reorder: int | None = Field(None, ge=0, le=1_000)

    @model_validator(mode="after")
    def _effect(self) -> FaultSpec:
        if not self.model_fields_set - {"count"}:
            raise ValueError("a webhook fault needs one of drop, duplicate, delay or reorder")
        if self.count is not None and self.delay is None:
            raise ValueError("count goes with delay (drop, duplicate and reorder carry their own count)")
        if self.reorder == 1:
            raise ValueError("reorder needs at least 2 deliveries to change their order (0 turns it off)")
        return self


class WebhookFaults:
    """What the next deliveries suffer. Drop wins over everything; the others combine."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.drop = 0
        self.duplicate = 0
        self.delay = 0.0
        self.delay_count: int | None = None  # None: every delivery while ``delay`` is set
        self.reorder = 0

    def set(self, spec: FaultSpec) -> None:
        if spec.drop is not None:
            self.drop = spec.drop
        if spec.duplicate is not None:
            self.duplicate = spec.duplicate
        if spec.delay is not None:
            self.delay = float(spec.delay)
            self.delay_count = spec.count if self.delay else None
        if spec.reorder is not None:
            self.reorder = spec.reorder

    def take_drop(self) -> bool:
        if self.drop:
            self.drop -= 1
            return True
        return False

    def take_duplicate(self) -> bool:
        if self.duplicate:
            self.duplicate -= 1
            return True
        return False

    def take_delay(self) -> float:
        if not self.delay:
            return 0.0
        delay = self.delay
        if self.delay_count is not None:
            self.delay_count -= 1
            if self.delay_count == 0:
                self.delay, self.delay_count = 0.0, None
        return delay

    def wire(self) -> dict[str, Any]:
        return {
            "drop": self.drop,
            "duplicate": self.duplicate,
            "delay": self.delay,
            "count": self.delay_count,
            "reorder": self.reorder,
        }
