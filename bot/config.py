"""Settings: built once from the environment (and mounted secret files) and passed down. Nothing else reads os.environ."""

from __future__ import annotations

from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Every knob Deploybot has. Field names are the environment variable names, case-insensitively."""

    model_config = SettingsConfigDict(
        env_file=None,
        # Kubernetes/Docker mount secrets as files named after the variable.
        secrets_dir=None,
        extra="ignore",
        frozen=True,
    )

    pulumi_access_token: SecretStr | None = None
    pulumi_backend_url: AnyHttpUrl = Field(default=AnyHttpUrl("https://api.pulumi.com"))
    pulumi_org: str | None = None
    redis_url: str | None = None
    log_level: LogLevel = "INFO"


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment; a malformed value becomes one ConfigError line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # pydantic-settings accepts field overrides by name
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"]).upper() or "settings"
        raise ConfigError(f"{name}: {first['msg']}") from None
