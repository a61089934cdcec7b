"""Deploybot's exception tree. Callers catch these, never aiohttp's or redis' own exceptions.

    DeploybotError
    ├── ConfigError                  settings missing or malformed (start-up stops with one line)
    ├── PulumiError                  anything the Pulumi Deployments API client reports
    │   ├── PulumiHTTPError          the service answered with an error status (.status, .code, .message)
    │   │   ├── BadRequest           400 (and other 4xx without a class of their own); the server's message
    │   │   ├── Unauthorized         401 — token missing, invalid or expired
    │   │   ├── Forbidden            403 — e.g. a non-admin pausing an organization
    │   │   ├── NotFound             404 — .resource says what was missing: "stack", "deployment", "settings", …
    │   │   │   └── AlreadyFinished  cancel answered 400/404/409: the deployment already finished or is gone
    │   │   ├── Conflict             409
    │   │   ├── RateLimited          429 after retries ran out (.retry_after in seconds, when the server said)
    │   │   └── ServerError          5xx after retries ran out
    │   ├── BadResponse              a 2xx answer whose body is not what the API documents
    │   └── Unavailable              no answer at all: connection refused/reset, DNS, timeout
    ├── StoreUnavailable             Redis did not answer
    ├── Refused                      not allowed now (policy, approval state); the message says why
    └── SlackError                   a Slack Web API call failed (.error is Slack's code, e.g. "channel_not_found")
        ├── NotInChannel             the bot cannot post where it was asked (not a member, or no access)
        ├── SlackRateLimited         HTTP 429 (.retry_after: the seconds Slack asked us to wait)
        └── NotSent                  progress the outbox withdrew unsent: it waited longer than its caller's patience

``Unavailable`` carries ``sent``: False when the request never left (safe to retry anything), True or None when it
may have reached the server (a create-deployment must then not be repeated).
"""

from __future__ import annotations


class DeploybotError(Exception):
    """Base of every error Deploybot raises on purpose."""


class ConfigError(DeploybotError):
    """A setting is missing or malformed."""


class PulumiError(DeploybotError):
    """The Pulumi Deployments API could not do what was asked."""


class PulumiHTTPError(PulumiError):
    """The service answered with an error status."""

    def __init__(self, status: int, message: str, *, code: int | None = None, method: str = "", path: str = "") -> None:
        self.status = status
        self.code = code if code is not None else status
        self.message = message
        self.method = method
        self.path = path
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class BadRequest(PulumiHTTPError):
    """400 or another 4xx without a class of its own."""


class Unauthorized(PulumiHTTPError):
    """401: the Pulumi access token is missing, invalid or expired."""


class Forbidden(PulumiHTTPError):
    """403: the token's user may not do this."""


class NotFound(PulumiHTTPError):
    """404. ``resource`` names what was missing ("stack", "deployment", "settings", "organization", …)."""

    def __init__(
        self, status: int, message: str, *, resource: str = "resource", method: str = "", path: str = ""
    ) -> None:
        super().__init__(status, message, method=method, path=path)
        self.resource = resource


class AlreadyFinished(NotFound):
    """Cancel was refused (400, 404 or 409 — services differ): the deployment already finished or is gone."""


class Conflict(PulumiHTTPError):
    """409."""


class RateLimited(PulumiHTTPError):
    """429 after the client's retries ran out."""

    def __init__(
        self, status: int, message: str, *, retry_after: float | None = None, method: str = "", path: str = ""
    ) -> None:
        super().__init__(status, message, method=method, path=path)
        self.retry_after = retry_after


class ServerError(PulumiHTTPError):
    """5xx after the client's retries ran out."""


class BadResponse(PulumiError):
    """The service answered 2xx with a body we cannot read (not JSON, or not the documented shape)."""


class Unavailable(PulumiError):
    """No answer from the service: connection refused or reset, name resolution, or timeout."""

    def __init__(self, message: str, *, sent: bool | None = None) -> None:
        super().__init__(message)
        self.sent = sent


class StoreUnavailable(DeploybotError):
    """Redis, the state store, did not answer; the caller should say "try again" and lose nothing."""


class SlackError(DeploybotError):
    """A Slack Web API call failed; ``error`` is Slack's error code."""

    def __init__(self, error: str, method: str = "") -> None:
        super().__init__(f"Slack {method} failed: {error}" if method else f"Slack call failed: {error}")
        self.error = error
        self.method = method


class NotInChannel(SlackError):
    """The bot may not post in the channel: it was not invited, or the conversation is closed to it."""


class SlackRateLimited(SlackError):
    """Slack answered 429: wait ``retry_after`` seconds before calling this method (or channel) again."""

    def __init__(self, retry_after: float, method: str = "") -> None:
        super().__init__("ratelimited", method)
        self.retry_after = retry_after


class NotSent(SlackError):
    """A progress call the outbox withdrew before it went out: the rate limits kept it waiting longer than its
    caller's patience. Nothing was sent; the caller records nothing and reports newer news later."""

    def __init__(self, method: str = "") -> None:
        super().__init__("not_sent", method)


class Refused(DeploybotError):
    """Something a person may not do now (the policy, or the state of a request); ``str()`` says why, for them."""
