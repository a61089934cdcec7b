"""One list of settings in three places: deploy/.env.example, the README's configuration table and Settings name
exactly the same variables, and what .env.example shows is what the bot would read."""

from __future__ import annotations

from bot.app import create_app
from bot.config import Mode, Settings, load_settings
from tests.deploy_files import (
    DEPLOY,
    SECRETS_DIR_VARIABLE,
    EnvLine,
    env_example,
    readme_configuration,
    settings_variables,
)


def _difference(name: str, listed: set[str], expected: set[str]) -> str:
    return f"{name}: missing {sorted(expected - listed)}, unknown {sorted(listed - expected)}"


def test_env_example_readme_and_settings_name_the_same_variables() -> None:
    expected = settings_variables()
    in_example = [line.name for line in env_example()]
    in_readme = set(readme_configuration())
    assert len(in_example) == len(set(in_example)), f"listed twice in .env.example: {in_example}"
    assert set(in_example) == expected, _difference(".env.example", set(in_example), expected)
    assert in_readme == expected, _difference("README's configuration table", in_readme, expected)


def _description(variable: EnvLine) -> str:
    """The comment lines right above a variable (its own line excluded), up to a blank line or another variable."""
    lines = (DEPLOY / ".env.example").read_text().splitlines()
    names = {line.line for line in env_example()}
    above = []
    for number in range(variable.line - 1, 0, -1):
        text = lines[number - 1]
        if number in names or not text.startswith("# "):
            break
        above.append(text.removeprefix("# "))
    return " ".join(reversed(above))


def test_every_variable_in_env_example_is_explained_by_the_comment_above_it() -> None:
    for variable in env_example():
        assert len(_description(variable)) > 20, f"line {variable.line}: {variable.name} needs a comment above it"


def test_a_commented_out_variable_shows_its_default() -> None:
    """Uncommenting an optional line must change nothing; a variable without a default shows an example."""
    defaults = load_settings({})
    readme = readme_configuration()
    for variable in env_example():
        if not variable.commented:
            continue
        field = variable.name.lower()
        if variable.name == SECRETS_DIR_VARIABLE:
            assert f"`{variable.value}`" in readme[variable.name], "the README's default for the secrets directory"
        elif Settings.model_fields[field].default is not None:
            shown = getattr(load_settings({variable.name: variable.value}), field)
            assert shown == getattr(defaults, field), f"line {variable.line}: {variable.name}={variable.value}"


def test_required_variables_are_commented_placeholders_so_the_bot_names_them_at_start_up() -> None:
    """Left commented out, they stop the bot with one line naming them; an empty value would not (Bolt fails with a
    traceback instead). tests/integration/packaging runs the bot with the file as it is."""
    by_name = {line.name: line for line in env_example()}
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "PULUMI_ACCESS_TOKEN"):
        assert by_name[name].commented, f"{name} must stay commented out until someone fills it in"
        assert by_name[name].value, f"{name}: show what the value looks like"
        assert _description(by_name[name]).startswith("Required"), f"{name}: its comment must say it is required"


def test_the_values_set_in_env_example_are_valid_settings() -> None:
    values = {line.name: line.value for line in env_example() if not line.commented}
    assert values, "compose needs at least REDIS_URL set"
    settings = load_settings({k: v for k, v in values.items() if k != SECRETS_DIR_VARIABLE})
    assert settings.redis_url == values["REDIS_URL"]


def _routes(mode: Mode) -> set[str]:
    """``METHOD /path`` of every route the bot serves in ``mode``, with every optional route on; building the app
    connects to nothing."""
    environ = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_APP_TOKEN": "xapp-1",
        "PULUMI_ACCESS_TOKEN": "p",
        "PULUMI_WEBHOOK_SECRET": "w",
    }
    app = create_app(load_settings(environ), mode, watch_loop=False)
    return {f"{route.method} {route.resource.canonical}" for route in app.router.routes() if route.resource is not None}


def test_the_readme_port_row_names_every_route_served_on_that_port() -> None:
    row = " ".join(readme_configuration()["PORT"])
    served, socket = _routes("serve"), _routes("socket")
    routes = {route for route in served | socket if not route.startswith("HEAD ")}  # aiohttp adds HEAD for GET
    assert "GET /metrics" in routes, "the route list is read from the app"
    for route in sorted(routes):
        assert f"`{route}`" in row, f"the README's PORT row does not name {route}"
    for route in sorted(served - socket):
        assert f"`{route}` (HTTP mode only)" in row, f"{route} is not served in Socket Mode: say so"
