"""Block Kit blocks and surfaces (messages, modals): limits, uniqueness rules, and the ids Slack fills in.

``validate_blocks`` returns Slack-style problem messages; an empty list means Slack would accept the blocks.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from bot.sandbox.slack.elements import ACCESSORY_ELEMENTS, ACTIONS_ELEMENTS, INPUT_ELEMENTS, Checker

Surface = Literal["message", "modal"]
MAX_BLOCKS: dict[Surface, int] = {"message": 50, "modal": 100}
_RICH_TEXT_PARTS = ("rich_text_section", "rich_text_list", "rich_text_preformatted", "rich_text_quote")


def validate_blocks(blocks: Any, surface: Surface, pointer: str = "/blocks") -> list[str]:
    check = Checker()
    if not isinstance(blocks, list):
        check.fail(pointer, "must be an array")
        return check.errors
    if len(blocks) > MAX_BLOCKS[surface]:
        check.fail(pointer, f"no more than {MAX_BLOCKS[surface]} items allowed")
    seen: set[str] = set()
    for index, value in enumerate(blocks):
        where = f"{pointer}/{index}"
        block = check.obj(value, where)
        if block is None:
            continue
        block_id = check.string(block, "block_id", where, 255)
        if block_id is not None:
            if block_id in seen:
                check.fail(f"{where}/block_id", f"duplicate block_id {block_id!r}")
            seen.add(block_id)
        kind = block.get("type")
        validator = _BLOCKS.get(kind) if isinstance(kind, str) else None
        if validator is None:
            check.fail(f"{where}/type", f"unsupported block type {kind!r}")
        elif kind == "input" and surface == "message":
            check.fail(f"{where}/type", "input blocks are only allowed in modals and the Home tab")
        else:
            validator(check, block, where)
    return check.errors


def _section(check: Checker, block: dict[str, Any], pointer: str) -> None:
    if "text" not in block and "fields" not in block:
        check.fail(pointer, "must provide either text or fields")
    check.text(block, "text", pointer, 3000, required=False)
    if "fields" in block:
        for index, field in enumerate(check.items(block, "fields", pointer, low=1, high=10)):
            check.text_value(field, f"{pointer}/fields/{index}", 2000)
    if "accessory" in block:
        check.element(block["accessory"], f"{pointer}/accessory", ACCESSORY_ELEMENTS)


def _header(check: Checker, block: dict[str, Any], pointer: str) -> None:
    check.text(block, "text", pointer, 150, plain=True)


def _context(check: Checker, block: dict[str, Any], pointer: str) -> None:
    for index, value in enumerate(check.items(block, "elements", pointer, low=1, high=10)):
        where = f"{pointer}/elements/{index}"
        element = check.obj(value, where)
        if element is None:
            continue
        if element.get("type") == "image":
            check.element(element, where, frozenset({"image"}))
        else:
            check.text_value(element, where, 3000)


def _actions(check: Checker, block: dict[str, Any], pointer: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(check.items(block, "elements", pointer, low=1, high=25)):
        where = f"{pointer}/elements/{index}"
        action_id = check.element(value, where, ACTIONS_ELEMENTS)
        if action_id is not None:
            if action_id in seen:
                check.fail(f"{where}/action_id", f"duplicate action_id {action_id!r} in this block")
            seen.add(action_id)


def _divider(check: Checker, block: dict[str, Any], pointer: str) -> None:
    del check, block, pointer  # a divider has nothing but type and block_id


def _rich_text(check: Checker, block: dict[str, Any], pointer: str) -> None:
    for index, value in enumerate(check.items(block, "elements", pointer, low=0, high=1000)):
        where = f"{pointer}/elements/{index}"
        part = check.obj(value, where)
        if part is not None and part.get("type") not in _RICH_TEXT_PARTS:
            check.fail(f"{where}/type", f"must be one of {', '.join(_RICH_TEXT_PARTS)}")
        elif part is not None:
            check.items(part, "elements", where, low=0, high=10_000)


def _markdown(check: Checker, block: dict[str, Any], pointer: str) -> None:
    check.string(block, "text", pointer, 12_000, required=True)


def _image(check: Checker, block: dict[str, Any], pointer: str) -> None:
    check.string(block, "alt_text", pointer, 2000, required=True)
    if "slack_file" not in block:
        check.string(block, "image_url", pointer, 3000, required=True)
    check.text(block, "title", pointer, 2000, plain=True, required=False)


def _input(check: Checker, block: dict[str, Any], pointer: str) -> None:
    check.text(block, "label", pointer, 2000, plain=True)
    check.text(block, "hint", pointer, 2000, plain=True, required=False)
    if "element" not in block:
        check.fail(f"{pointer}/element", "missing required field")
    else:
        check.element(block["element"], f"{pointer}/element", INPUT_ELEMENTS)


def _passthrough(check: Checker, block: dict[str, Any], pointer: str) -> None:
    del check, block, pointer  # file/video/call blocks: accepted, not modelled (the bot does not send them)


_BLOCKS = {
    "section": _section,
    "header": _header,
    "context": _context,
    "actions": _actions,
    "divider": _divider,
    "rich_text": _rich_text,
    "markdown": _markdown,
    "image": _image,
    "input": _input,
    "file": _passthrough,
    "video": _passthrough,
    "call": _passthrough,
}


def fill_ids(blocks: list[Any], salt: str) -> list[Any]:
    """Slack gives every block a block_id and every element an action_id when the app left them out."""
    filled: list[Any] = []
    # Unique within the message, like Slack's: five hex digits of a hash collide about once in 800 messages of 50.
    used = {block.get("block_id") for block in blocks if isinstance(block, dict)}
    for index, block in enumerate(blocks):
        if not isinstance(block, dict):
            filled.append(block)
            continue
        block = dict(block)
        if "block_id" not in block:
            block_id, attempt = _short_id(f"{salt}:{index}"), 0
            while block_id in used:
                attempt += 1
                block_id = _short_id(f"{salt}:{index}:{attempt}")
            used.add(block_id)
            block["block_id"] = block_id
        for key in ("elements", "accessory", "element"):
            if key in block:
                block[key] = _fill_action_ids(block[key], f"{salt}:{index}:{key}")
        filled.append(block)
    return filled


def _fill_action_ids(value: Any, salt: str) -> Any:
    if isinstance(value, list):
        return [_fill_action_ids(item, f"{salt}:{i}") for i, item in enumerate(value)]
    if isinstance(value, dict) and value.get("type") in ACTIONS_ELEMENTS | INPUT_ELEMENTS:
        return {"action_id": _short_id(salt), **value}
    return value


def _short_id(seed: str) -> str:
    return hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()[:5]
