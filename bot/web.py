"""The bot's HTTP surface: ``POST /slack/events`` into Bolt, ``GET /healthz``, ``/readyz`` and ``/metrics``, and
``POST /webhooks/pulumi``.

Bolt's aiohttp adapter is used as is, except for one correction: Bolt's body parser takes any form body containing
the text "payload" for an interactivity payload, so ``/deploy settings set web/dev payload=x`` would arrive empty.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.metrics import Metrics

MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller; refuse anything bigger before parsing it
# Readiness answers within this, even while Redis or Pulumi hangs (their clients wait 5 and 30 s): Kubernetes gives a
# probe 4 s (deploy/k8s/deployment.yaml), and a probe it gives up on shows no reason and leaves a request running.
READY_WITHIN = 3.0

HealthCheck = Callable[[], Awaitable[dict[str, object]]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SlackRequest(AsyncBoltRequest):
    """A Bolt request whose form body is parsed correctly even when a field's text contains "payload"."""

    def __init__(self, *, body: str, query: str, headers: dict[str, str]) -> None:
        super().__init__(body=body, query=query, headers=headers)  # type: ignore[arg-type]  # Bolt accepts a flat dict
        if self.mode == "http" and not self.body and body and not body.lstrip().startswith("{"):
            fields = dict(parse_qsl(body, keep_blank_values=True))
            if "payload" not in fields:  # a real interactivity payload parsed fine above
                self.body = fields
                self.context = build_async_context(AsyncBoltContext({}), self.body)

    def to_copyable(self) -> AsyncBoltRequest:
        # Bolt re-parses the raw body when it copies a request; keep our parsed body instead.
        copy = super().to_copyable()
        copy.body = self.body
        return copy


async def to_slack_request(request: web.Request) -> SlackRequest:
    return SlackRequest(body=await request.text(), query=request.query_string, headers=dict(request.headers))


def build_web_app(
    bolt: AsyncApp,
    health: HealthCheck,
    *,
    slack_route: bool = True,
    pulumi_webhook: Handler | None = None,
    ready: HealthCheck | None = None,
    metrics: Metrics | None = None,
) -> web.Application:
    """Routes for Slack (unless it comes over Socket Mode), liveness (``/healthz``), readiness (``/readyz``),
    Prometheus (``/metrics``) and, when a secret is configured, Pulumi's webhooks. A check returns a JSON body
    whose ``ok`` decides 200 or 503."""

    async def slack_events(request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "request too large"}, status=413)
        bolt_response = await bolt.async_dispatch(await to_slack_request(request))
        return await to_aiohttp_response(bolt_response)

    def checked(check: HealthCheck, within: float | None = None) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            try:
                async with asyncio.timeout(within):
                    report = await check()
            except TimeoutError:
                if within is None:  # not ours: the check's own
                    raise
                report = {"ok": False, "reason": f"Redis or Pulumi did not answer within {within:g} s"}
            return web.json_response(report, status=200 if report.get("ok") else 503)

        return handler

    async def prometheus(request: web.Request) -> web.Response:
        assert metrics is not None  # the route exists only with metrics
        return web.Response(body=await metrics.render(), content_type="text/plain", charset="utf-8")

    app = web.Application(client_max_size=MAX_BODY)
    if slack_route:
        app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", checked(health))
    if ready is not None:
        app.router.add_get("/readyz", checked(ready, within=READY_WITHIN))
    if metrics is not None:
        app.router.add_get("/metrics", prometheus)
    if pulumi_webhook is not None:
        app.router.add_post("/webhooks/pulumi", pulumi_webhook)
    return app
