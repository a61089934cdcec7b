"""The Slack app manifests (HTTP and Socket Mode): valid against the manifest schema, pointing Slack at the route the
bot serves, subscribing to the events the handlers handle, and asking for exactly the bot scopes that the Web API
methods the code calls need — derived from the source, so a new call without its scope fails here."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from tests.deploy_files import DEPLOY, REPO, served_routes, yaml_document
from tests.unit.packaging.manifest_schema import Manifest

HTTP_MANIFEST = DEPLOY / "slack-app-manifest.yaml"
SOCKET_MANIFEST = DEPLOY / "slack-app-manifest.socket.yaml"

# Bot scope each AsyncWebClient method the code calls needs (None: no scope). Sources: the method pages at
# https://docs.slack.dev/reference/methods/<method> ("Required scopes"), as scraped into
# github.com/slack-ruby/slack-api-ref docs.slack.dev/methods/<method>.json, and /work/shared/reference/
# slack-platform.md §4.1.
SCOPE_OF_METHOD: dict[str, str | None] = {
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_delete": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_getPermalink": None,
    # conversations.open accepts any of channels:manage, groups:write, im:write, mpim:write; the bot opens only 1:1
    # direct messages (users=<one id>), which im:write covers.
    "conversations_open": "im:write",
    # slack_sdk's helper: files.getUploadURLExternal, then files.completeUploadExternal (both files:write); the
    # retired files.upload is not called (checked below).
    "files_upload_v2": "files:write",
    "views_open": None,
    "usergroups_list": "usergroups:read",
    "usergroups_users_list": "usergroups:read",
}
# What Bolt calls by itself in our set-up needs no bot scope: auth.test (single-workspace authorization, on the
# first request) takes none, and Socket Mode's apps.connections.open runs on the app-level token (connections:write),
# which is granted on that token, not in the manifest.

# Scopes that come from features rather than method calls (same sources; https://docs.slack.dev/reference/events/).
SCOPE_OF_EVENT = {"app_mention": "app_mentions:read"}
SLASH_COMMAND_SCOPE = "commands"

# The fake Slack and the Pulumi emulator are the other side of the wire, and the demo only drives them.
NOT_PRODUCT_CODE = (REPO / "bot" / "sandbox", REPO / "bot" / "demo")


def _product_modules() -> list[Path]:
    files = [*(REPO / "bot").rglob("*.py"), *(REPO / "handlers").rglob("*.py")]
    return sorted(f for f in files if not any(f.is_relative_to(skip) for skip in NOT_PRODUCT_CODE))


def _web_client_methods() -> frozenset[str]:
    """Every Web API method AsyncWebClient offers (``chat_postMessage`` …), plus its generic ``api_call``."""
    own = {name for name, value in vars(AsyncWebClient).items() if callable(value) and not name.startswith("_")}
    return frozenset(own | {"api_call"})


def web_api_calls(source: str) -> set[str]:
    """The AsyncWebClient methods a module calls: ``<anything>.chat_postMessage(...)`` and the like."""
    methods = _web_client_methods()
    return {
        node.func.attr
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in methods
    }


def _registered(listener: str) -> set[str]:
    """The literal first arguments of ``app.<listener>(...)`` in the handlers: commands, events, …"""
    found = set()
    for module in (REPO / "handlers").rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == listener
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "app"
            ):
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value)
                else:
                    found.add("<computed>")
    return found


@pytest.fixture(scope="module", params=[HTTP_MANIFEST, SOCKET_MANIFEST], ids=["http", "socket"])
def manifest(request: pytest.FixtureRequest) -> dict[str, Any]:
    path: Path = request.param
    return yaml_document(path)


def test_the_scanner_finds_web_client_calls_and_nothing_else() -> None:
    source = """
