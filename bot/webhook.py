"""Pulumi's deployment webhooks as an accelerator for the watcher: a verified, deduplicated delivery pokes the
deployment it names, so its change is reported now instead of at the next poll. Polling stays the source of truth:
deliveries can be lost or arrive out of order, and nothing here decides what is reported.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from bot.errors import DeploybotError
from bot.pulumi import PulumiClient, StackRef
from bot.store import Store
from bot.store.subscriptions import Subscriptions
from bot.store.watches import Watch
from bot.watcher import Watcher

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024


def signature_ok(secret: SecretStr, body: bytes, signature: str | None) -> bool:
    """Pulumi signs the raw body: lowercase hex HMAC-SHA256 with the webhook's secret."""
    if not signature:
        return False
    expected = hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


@dataclass(frozen=True)
class Delivery:
    stack: StackRef
    version: int

    @classmethod
    def parse(cls, body: bytes) -> Delivery | None:
        """The stack and version a deployment webhook is about; None for anything else."""
        try:
            data: Any = json.loads(body)
            org = data["organization"]["name"]
            stack = StackRef(str(org), str(data["projectName"]), str(data["stackName"]))
            version = int(data["version"])
        except (ValueError, KeyError, TypeError):
            return None
        return cls(stack, version) if version > 0 else None


class WebhookReceiver:
    """``handle`` answers a delivery as soon as it is verified and deduplicated; what it names is acted on just
    after, together with every delivery that arrived meanwhile: a burst of webhooks (a thousand deployments
    finishing at once) costs a few Redis round trips, and Pulumi's senders are not held while the bot works."""

    def __init__(
        self, secret: SecretStr, pulumi: PulumiClient, store: Store, subscriptions: Subscriptions, watcher: Watcher
    ) -> None:
        self.secret = secret
        self.pulumi = pulumi
        self.store = store
        self.subscriptions = subscriptions
        self.watcher = watcher
        self._waiting: list[Delivery] = []
        self._acting: asyncio.Task[None] | None = None

    async def handle(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "request too large"}, status=413)
        body = await request.read()
        if not signature_ok(self.secret, body, request.headers.get("Pulumi-Webhook-Signature")):
            return web.json_response({"error": "invalid signature"}, status=401)
        delivery_id = request.headers.get("Pulumi-Webhook-ID") or hashlib.sha256(body).hexdigest()
        try:
            if not await self.store.first_delivery("webhook", delivery_id):
                return web.json_response({"ok": True, "duplicate": True})
        except DeploybotError as error:  # the next poll catches up; Pulumi does not retry, so answer 200 anyway
            log.warning("webhook not acted on", extra={"error": type(error).__name__, "delivery": delivery_id})
            return web.json_response({"ok": True})
        delivery = Delivery.parse(body)
        if delivery is not None and request.headers.get("Pulumi-Webhook-Kind", "deployment") == "deployment":
            self._waiting.append(delivery)
            if self._acting is None or self._acting.done():
                self._acting = asyncio.create_task(self._act(), name="webhooks")
        return web.json_response({"ok": True})

    async def close(self) -> None:
        """Stop acting on deliveries (the app is stopping); the watcher's polls catch up on what is left."""
        if self._acting is not None:
            self._acting.cancel()
            await asyncio.gather(self._acting, return_exceptions=True)

    async def _act(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await self.accelerate(batch)
            except DeploybotError as error:  # the next polls catch up
                log.warning("webhooks not acted on", extra={"error": type(error).__name__, "deliveries": len(batch)})
            except Exception:  # a bug must not stop later deliveries from being acted on; the polls catch up
                log.exception("acting on webhooks failed", extra={"deliveries": len(batch)})

    async def accelerate(self, deliveries: list[Delivery]) -> None:
        """Poke the watches of the deployments these deliveries name, in one round trip for those the bot follows
        (the watch knows the id: no Pulumi call); each other one is resolved through Pulumi."""
        found = await self.watcher.watches.find_each([(str(d.stack), d.version) for d in deliveries])
        poked = await self.watcher.poke_each({i for i in found if i is not None})
        others = [d for d, i in zip(deliveries, found, strict=True) if i is None or i not in poked]
        for delivery in others:  # rare: deployments started elsewhere, or finished and no longer watched
            try:
                await self._unfollowed(delivery)
            except DeploybotError as error:
                log.warning("webhook not acted on", extra={"error": type(error).__name__, "stack": str(delivery.stack)})

    async def _unfollowed(self, delivery: Delivery) -> None:
        """A deployment no watch knows by its version: poke it by id, or follow it when a subscription wants it."""
        stack = str(delivery.stack)
        deployment = await self.pulumi.get_deployment_by_version(delivery.stack, delivery.version)
        if await self.watcher.poke(deployment.id):
            return
        if any(s.matches(stack) for s in await self.subscriptions.all()):
            watch = Watch(
                deployment_id=deployment.id,
                stack=stack,
                version=deployment.version,
                operation=str(deployment.pulumi_operation or "deployment"),
                mode="notify",
            )
            await self.watcher.follow(watch)
            self.watcher.wake()
