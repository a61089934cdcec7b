"""Settings: built once from the environment (and mounted secret files) and passed down.

Nothing else in Deploybot reads ``os.environ``. Field names are the variable names (case-insensitive).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.errors import ConfigError

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
Mode = Literal["serve", "socket"]

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")  # what redis-py's from_url accepts (lower case only)

# What each way of running the bot cannot start without.
_REQUIRED: dict[Mode, tuple[str, ...]] = {
    "serve": ("slack_bot_token", "slack_signing_secret", "pulumi_access_token"),
    "socket": ("slack_bot_token", "slack_app_token", "pulumi_access_token"),
}


class Settings(BaseSettings):
    """Every knob Deploybot has; the README's configuration table lists the same names."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, case_sensitive=False, env_ignore_empty=True)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: AnyHttpUrl = Field(default=AnyHttpUrl("https://slack.com/api/"))
    pulumi_access_token: SecretStr | None = None
    pulumi_backend_url: AnyHttpUrl = Field(default=AnyHttpUrl("https://api.pulumi.com"))
    pulumi_org: str | None = None
    redis_url: str = "redis://127.0.0.1:6379/0"
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: LogLevel = "INFO"
    deploybot_poll_interval: float = Field(default=5.0, gt=0, le=600)
    pulumi_webhook_secret: SecretStr | None = None
    deploybot_policy: Path | None = None  # the approval policy (TOML); none: the built-in defaults
    deploybot_audit_max_entries: int = Field(default=100_000, ge=100, le=100_000_000)
    # Multiplies the outbox's Slack budgets: only for the fake Slack (tests, benchmarks) or a workspace with raised
    # limits; against Slack itself a value above 1 earns 429s.
    deploybot_slack_rate_scale: float = Field(default=1.0, gt=0, le=1000)
    # "off": the outbox's budgets never run dry (``Budgets.unbounded``), for a fake Slack with its limits off
    # (benchmarks of the bot's own speed); 429s are still honoured. The scale above then does not matter.
    deploybot_slack_budgets: Literal["on", "off"] = "on"

    @model_validator(mode="before")
    @classmethod
    def _empty_is_unset(cls, values: object) -> object:
        # An exported-but-empty variable (``SLACK_BOT_TOKEN=`` from a copied .env) means "not set": the mode's
        # check then names it, instead of an empty token failing later, or DEPLOYBOT_POLICY= meaning the cwd.
        if isinstance(values, dict):
            return {key: value for key, value in values.items() if value != ""}
        return values

    @field_validator("redis_url")
    @classmethod
    def _redis_url_redis_py_accepts(cls, url: str) -> str:
        # Checked here, not left to redis-py: its ValueError would surface as a traceback from wherever the client
        # is built. The messages never repeat the URL, which may carry a password.
        if not url.startswith(REDIS_SCHEMES):
            raise ValueError("must be a redis://, rediss:// or unix:// URL, e.g. redis://127.0.0.1:6379/0")
        parts = urlsplit(url)
        if parts.scheme == "unix":
            if not parts.path:
                raise ValueError("a unix:// URL needs the socket's path, e.g. unix:///run/redis.sock")
            return url
        try:
            parts.port  # noqa: B018  # evaluated for its ValueError on a port that is not a number in range
        except ValueError:
            raise ValueError("the port must be a number up to 65535") from None
        database = parts.path.strip("/")
        if database and not database.isdigit():  # redis-py would silently use database 0
            raise ValueError("the path must be a database number, e.g. redis://127.0.0.1:6379/0")
        return url

    def require(self, mode: Mode) -> None:
        """Stop with one line naming the first variable ``mode`` needs and does not have."""
        for name in _REQUIRED[mode]:
            if getattr(self, name) is None:
                raise ConfigError(f"{name.upper()} is not set (deploybot {mode} needs it)")

    @property
    def slack_base_url(self) -> str:
        """slack_sdk's ``base_url``: it appends the method name, so the URL must end with a slash."""
        url = str(self.slack_api_url)
        return url if url.endswith("/") else url + "/"


class _ExplicitSettings(Settings):
    """Settings from an explicit mapping only: tests and the demo must not inherit the caller's variables."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Settings from ``environ``, or else from the process environment plus secret files.

    Secret files (Docker/Kubernetes style, one per variable, e.g. ``/run/secrets/slack_bot_token``) are read
    from ``DEPLOYBOT_SECRETS_DIR`` (default ``/run/secrets``) when that directory exists. A missing or
    malformed value becomes one ConfigError line naming the variable.
    """
    try:
        if environ is not None:
            fields = Settings.model_fields
            return _ExplicitSettings.model_validate({k.lower(): v for k, v in environ.items() if k.lower() in fields})
        secrets = Path(os.environ.get("DEPLOYBOT_SECRETS_DIR", "/run/secrets"))
        return Settings(_secrets_dir=secrets if secrets.is_dir() else None)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"]).upper() or "settings"
        message = first["msg"].removeprefix("Value error, ")  # our validators' own words need no pydantic prefix
        raise ConfigError(f"{name}: {message}") from None
