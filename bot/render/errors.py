"""What a user is told when something goes wrong: one plain sentence per error kind, never a traceback."""

from __future__ import annotations

import math

from bot.errors import (
    AlreadyFinished,
    BadRequest,
    BadResponse,
    Conflict,
    DeploybotError,
    Forbidden,
    NotFound,
    PulumiHTTPError,
    RateLimited,
    Refused,
    StoreUnavailable,
    Unauthorized,
    Unavailable,
)
from bot.render.text import escape, truncate


def error_text(error: DeploybotError) -> str:
    """mrkdwn for an error we expected could happen (the message from Pulumi is escaped)."""
    detail = escape(truncate(str(error), 500))
    match error:
        case Refused():  # written by us as mrkdwn (mentions of who may); names in it were validated, not typed
            return truncate(str(error), 1000)
        case AlreadyFinished():
            return "That deployment has already finished (or is gone), so there is nothing to cancel."
        case NotFound():
            return f"Pulumi says: {detail}"
        case Unauthorized():
            return "Pulumi rejected the bot's access token (401). An admin should check `PULUMI_ACCESS_TOKEN`."
        case Forbidden():
            return f"Pulumi does not allow this for the bot's token (403): {detail}"
        case RateLimited(retry_after=seconds):
            wait = f" in {math.ceil(seconds)} s" if seconds else " in a minute"
            return f"Pulumi is rate-limiting requests right now; try again{wait}."
        case BadRequest() | Conflict():
            return f"Pulumi refused: {detail}"
        case PulumiHTTPError(status=status):  # ServerError and any status without a case of its own
            return f"Pulumi had a problem ({status}): {detail}"
        case Unavailable():
            return "Pulumi Cloud cannot be reached right now; try again in a moment."
        case BadResponse():
            return "Pulumi answered with something the bot does not understand; try again, and tell an admin."
        case StoreUnavailable():
            return "The bot's state store (Redis) is unavailable; try again in a moment. Nothing was changed."
        case _:
            return detail


def incident_text(incident: str) -> str:
    return f"Something went wrong on the bot's side (incident `{incident}`). It has been logged; try again."
