"""One webhook's definition (where to, which secret, which events, which org or stack) and whom it concerns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from yarl import URL

# Pulumi's filters for kind "deployment" (reference §7), in the order a deployment passes them.
EVENTS = ("deployment_queued", "deployment_started", "deployment_succeeded", "deployment_failed")
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


@dataclass(frozen=True)
class WebhookConfig:
    """A hook as Pulumi registers it: ``org`` hooks see every stack of the org, ``stack`` ("project/stack") hooks
    one stack. ``org`` None means every organization (an emulator convenience: each Pulumi hook has one org).
    ``filters`` None means all four deployment events. Raises ValueError with a client-facing message."""

    url: str
    secret: str | None = field(default=None, repr=False)  # write-only, like Pulumi's: never shown or logged
    filters: tuple[str, ...] | None = None
    org: str | None = None
    stack: str | None = None

    def __post_init__(self) -> None:
        _check_url(self.url)
        if self.secret == "":
            raise ValueError("secret must not be empty (leave it out for an unsigned hook)")
        if self.filters is not None:
            unknown = [name for name in self.filters if name not in EVENTS]
            if unknown or not self.filters:
                raise ValueError(f"filters must be a non-empty list drawn from {', '.join(EVENTS)}")
        if self.org is not None and not _NAME.fullmatch(self.org):
            raise ValueError(f"org {self.org!r} is not an organization name")
        if self.stack is not None:
            if self.org is None:
                raise ValueError("a stack hook needs its org")
            parts = self.stack.split("/")
            if len(parts) != 2 or not all(_NAME.fullmatch(part) for part in parts):
                raise ValueError(f"stack must look like 'project/stack', not {self.stack!r}")

    def wants(self, event: str, org: str, stack: str) -> bool:
        """Whether a deployment event of ``org``'s stack ``stack`` ("project/stack") goes to this hook."""
        return (
            (self.filters is None or event in self.filters)
            and (self.org is None or self.org == org)
            and (self.stack is None or self.stack == stack)
        )

    def wire(self, hook_id: int) -> dict[str, Any]:
        return {
            "id": hook_id,
            "url": self.url,
            "hasSecret": self.secret is not None,  # Pulumi's answer too: the secret itself is write-only
            "filters": list(self.filters or EVENTS),
            "org": self.org,
            "stack": self.stack,
        }


def _check_url(url: str) -> None:
    try:
        parsed = URL(url)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"url {url!r} is not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"url must be an absolute http:// or https:// URL, not {url!r}")
