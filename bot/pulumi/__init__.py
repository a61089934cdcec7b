"""The Pulumi Deployments side of the bot: async client, pydantic models, settings merge. Imports nothing from Slack."""

from bot.pulumi.client import DEFAULT_BASE_URL, PulumiClient
from bot.pulumi.http import CallObserver
from bot.pulumi.merge import merge_settings, normalize_settings
from bot.pulumi.models import *  # noqa: F403  # the models package's __all__ is this package's public surface too
from bot.pulumi.models import __all__ as _models
from bot.pulumi.retry import RetryPolicy
from bot.pulumi.stack import StackRef

__all__ = [
    "DEFAULT_BASE_URL",
    "CallObserver",
    "PulumiClient",
    "RetryPolicy",
    "StackRef",
    "merge_settings",
    "normalize_settings",
    *_models,
]
