"""Settings: explicit environments, one-line errors naming the variable, and secrets that never print."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError


def test_values_come_from_the_given_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_ORG", "from-the-process")
    settings = load_settings({"PULUMI_ORG": "acme", "port": "8080", "SLACK_API_URL": "http://127.0.0.1:9/api"})
    assert settings.pulumi_org == "acme"
    assert settings.port == 8080
    assert settings.slack_base_url == "http://127.0.0.1:9/api/"
    assert load_settings({}).pulumi_org is None
    assert load_settings().pulumi_org == "from-the-process"


def test_a_malformed_value_names_its_variable() -> None:
    with pytest.raises(ConfigError, match=r"^PORT: "):
        load_settings({"PORT": "eighty"})
    with pytest.raises(ConfigError, match=r"^PULUMI_BACKEND_URL: "):
        load_settings({"PULUMI_BACKEND_URL": "not a url"})
    with pytest.raises(ConfigError, match=r"^LOG_LEVEL: "):
        load_settings({"LOG_LEVEL": "LOUD"})


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("notaurl", "must be a redis://, rediss:// or unix:// URL"),
        ("http://cache:6379/0", "must be a redis://, rediss:// or unix:// URL"),
        ("REDIS://cache:6379/0", "must be a redis://, rediss:// or unix:// URL"),  # redis-py takes lower case only
        ("redis://:hunter2@cache:port/0", "the port must be a number"),
        ("redis://:hunter2@cache:99999/0", "the port must be a number"),
        ("redis://:hunter2@cache:6379/zero", "the path must be a database number"),
        ("unix://", "needs the socket's path"),
    ],
)
def test_a_malformed_redis_url_is_one_line_naming_it_and_not_its_password(url: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=r"^REDIS_URL: ") as raised:
        load_settings({"REDIS_URL": url})
    assert reason in str(raised.value)
    assert "\n" not in str(raised.value)
    assert "hunter2" not in str(raised.value)
    assert "Value error" not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    ["redis://127.0.0.1:6379/0", "redis://cache", "rediss://:pw@cache:6380/2", "redis://cache/?db=3", "unix:///r.sock"],
)
def test_the_redis_urls_redis_py_takes_are_accepted(url: str) -> None:
    assert load_settings({"REDIS_URL": url}).redis_url == url


@pytest.mark.parametrize(
    ("mode", "missing"),
    [("serve", "SLACK_SIGNING_SECRET"), ("socket", "SLACK_APP_TOKEN")],
)
def test_each_mode_names_the_first_variable_it_lacks(mode: str, missing: str) -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "PULUMI_ACCESS_TOKEN": "pul-1"})
    with pytest.raises(ConfigError, match=f"^{missing} is not set"):
        settings.require(mode)  # type: ignore[arg-type]  # parametrized with the two valid modes


def test_secrets_never_print() -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-very-secret", "PULUMI_ACCESS_TOKEN": "pul-very-secret"})
    assert "very-secret" not in repr(settings)
    assert "very-secret" not in str(settings.model_dump())


def test_secret_files_are_read_from_the_secrets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path
    (directory / "slack_bot_token").write_text("xoxb-from-file")
    monkeypatch.setenv("DEPLOYBOT_SECRETS_DIR", str(directory))
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    settings = load_settings()
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-file"


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    given = {"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "s", "PULUMI_ACCESS_TOKEN": "p", "PORT": ""}
    settings = load_settings(given)
    assert settings.port == 3000
    with pytest.raises(ConfigError, match=r"^SLACK_BOT_TOKEN is not set"):
        settings.require("serve")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    monkeypatch.setenv("DEPLOYBOT_POLICY", "")
    from_process = load_settings()
    assert from_process.slack_bot_token is None
    assert from_process.deploybot_policy is None
