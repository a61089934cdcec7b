"""The emulator's start-up configuration (one frozen dataclass, built by the CLI or the test handle)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.sandbox.pulumi.webhooks.hook import WebhookConfig


@dataclass(frozen=True)
class EmulatorConfig:
    """How one emulator instance behaves; see the package docstring for the control API."""

    admin_tokens: tuple[str, ...]
    member_tokens: tuple[str, ...] = ()
    # "org/project/stack" names created at start (with default settings). Empty: seed the demo org, if demo_org.
    stacks: tuple[str, ...] = ()
    concurrency: int = 4  # deployments running at once per organization
    step_seconds: float = 1.0
    manual_clock: bool = False  # True: the clock only moves on POST /_sandbox/advance
    # The automatic clock's phases: it ticks ``phases`` times a step and each tick moves the deployments whose
    # sequence number is that phase (mod phases), so each still takes step_seconds a step but their transitions
    # spread over the step instead of all landing on one tick. 1 (the default): every tick moves every deployment.
    # Queued deployments start in their own phase, so with a concurrency limit a later one can start first.
    phases: int = 1
    console_url: str = "https://app.pulumi.com"
    seed: int = 0  # seeds the random choice of probabilistic faults
    demo_org: bool = True  # seed the "acme" demo organization when no stacks are given
    orgs: tuple[str, ...] = ()  # organizations that exist even without stacks
    max_body_bytes: int = 256 * 1024
    event_log_size: int = 200_000  # newest transitions kept for GET /_sandbox/events
    request_log_size: int = 20_000
    webhooks: tuple[WebhookConfig, ...] = ()  # hooks that exist at start and after every reset
    webhook_timeout: float = 5.0  # seconds one delivery may take before it counts as unanswered
    webhook_queue_size: int = 10_000  # deliveries waiting to be sent; beyond it they are recorded as not sent
    webhook_senders: int = 4  # tasks sending at once
    webhook_log_size: int = 10_000  # newest deliveries kept for GET /_sandbox/webhooks/deliveries

    def __post_init__(self) -> None:
        if not self.admin_tokens:
            raise ValueError("the emulator needs at least one admin token")
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.step_seconds <= 0:
            raise ValueError("step_seconds must be positive")
        if self.phases < 1:
            raise ValueError("phases must be at least 1")
        if not self.webhook_timeout > 0:
            raise ValueError("webhook_timeout must be positive")
        if min(self.webhook_queue_size, self.webhook_senders, self.webhook_log_size) < 1:
            raise ValueError("webhook_queue_size, webhook_senders and webhook_log_size must be at least 1")
