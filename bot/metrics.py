"""Prometheus metrics, on a registry of the app's own (several apps can share a process, as in the tests).

deploybot_commands_total{verb, outcome}                     /deploy commands: ok | refused | error
deploybot_pulumi_requests_total{endpoint, status}           every HTTP attempt to Pulumi ("none": no answer)
deploybot_pulumi_request_seconds{endpoint}                  their latency
deploybot_slack_calls_total{method, outcome}                Web API calls: ok | error once per call, and
                                                            ratelimited once per 429 (slack_sdk's retried too);
                                                            withdrawn: progress never sent, told with later news
deploybot_report_lag_seconds                                a step or status change in Pulumi → its Slack report
deploybot_watches, deploybot_pending_approvals, deploybot_outbox_depth    read when scraped
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

Gauges = Callable[[], Awaitable[dict[str, float]]]


class _Scraped(Collector):
    """Gauges whose values are read at scrape time (from Redis, the outbox) rather than kept up to date."""

    def __init__(self) -> None:
        self.values: dict[str, float] = {}

    def collect(self) -> Iterable[GaugeMetricFamily]:
        helps = {
            "deploybot_watches": "Deployments being followed.",
            "deploybot_pending_approvals": "Approval requests still open.",
            "deploybot_outbox_depth": "Slack calls waiting in the outbox.",
        }
        for name, text in helps.items():
            if name in self.values:
                yield GaugeMetricFamily(name, text, value=self.values[name])


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.commands = Counter(
            "deploybot_commands", "/deploy commands by verb and outcome.", ["verb", "outcome"], registry=self.registry
        )
        self.pulumi_requests = Counter(
            "deploybot_pulumi_requests",
            "Pulumi API attempts by endpoint and status.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.pulumi_seconds = Histogram(
            "deploybot_pulumi_request_seconds", "Pulumi API latency.", ["endpoint"], registry=self.registry
        )
        self.slack_calls = Counter(
            "deploybot_slack_calls",
            "Slack Web API calls by method and outcome (ok, error); ratelimited counts every 429 answer, withdrawn "
            "every progress call the rate limits held too long (never sent; a later report tells it).",
            ["method", "outcome"],
            registry=self.registry,
        )
        self.report_lag = Histogram(
            "deploybot_report_lag_seconds",
            "From a change in Pulumi to the Slack call that reports it.",
            buckets=(0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 30, 60, 120),
            registry=self.registry,
        )
        self._scraped = _Scraped()
        self.registry.register(self._scraped)
        self._gauges: Gauges | None = None
        self.last_pulumi_answer: float | None = None  # monotonic time of the last answer of any status

    def pulumi_call(self, endpoint: str, status: int | None, seconds: float) -> None:
        """The Pulumi client's observer: one call per HTTP attempt."""
        self.pulumi_requests.labels(endpoint, str(status) if status is not None else "none").inc()
        self.pulumi_seconds.labels(endpoint).observe(seconds)
        if status is not None:
            self.last_pulumi_answer = time.monotonic()

    def slack_call(self, method: str, outcome: str) -> None:
        self.slack_calls.labels(method, outcome).inc()

    def read_gauges_with(self, gauges: Gauges) -> None:
        self._gauges = gauges

    async def render(self) -> bytes:
        """The text exposition format, with the scraped gauges read now."""
        if self._gauges is not None:
            self._scraped.values = await self._gauges()
        return generate_latest(self.registry)
