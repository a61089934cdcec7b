"""Numbers for the buttons the console has shown: one number per button for as long as the demo runs, so the
``[3 Deny]`` a person read stays ``click 3`` when its message is reprinted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.demo.render import Button, Number


@dataclass(frozen=True)
class Where:
    """The surface a button is on: a channel message, an ephemeral message or a modal."""

    kind: Literal["message", "ephemeral", "view"]
    key: str  # the message's ts or the view's id
    channel: str
    owner: str | None = None  # who sees it (ephemerals and modals); None: everyone in the channel


@dataclass(frozen=True)
class Shown:
    number: int
    where: Where
    button: Button


class ButtonBoard:
    """Hands out numbers 1, 2, 3… in the order buttons are first shown."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[Where, str, str | None], int] = {}
        self._shown: dict[int, Shown] = {}

    def numberer(self, where: Where) -> Number:
        """The function the renderer calls for each button on ``where``."""

        def number(button: Button) -> int:
            key = (where, button.action_id, button.value)
            found = self._numbers.get(key)
            if found is None:
                found = self._numbers[key] = len(self._numbers) + 1
            # Labels and dialogs may change with the message; the number stays.
            self._shown[found] = Shown(found, where, button)
            return found

        return number

    def get(self, number: int) -> Shown | None:
        return self._shown.get(number)

    def labelled(self, label: str) -> list[Shown]:
        """Buttons whose label is ``label`` (any case), newest first."""
        wanted = label.strip().casefold()
        return [s for n, s in sorted(self._shown.items(), reverse=True) if s.button.label.casefold() == wanted]
