"""Block Kit as terminal text: sections, fields, context, dividers, inputs and numbered buttons (``[1 Approve]``).
Pure functions over the fake Slack's JSON; the caller decides each button's number."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.demo.mrkdwn import Names, plain

JSON = dict[str, Any]
RULE = "─" * 40


@dataclass(frozen=True)
class Confirm:
    """A button's "are you sure?" dialog."""

    title: str
    text: str
    ok: str
    deny: str


@dataclass(frozen=True)
class Button:
    """A button as shown: what a click sends (action_id, value) and what the person reads."""

    action_id: str
    value: str | None
    label: str
    confirm: Confirm | None = None
    url: str | None = None


Number = Callable[[Button], int]  # the number a button is shown with (stable for the same button)


@dataclass(frozen=True)
class Renderer:
    """Turns blocks into lines; ``now`` is for relative dates (tests pin it, the console leaves it None)."""

    names: Names
    now: datetime | None = None

    def text(self, mrkdwn: str) -> str:
        return plain(mrkdwn, self.names, self.now)

    def message(self, record: JSON, number: Number) -> list[str]:
        """A message's body: its blocks (or its text when it has none), attachments and files."""
        blocks = record.get("blocks") or []
        lines = self.blocks(blocks, number) if blocks else self.mrkdwn_lines(str(record.get("text", "")))
        for attachment in record.get("attachments") or []:
            inner = self.blocks(attachment.get("blocks") or [], number) or self.mrkdwn_lines(
                str(attachment.get("text") or attachment.get("fallback") or "")
            )
            lines.extend("▌ " + line for line in inner)
        for file in record.get("files") or []:
            lines.append(f"📎 {file.get('title') or file.get('name') or 'a file'}")
        return lines

    def blocks(self, blocks: list[JSON], number: Number) -> list[str]:
        lines: list[str] = []
        for block in blocks:
            lines.extend(self.block(block, number))
        return lines

    def block(self, block: JSON, number: Number) -> list[str]:
        kind = block.get("type")
        if kind == "section":
            return self._section(block, number)
        if kind == "header":
            return [self._text_object(block.get("text")).upper()]
        if kind == "divider":
            return [RULE]
        if kind == "context":
            parts = [self._context_element(e) for e in block.get("elements") or []]
            return self.mrkdwn_lines(" · ".join(p for p in parts if p))
        if kind == "actions":
            return [" ".join(self._element(e, number) for e in block.get("elements") or [])]
        if kind == "input":
            return [self._input(block)]
        if kind == "image":
            return [f"[image: {block.get('alt_text', '')}]"]
        if kind == "rich_text":
            return self.mrkdwn_lines("".join(_rich_text(block)))
        if kind == "markdown":
            return self.mrkdwn_lines(str(block.get("text", "")))
        return [f"({kind} block)"]

    def mrkdwn_lines(self, mrkdwn: str) -> list[str]:
        """Text split into lines; a ``` code block's lines are set off with a bar instead of fences."""
        lines: list[str] = []
        in_code = False
        for raw in self.text(mrkdwn).split("\n"):
            fences = raw.count("```")
            stripped = raw.replace("```", "")
            if in_code or fences:
                if stripped or not fences:
                    lines.append("│ " + stripped)
                in_code = in_code != (fences % 2 == 1)
            else:
                lines.append(raw)
        return lines

    def _section(self, block: JSON, number: Number) -> list[str]:
        lines = self.mrkdwn_lines(self._text_object(block.get("text"), raw=True)) if block.get("text") else []
        for field in block.get("fields") or []:
            lines.extend("• " + line for line in self.mrkdwn_lines(self._text_object(field, raw=True)))
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            lines.append(self._element(accessory, number))
        return lines

    def _text_object(self, value: Any, *, raw: bool = False) -> str:
        """A text object's words: mrkdwn is converted unless ``raw`` (the caller converts it line by line)."""
        if not isinstance(value, dict):
            return ""
        text = str(value.get("text", ""))
        if value.get("type") == "mrkdwn":
            return text if raw else self.text(text)
        return text

    def _context_element(self, element: JSON) -> str:
        if element.get("type") == "image":
            return f"[{element.get('alt_text', 'image')}]"
        text = str(element.get("text", ""))
        # Plain text is literal: escape what mrkdwn would read, since the whole line is converted as mrkdwn.
        return text if element.get("type") == "mrkdwn" else _literal(text)

    def _element(self, element: JSON, number: Number) -> str:
        if element.get("type") != "button":
            placeholder = self._text_object(element.get("placeholder")) or element.get("type", "element")
            return f"[{placeholder} — not usable from the console]"
        button = self.button(element)
        link = f" ↗ {button.url}" if button.url else ""
        return f"[{number(button)} {button.label}{link}]"

    def button(self, element: JSON) -> Button:
        confirm = element.get("confirm")
        dialog = None
        if isinstance(confirm, dict):
            dialog = Confirm(
                title=self._text_object(confirm.get("title")) or "Are you sure?",
                text=self._text_object(confirm.get("text")),
                ok=self._text_object(confirm.get("confirm")) or "Yes",
                deny=self._text_object(confirm.get("deny")) or "Cancel",
            )
        value = element.get("value")
        return Button(
            action_id=str(element.get("action_id", "")),
            value=None if value is None else str(value),
            label=self._text_object(element.get("text")),
            confirm=dialog,
            url=element.get("url"),
        )

    def _input(self, block: JSON) -> str:
        label = self._text_object(block.get("label"))
        element = block.get("element") or {}
        hint = self._text_object(element.get("placeholder"))
        optional = " (optional)" if block.get("optional") and "optional" not in label.casefold() else ""
        return f"✎ {label}{optional}" + (f" — {hint}" if hint else "")


def inputs(view: JSON) -> list[tuple[str, str, str]]:
    """A modal's inputs in order, as (block_id, action_id, label): what ``submit`` fills in."""
    found = []
    for block in view.get("blocks") or []:
        element = block.get("element") or {}
        if block.get("type") == "input" and element.get("action_id"):
            label = (block.get("label") or {}).get("text", block.get("block_id", ""))
            found.append((str(block.get("block_id", "")), str(element["action_id"]), str(label)))
    return found


def find_button(blocks: list[JSON], action_id: str, value: str | None) -> str | None:
    """The block_id of the button with ``action_id`` and ``value`` in ``blocks``, or None when it is gone."""
    for block in blocks:
        elements = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            found_value = element.get("value")
            same_value = (None if found_value is None else str(found_value)) == value
            if element.get("type") == "button" and element.get("action_id") == action_id and same_value:
                return str(block.get("block_id", ""))
    return None


def _literal(text: str) -> str:
    """Literal words made safe to convert as mrkdwn (the conversion decodes the entities again)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rich_text(node: Any) -> Iterator[str]:
    """The words of a rich_text block, in order (styles dropped)."""
    if isinstance(node, dict):
        kind = node.get("type")
        if kind == "text":
            yield _literal(str(node.get("text", "")))
        elif kind == "link":
            yield str(node.get("text") or node.get("url", ""))
        elif kind == "user":
            yield f"<@{node.get('user_id', '')}>"
        elif kind == "emoji":
            yield f":{node.get('name', '')}:"
        for child in node.get("elements") or []:
            yield from _rich_text(child)
        if kind in {"rich_text_section", "rich_text_preformatted", "rich_text_quote"}:
            yield "\n"
    elif isinstance(node, list):
        for child in node:
            yield from _rich_text(child)
