"""Error answers become one readable line and the right exception, whatever the body looks like."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import BadRequest, Conflict, Forbidden, NotFound, RateLimited, ServerError, Unauthorized
from bot.pulumi.failure import detail_of, error_for, missing_resource
from bot.pulumi.retry import Replay, RetryPolicy, parse_retry_after

DEPLOYMENTS = "/api/stacks/{org}/{project}/{stack}/deployments"
DEPLOYMENT = DEPLOYMENTS + "/{id}"


@pytest.mark.parametrize(
    ("body", "content_type", "detail"),
    [
        (b'{"code": 400, "message": "count must be >0 and <500"}', "application/json", "count must be >0 and <500"),
        (
            b'{"code":400,"message":"invalid","errors":[{"resource":"agentPool","errorType":"not_found"}]}',
            "application/json",
            "invalid; agentPool not_found",
        ),
        (b"stack not found\n", "text/plain", "stack not found"),
        (b'"just a json string"', "application/json", "just a json string"),
        (
            b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>",
            "text/html",
            "502 Bad Gateway",
        ),
        (b"<html><body><h1>Service &amp; Co unavailable</h1></body></html>", "", "Service & Co unavailable"),
        (b"", "", ""),
        (b"\xff\xfe broken bytes", "", "\ufffd\ufffd broken bytes"),
    ],
    ids=["json", "json-errors", "text", "json-string", "html-title", "html-h1", "empty", "not-utf8"],
)
def test_the_servers_words_as_one_line(body: bytes, content_type: str, detail: str) -> None:
    assert detail_of(body, content_type) == detail


@given(st.binary(max_size=2000), st.sampled_from(["", "text/html", "application/json", "text/plain"]))
def test_any_body_gives_one_short_line(body: bytes, content_type: str) -> None:
    line = detail_of(body, content_type)
    assert "\n" not in line
    assert len(line) <= 300


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequest),
        (401, Unauthorized),
        (402, BadRequest),
        (403, Forbidden),
        (404, NotFound),
        (409, Conflict),
        (429, RateLimited),
        (500, ServerError),
        (503, ServerError),
    ],
)
def test_each_status_has_its_exception_and_an_empty_body_still_says_something(status: int, kind: type) -> None:
    error = error_for(status, b"", method="GET", path="/api/stacks/a/b/c/deployments/d1", template=DEPLOYMENT)
    assert type(error) is kind
    assert error.status == status
    assert f"HTTP {status}" in str(error)
    assert "/api/stacks/a/b/c/deployments/d1" in str(error)
    assert len(str(error).split(":", 1)[-1].strip()) > len(f"(HTTP {status} from GET …)")


@pytest.mark.parametrize(
    ("message", "template", "resource"),
    [
        ("Stack 'acme/web/dev' not found", DEPLOYMENT, "stack"),
        ("Deployment 'd1' not found", DEPLOYMENT, "deployment"),
        ("No deployment settings for stack acme/web/dev", DEPLOYMENTS, "settings"),
        ("Organization 'x' not found", "/api/orgs/{org}/deployments", "organization"),
        ("", DEPLOYMENT, "deployment"),
        ("", DEPLOYMENTS + "/version/{version}", "deployment"),
        ("", DEPLOYMENTS + "/settings", "settings"),
        ("", DEPLOYMENTS, "stack"),
        ("Not Found", "/api/orgs/{org}/deployments", "organization"),
    ],
)
def test_a_404_says_what_was_missing(message: str, template: str, resource: str) -> None:
    assert missing_resource(message, template) == resource
    body = f'{{"code": 404, "message": "{message}"}}'.encode()
    error = error_for(404, body, method="GET", path="/p", template=template)
    assert isinstance(error, NotFound)
    assert error.resource == resource
    assert resource in str(error).lower()


def test_rate_limited_carries_the_advertised_wait() -> None:
    error = error_for(429, b"slow down", method="POST", path="/p", template="/p", retry_after=7.0)
    assert isinstance(error, RateLimited)
    assert error.retry_after == 7.0
    assert "retry in 7s" in str(error)


NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("1", 1.0),
        (" 120 ", 120.0),
        ("0.5", 0.5),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
        ("Sun, 06 Nov 1994 08:49:37", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("inf", None),
    ],
)
def test_retry_after_in_seconds_or_as_an_http_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


@given(attempts=st.integers(min_value=1, max_value=40), base=st.floats(0, 5), cap=st.floats(0, 60))
def test_backoff_stays_within_the_growing_ceiling_and_the_cap(attempts: int, base: float, cap: float) -> None:
    policy = RetryPolicy(attempts=attempts, base=base, cap=cap)
    for failed in range(1, attempts + 1):
        assert 0 <= policy.backoff(failed) <= min(cap, base * 2 ** (failed - 1))


def test_a_policy_needs_an_attempt_and_no_negative_time() -> None:
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(base=-1)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_which_requests_are_repeated_after_what(status: int) -> None:
    assert Replay.IDEMPOTENT.after_status(status)
    # A create is repeated only after a refusal (429), never after a server error it may have acted on.
    assert Replay.UNDELIVERED_ONLY.after_status(status) is (status == 429)
    assert not Replay.IDEMPOTENT.after_status(400)
    assert Replay.UNDELIVERED_ONLY.after_connection_failure(sent=False)
    assert not Replay.UNDELIVERED_ONLY.after_connection_failure(sent=None)
    assert Replay.IDEMPOTENT.after_connection_failure(sent=None)
