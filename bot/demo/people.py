"""The fake workspace's people as the console names them: ``as ben``, ``user U_BEN`` and ``@ben`` all find Ben."""

from __future__ import annotations

from bot.demo.control import JSON
from bot.demo.mrkdwn import Names


class People:
    """Built from the fake Slack's ``/_sandbox/workspace`` answer."""

    def __init__(self, workspace: JSON) -> None:
        self._users = [u for u in workspace.get("users", []) if not u.get("is_bot") and not u.get("deleted")]
        bot = workspace.get("bot", {})
        self.bot_user_id = str(bot.get("user_id", ""))
        self.names = Names(
            users={str(u["id"]): str(u["name"]) for u in workspace.get("users", [])} | {self.bot_user_id: "deploybot"},
            groups={str(g["id"]): str(g["handle"]) for g in workspace.get("usergroups", [])},
            channels={str(c["id"]): str(c.get("name", c["id"])) for c in workspace.get("channels", [])},
        )
        groups = workspace.get("usergroups", [])
        self.groups = {str(g["handle"]): [self.name(m) for m in g.get("users", [])] for g in groups}

    def find(self, text: str) -> str | None:
        """The user id someone typed: an id, a name or a real name (any case, with or without @)."""
        wanted = text.strip().removeprefix("@").casefold()
        for user in self._users:
            spellings = {str(user["id"]), str(user["name"]), str(user.get("real_name", ""))}
            if wanted in {s.casefold() for s in spellings if s}:
                return str(user["id"])
        return None

    def name(self, user: str) -> str:
        return self.names.users.get(user, user)

    def describe(self, user: str) -> str:
        found: JSON = next((u for u in self._users if u["id"] == user), {})
        admin = ", workspace admin" if found.get("is_admin") else ""
        return f"{self.name(user)} ({found.get('real_name', user)}{admin})"

    def listing(self) -> str:
        return ", ".join(f"{u['name']}{' (admin)' if u.get('is_admin') else ''}" for u in self._users)
