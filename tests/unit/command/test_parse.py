"""The /deploy grammar: what each verb accepts and the clear errors for what it does not."""

from __future__ import annotations

import pytest

from bot.command import (
    CancelCommand,
    CommandError,
    DeployCommand,
    DeploymentRef,
    HelpCommand,
    InfoCommand,
    ListCommand,
    LogsCommand,
    OrgTarget,
    PauseCommand,
    SettingsClearCommand,
    SettingsSetCommand,
    SettingsShowCommand,
    StatusCommand,
    parse_command,
)
from bot.pulumi.stack import StackRef

WEB_DEV = StackRef("acme", "web", "dev")


def parse(text: str) -> object:
    return parse_command(text, default_org="acme")


def error_of(text: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        parse(text)
    return caught.value


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", "--help", "-h"])
def test_empty_and_help_list_everything(text: str) -> None:
    assert parse(text) == HelpCommand(None)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("help update", "update"),
        ("logs --help", "logs"),
        ("settings set -h", "settings set"),
        ("help settings", "settings"),
    ],
)
def test_help_for_one_command(text: str, topic: str) -> None:
    assert parse(text) == HelpCommand(topic)


def test_update_with_every_flag() -> None:
    command = parse(
        "update web/dev --branch main --env AWS_REGION=us-east-1 --env DEBUG=1 --secret-env TOKEN=s3cr3t "
        "--set operationContext.preRunCommands='[\"make\"]' --skip-install --skip-intermediate "
        "--message 'ship it' --no-inherit"
    )
    assert isinstance(command, DeployCommand)
    assert command.operation == "update"
    assert command.stack == WEB_DEV
    assert command.inherit is False
    assert command.message == "ship it"
    assert command.secret_env["TOKEN"].get_secret_value() == "s3cr3t"
    assert "s3cr3t" not in repr(command)
    assert command.patch == {
        "sourceContext": {"git": {"branch": "refs/heads/main", "commit": None}},
        "operationContext": {
            "preRunCommands": ["make"],
            "environmentVariables": {"AWS_REGION": "us-east-1", "DEBUG": "1"},
            "options": {"skipInstallDependencies": True, "skipIntermediateDeployments": True},
        },
    }


def test_commit_pins_the_sha_and_clears_the_inherited_branch() -> None:
    command = parse("preview acme/web/dev --commit 1A2B3C4D")
    assert isinstance(command, DeployCommand)
    assert command.patch == {"sourceContext": {"git": {"commit": "1a2b3c4d", "branch": None}}}


def test_full_refs_are_kept() -> None:
    command = parse("update web/dev --branch refs/heads/release/1.2")
    assert isinstance(command, DeployCommand)
    assert command.patch["sourceContext"]["git"]["branch"] == "refs/heads/release/1.2"


def test_json_then_set_then_flags_later_wins() -> None:
    command = parse(
        """update web/dev --json '{"operationContext": {"environmentVariables": {"A": "j", "B": "j"}}}' """
        "--set operationContext.environmentVariables.B=set --env A=flag"
    )
    assert isinstance(command, DeployCommand)
    assert command.patch["operationContext"]["environmentVariables"] == {"A": "flag", "B": "set"}


def test_delete_after_destroy_only_for_destroy() -> None:
    command = parse("destroy web/pr-1 --delete-after-destroy")
    assert isinstance(command, DeployCommand)
    assert command.patch == {"operationContext": {"options": {"deleteAfterDestroy": True}}}
    error = error_of("update web/dev --delete-after-destroy")
    assert "unknown option --delete-after-destroy" in error.message


def test_slack_escaping_and_curly_quotes_are_undone() -> None:
    command = parse(
        "update web/dev --set sourceContext.git.repoUrl=<https://github.com/acme/web.git> "
        "--message “fix &lt;html&gt; &amp; ship”"
    )
    assert isinstance(command, DeployCommand)
    assert command.patch["sourceContext"]["git"]["repoUrl"] == "https://github.com/acme/web.git"
    assert command.message == "fix <html> & ship"


