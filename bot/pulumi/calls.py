"""Building calls for the client: endpoint templates and real paths, query checks, and reading answer bodies."""

from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import quote

from pydantic import TypeAdapter, ValidationError

from bot.errors import BadResponse
from bot.pulumi.http import Call, Query, Reply
from bot.pulumi.models import DeploymentPage, JobStatus
from bot.pulumi.retry import Replay
from bot.pulumi.stack import StackRef, check_org

_STACK = "/api/stacks/{org}/{project}/{stack}"
_ORG = "/api/orgs/{org}"


@functools.cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def read_body(call: Call, reply: Reply, kind: Any) -> Any:
    """The reply's JSON body as ``kind``; BadResponse when it is not JSON or not that shape."""
    try:
        return _adapter(kind).validate_json(reply.body)
    except ValidationError as exc:
        raise BadResponse(_unreadable(call, exc)) from None


def stack_call(
    method: str,
    stack: StackRef,
    suffix: str,
    *,
    query: Query | None = None,
    body: Any = None,
    replay: Replay = Replay.IDEMPOTENT,
    **ids: str | int,
) -> Call:
    template = _STACK + suffix
    values = {"org": stack.org, "project": stack.project, "stack": stack.stack}
    return _build(method, template, values, ids, query, body, replay)


def org_call(method: str, org: str, suffix: str, *, query: Query | None = None) -> Call:
    template = _ORG + suffix
    return _build(method, template, {"org": check_org(org)}, {}, query, None, Replay.IDEMPOTENT)


def _build(
    method: str,
    template: str,
    names: dict[str, str],
    ids: dict[str, str | int],
    query: Query | None,
    body: Any,
    replay: Replay,
) -> Call:
    # StackRef and check_org allow only URL-safe names; ids come from outside and are percent-encoded.
    for key, value in ids.items():
        if not str(value).strip():
            raise ValueError(f"the {key} of a deployment must not be empty")
    path = template.format(**names, **{key: quote(str(value), safe="") for key, value in ids.items()})
    encoded = None if body is None else json.dumps(body, separators=(",", ":")).encode()
    return Call(method, template, path, replay, query=query, body=encoded)


def page_query(page: int, page_size: int, asc: bool, status: JobStatus | None) -> Query:
    if page < 1:
        raise ValueError(f"pages start at 1, not {page}")
    if not 1 <= page_size <= 100:
        raise ValueError(f"page size must be between 1 and 100, not {page_size}")
    # The seed doc's status filter; Pulumi's real service may ignore it, so only_status filters again.
    return {"page": page, "pageSize": page_size, "asc": asc, "status": status.value if status else None}


def only_status(page: DeploymentPage, status: JobStatus | None) -> DeploymentPage:
    if status is None:
        return page
    return page.model_copy(update={"deployments": [d for d in page.deployments if d.status == status]})


def _unreadable(call: Call, exc: ValidationError) -> str:
    # Locations and messages only: pydantic's own text would repeat the offending input, which may be sensitive.
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}" for error in exc.errors()[:3]
    )
    return f"Pulumi's answer to {call.endpoint} is not what the API documents ({problems})"
