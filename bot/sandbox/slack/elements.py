"""Block Kit composition objects and interactive elements, checked against Slack's documented limits.

Written here rather than borrowed from slack_sdk's models on purpose: the fake must catch what the bot's
block builder gets wrong (and slack_sdk misses some limits, e.g. section fields' 2000 characters).
"""

from __future__ import annotations

from typing import Any

SELECTS = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
PICKERS = frozenset({"datepicker", "timepicker", "datetimepicker", "checkboxes", "radio_buttons"})
ACTIONS_ELEMENTS = SELECTS | PICKERS | {"button", "overflow", "workflow_button", "rich_text_input"}
ACCESSORY_ELEMENTS = SELECTS | PICKERS | {"button", "overflow", "image"}
INPUT_ELEMENTS = (
    SELECTS
    | PICKERS
    | {"plain_text_input", "number_input", "email_text_input", "url_text_input", "rich_text_input", "file_input"}
)


class Checker:
    """Collects Slack-style problem messages: ``[ERROR] <what> [json-pointer:/blocks/0/text/text]``."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, pointer: str, what: str) -> None:
        self.errors.append(f"[ERROR] {what} [json-pointer:{pointer}]")

    def obj(self, value: Any, pointer: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.fail(pointer, "must be an object")
        return None

    def items(self, parent: dict[str, Any], key: str, pointer: str, *, low: int, high: int) -> list[Any]:
        value = parent.get(key)
        if not isinstance(value, list):
            self.fail(f"{pointer}/{key}", "must be an array")
            return []
        if len(value) < low:
            self.fail(f"{pointer}/{key}", f"must provide at least {low} items")
        if len(value) > high:
            self.fail(f"{pointer}/{key}", f"no more than {high} items allowed")
        return value

    def string(
        self, parent: dict[str, Any], key: str, pointer: str, limit: int, *, required: bool = False
    ) -> str | None:
        value = parent.get(key)
        where = f"{pointer}/{key}"
        if value is None:
            if required:
                self.fail(where, "missing required field")
            return None
        if not isinstance(value, str):
            self.fail(where, "must be a string")
            return None
        if required and not value:
            self.fail(where, "must be more than 0 characters")
        if len(value) > limit:
            self.fail(where, f"must be less than {limit + 1} characters")
        return value

    def one_of(self, parent: dict[str, Any], key: str, pointer: str, allowed: tuple[str, ...]) -> None:
        value = parent.get(key)
        if value is not None and value not in allowed:
            self.fail(f"{pointer}/{key}", f"must be one of {', '.join(allowed)}")

    def text(
        self, parent: dict[str, Any], key: str, pointer: str, limit: int, *, plain: bool = False, required: bool = True
    ) -> None:
        """A text object: ``{"type": "plain_text"|"mrkdwn", "text": …}``; ``plain`` forbids mrkdwn."""
        where = f"{pointer}/{key}"
        if key not in parent:
            if required:
                self.fail(where, "missing required field")
            return
        self.text_value(parent[key], where, limit, plain=plain)

    def text_value(self, value: Any, where: str, limit: int, *, plain: bool = False) -> None:
        text = self.obj(value, where)
        if text is None:
            return
        kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if text.get("type") not in kinds:
            self.fail(f"{where}/type", f"must be one of {', '.join(kinds)}")
        self.string(text, "text", where, limit, required=True)
        if text.get("type") == "mrkdwn" and "emoji" in text:
            self.fail(f"{where}/emoji", "emoji is only allowed on plain_text")

    def element(self, value: Any, pointer: str, allowed: frozenset[str]) -> str | None:
        """Check one element and return its action_id (for uniqueness checks by the caller)."""
        element = self.obj(value, pointer)
        if element is None:
            return None
        kind = element.get("type")
        if kind not in allowed:
            self.fail(f"{pointer}/type", f"unsupported element type {kind!r} here")
            return None
        self.string(element, "action_id", pointer, 255)
        check = _ELEMENTS.get(str(kind))
        if check is not None:
            check(self, element, pointer)
        action_id = element.get("action_id")
        return action_id if isinstance(action_id, str) else None

    def confirm(self, element: dict[str, Any], pointer: str) -> None:
        if "confirm" not in element:
            return
        where = f"{pointer}/confirm"
        dialog = self.obj(element["confirm"], where)
        if dialog is None:
            return
        self.text(dialog, "title", where, 100, plain=True)
        self.text(dialog, "text", where, 300)
        self.text(dialog, "confirm", where, 30, plain=True)
        self.text(dialog, "deny", where, 30, plain=True)
        self.one_of(dialog, "style", where, ("primary", "danger"))

    def options(self, parent: dict[str, Any], key: str, pointer: str, *, low: int, high: int) -> None:
        for index, value in enumerate(self.items(parent, key, pointer, low=low, high=high)):
            where = f"{pointer}/{key}/{index}"
            option = self.obj(value, where)
            if option is not None:
                self.text(option, "text", where, 75)
                self.string(option, "value", where, 150, required=True)
                self.text(option, "description", where, 75, required=False)
                self.string(option, "url", where, 3000)


def _button(check: Checker, element: dict[str, Any], pointer: str) -> None:
    check.text(element, "text", pointer, 75, plain=True)
    check.string(element, "value", pointer, 2000)
    check.string(element, "url", pointer, 3000)
    check.string(element, "accessibility_label", pointer, 75)
    check.one_of(element, "style", pointer, ("primary", "danger"))
    check.confirm(element, pointer)


def _overflow(check: Checker, element: dict[str, Any], pointer: str) -> None:
    check.options(element, "options", pointer, low=1, high=5)
    check.confirm(element, pointer)


def _select(check: Checker, element: dict[str, Any], pointer: str) -> None:
    check.text(element, "placeholder", pointer, 150, plain=True, required=False)
    if element.get("type") in {"static_select", "multi_static_select"}:
        if "option_groups" in element:
            for index, group in enumerate(check.items(element, "option_groups", pointer, low=1, high=100)):
                where = f"{pointer}/option_groups/{index}"
                if check.obj(group, where) is not None:
                    check.text(group, "label", where, 75, plain=True)
                    check.options(group, "options", where, low=1, high=100)
        else:
            check.options(element, "options", pointer, low=1, high=100)
    check.confirm(element, pointer)


def _choices(check: Checker, element: dict[str, Any], pointer: str) -> None:
    check.options(element, "options", pointer, low=1, high=10)
    check.confirm(element, pointer)


def _text_input(check: Checker, element: dict[str, Any], pointer: str) -> None:
    check.text(element, "placeholder", pointer, 150, plain=True, required=False)
    check.string(element, "initial_value", pointer, 3000)
    for key in ("min_length", "max_length"):
        value = element.get(key)
        if value is not None and (not isinstance(value, int) or not 0 <= value <= 3000):
            check.fail(f"{pointer}/{key}", "must be an integer between 0 and 3000")


def _image(check: Checker, element: dict[str, Any], pointer: str) -> None:
    check.string(element, "alt_text", pointer, 2000, required=True)
    if "slack_file" not in element:
        check.string(element, "image_url", pointer, 3000, required=True)


def _picker(check: Checker, element: dict[str, Any], pointer: str) -> None:
    check.text(element, "placeholder", pointer, 150, plain=True, required=False)
    check.confirm(element, pointer)


_ELEMENTS = {
    "button": _button,
    "overflow": _overflow,
    "checkboxes": _choices,
    "radio_buttons": _choices,
    "plain_text_input": _text_input,
    "image": _image,
    "datepicker": _picker,
    "timepicker": _picker,
    **dict.fromkeys(SELECTS, _select),
}