def test_the_word_payload_is_just_text() -> None:
    # Bolt mistakes bodies containing "payload" for interactivity; the parser must treat it as any other word.
    assert parse("settings set web/dev tag=payload") == SettingsSetCommand(WEB_DEV, {"tag": "payload"})
    assert "'payload' is not a settings field" in error_of("settings set web/dev payload=x").message
    command = parse("update web/dev --message 'payload=1 fixes the payload parser'")
    assert isinstance(command, DeployCommand)
    assert command.message == "payload=1 fixes the payload parser"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status web/dev", StatusCommand(WEB_DEV)),
        ("status web/dev #12", StatusCommand(WEB_DEV, DeploymentRef(version=12))),
        ("status web/dev 12", StatusCommand(WEB_DEV, DeploymentRef(version=12))),
        (
            "status web/dev 9e5e1331-a018-4845-8714-1598ba8dc52e",
            StatusCommand(WEB_DEV, DeploymentRef(id="9e5e1331-a018-4845-8714-1598ba8dc52e")),
        ),
        ("list", ListCommand(OrgTarget("acme"))),
        ("list web/dev --page 2 --page-size 5 --asc", ListCommand(WEB_DEV, page=2, page_size=5, asc=True)),
        ("list --org other --status FAILED", ListCommand(OrgTarget("other"), status="failed")),
        ("list --org --status failed", ListCommand(OrgTarget("acme"), status="failed")),
        ("logs web/dev #3", LogsCommand(WEB_DEV, DeploymentRef(version=3))),
        (
            "logs web/dev #3 --step 6 --job 1 --offset 20 --count 50 --tail 10",
            LogsCommand(WEB_DEV, DeploymentRef(version=3), step=6, job=1, offset=20, count=50, tail=10),
        ),
        ("cancel web/dev #4", CancelCommand(WEB_DEV, DeploymentRef(version=4))),
        ("pause web/dev", PauseCommand(WEB_DEV)),
        ("resume --org", PauseCommand(OrgTarget("acme"), resume=True)),
        ("info --org=acme", InfoCommand(OrgTarget("acme"))),
        ("settings show web/dev", SettingsShowCommand(WEB_DEV)),
        ("Settings CLEAR web/dev", SettingsClearCommand(WEB_DEV)),
        (
            "settings set web/dev sourceContext.git.branch=refs/heads/main "
            "operationcontext.environmentVariables.X=null",
            SettingsSetCommand(
                WEB_DEV,
                {
                    "sourceContext": {"git": {"branch": "refs/heads/main"}},
                    "operationContext": {"environmentVariables": {"X": None}},
                },
            ),
        ),
    ],
)
def test_queries_and_admin_commands(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment", "usage"),
    [
        ("deploy web/dev", "there is no command 'deploy'", "/deploy COMMAND"),
        ("update", "wrong number of arguments", "/deploy update STACK"),
        ("update web", "is not a stack", "/deploy update STACK"),
        ("update a/b/c/d", "is not a stack", "/deploy update STACK"),
        ("update web/dev --frobnicate", "unknown option --frobnicate", "/deploy update STACK"),
        ("update web/dev --branch a --commit abcd", "not both", "/deploy update"),
        ("update web/dev --commit not-a-sha", "commit SHA", "/deploy update"),
        ("update web/dev --env 1BAD=x", "NAME=VALUE", "/deploy update"),
        ("update web/dev --env NOEQUALS", "NAME=VALUE", "/deploy update"),
        ("update web/dev --skip-install=yes", "takes no value", "/deploy update"),
        ("update web/dev --message", "needs a value", "/deploy update"),
        ("update web/dev --set nope.x=1", "not a settings field", "/deploy update"),
        ("update web/dev --json '[1]'", "must be a JSON object", "/deploy update"),
        ("update web/dev --json '{\"x\": 1}'", "unknown fields x", "/deploy update"),
        ("update web/dev --json '{'", "not valid JSON", "/deploy update"),
        ("update 'web/dev", "could not read the arguments", "/deploy COMMAND"),
        ("status web/dev #0", "start at 1", "/deploy status"),
        ("status web/dev <!channel>", "is not a deployment id", "/deploy status"),
        ("logs web/dev", "wrong number of arguments", "/deploy logs"),
        ("logs web/dev #1 --count 500", "between 1 and 499", "/deploy logs"),
        ("logs web/dev #1 --step zero", "takes a number", "/deploy logs"),
        ("list --status cancelled", "--status is one of", "/deploy list"),
        ("list web/dev --org", "not both", "/deploy list"),
        ("pause", "give a stack", "/deploy pause"),
        ("info --org bad/name", "invalid organization", "/deploy info"),
        ("settings", "show, set or clear", "/deploy settings"),
        ("settings set web/dev", "nothing to set", "/deploy settings set"),
        ("settings set web/dev =1", "not KEY.PATH=VALUE", "/deploy settings set"),
        ("settings set web/dev tag..b=1", "empty path segment", "/deploy settings set"),
        ("help nothing", "there is no command 'nothing'", "/deploy COMMAND"),
    ],
)
def test_bad_input_says_what_is_wrong_with_the_usage(text: str, fragment: str, usage: str) -> None:
    error = error_of(text)
    assert fragment in error.message
    assert error.usage.startswith(usage)


def test_stack_without_org_needs_a_default() -> None:
    with pytest.raises(CommandError, match="no organization"):
        parse_command("status web/dev", default_org=None)
    assert parse_command("status acme/web/dev", default_org=None) == StatusCommand(WEB_DEV)