async def f(client, chat, redis):
    await client.chat_postMessage(channel="C1", text="hi")
    await self._client.usergroups_users_list(usergroup="S1")
    await chat.post("C1", message)          # our own wrapper: not a Web API method
    await redis.delete("key")               # delete, not chat_delete
    client.api_call("team.info")
    """
    assert web_api_calls(source) == {"chat_postMessage", "usergroups_users_list", "api_call"}


def test_every_web_api_method_the_code_calls_has_its_scope_on_record() -> None:
    called = {method: module for module in _product_modules() for method in web_api_calls(module.read_text())}
    unexplained = {method: str(called[method].relative_to(REPO)) for method in set(called) - set(SCOPE_OF_METHOD)}
    assert not unexplained, f"add these to SCOPE_OF_METHOD (with the scope Slack's docs name): {unexplained}"
    stale = set(SCOPE_OF_METHOD) - set(called)
    assert not stale, f"no longer called; remove them from SCOPE_OF_METHOD (and their scopes if unused): {stale}"


def test_slack_sdks_upload_helper_calls_what_the_table_says() -> None:
    helper = inspect.getsource(AsyncWebClient.files_upload_v2)
    assert "files_getUploadURLExternal" in helper
    assert "files_completeUploadExternal" in helper
    assert "self.files_upload(" not in helper  # the retired method, which would need other handling


def test_the_manifest_follows_slacks_manifest_schema(manifest: dict[str, Any]) -> None:
    parsed = Manifest.model_validate(manifest)
    assert parsed.features is not None
    assert parsed.features.bot_user is not None, "a bot user: the bot posts as itself"


def test_the_bot_scopes_are_exactly_what_the_code_needs(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]
    assert set(scopes) == {"bot"}, "the bot acts with its own token only; no user scopes"
    needed = {scope for scope in SCOPE_OF_METHOD.values() if scope is not None}
    needed |= {SCOPE_OF_EVENT[event] for event in manifest["settings"]["event_subscriptions"]["bot_events"]}
    if manifest["features"].get("slash_commands"):
        needed.add(SLASH_COMMAND_SCOPE)
    granted = scopes["bot"]
    assert len(granted) == len(set(granted)), f"a scope listed twice: {granted}"
    missing, unexplained = sorted(needed - set(granted)), sorted(set(granted) - needed)
    assert set(granted) == needed, f"missing {missing}, unexplained {unexplained}"


def test_the_manifest_subscribes_to_the_events_and_commands_the_handlers_register(manifest: dict[str, Any]) -> None:
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(events) == sorted(_registered("event"))
    commands = [command["command"] for command in manifest["features"]["slash_commands"]]
    assert sorted(commands) == sorted(_registered("command"))
    # Buttons and modals need interactivity; the handlers register both.
    assert _registered("action")
    assert _registered("view")
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_the_http_manifest_points_slack_at_the_route_the_bot_serves() -> None:
    manifest = yaml_document(HTTP_MANIFEST)
    settings = manifest["settings"]
    urls = [
        *(command["url"] for command in manifest["features"]["slash_commands"]),
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    assert {urlparse(url).scheme for url in urls} == {"https"}, "Slack requires HTTPS request URLs"
    assert len({urlparse(url).netloc for url in urls}) == 1, urls
    assert {urlparse(url).path for url in urls} == {"/slack/events"}
    assert settings["socket_mode_enabled"] is False
    assert ("POST", "/slack/events") in served_routes()


def test_the_socket_manifest_is_the_http_one_over_socket_mode() -> None:
    http, socket = yaml_document(HTTP_MANIFEST), yaml_document(SOCKET_MANIFEST)
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "url" not in str(socket), "over Socket Mode Slack sends everything through the socket: no URLs"
    for command in http["features"]["slash_commands"]:
        del command["url"]
    del http["settings"]["event_subscriptions"]["request_url"]
    del http["settings"]["interactivity"]["request_url"]
    http["settings"]["socket_mode_enabled"] = True
    assert socket == http, "the two manifests differ only in how Slack reaches the bot"
