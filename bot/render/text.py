"""Text for Slack: mrkdwn escaping, truncation with a visible "…", code blocks, and Block Kit's length limits."""

from __future__ import annotations

from datetime import datetime

SECTION_TEXT = 3000
FIELD_TEXT = 2000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
SECTION_FIELDS = 10
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
BLOCKS_PER_MESSAGE = 50
FALLBACK_TEXT = 3000  # Slack advises 4,000 for a message's text; keep room for the ellipsis and mentions
ELLIPSIS = "…"


def escape(text: str) -> str:
    """Make text from users or Pulumi literal in mrkdwn: ``<!channel>`` pings nobody, ``<url|x>`` links nowhere."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in "…" when something was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def truncate_escaped(text: str, limit: int) -> str:
    """Escape, then cut, without splitting an entity such as ``&amp;`` (a half entity shows as garbage)."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: max(limit - 1, 0)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ELLIPSIS


def code_block(lines: list[str], limit: int = SECTION_TEXT) -> str:
    """Lines in a ``` block within ``limit`` characters, keeping the newest lines (the end of a log matters most).

    Backtick runs inside are broken up so a log line cannot close the block early.
    """
    body_limit = limit - len("```\n\n```") - len("\n" + ELLIPSIS)
    cleaned = [escape(line.rstrip("\n")).replace("```", "`\u200b`\u200b`") for line in lines]
    kept: list[str] = []
    size = 0
    for line in reversed(cleaned):
        if size + len(line) + 1 > body_limit:
            if not kept:
                kept.append(ELLIPSIS + line[-(body_limit - 1) :])
            else:
                kept.append(ELLIPSIS)
            break
        kept.append(line)
        size += len(line) + 1
    body = "\n".join(reversed(kept)) or " "
    return f"```\n{body}\n```"


def date_token(moment: datetime) -> str:
    """A Slack date token: every reader sees the time in their own time zone; the ISO text is the fallback."""
    iso = moment.isoformat(timespec="seconds").replace("+00:00", "Z")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{iso}>"
