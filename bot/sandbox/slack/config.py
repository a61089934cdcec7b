"""The fake Slack's configuration: tokens, the bot's identity, the seeded workspace and the rate-limit knobs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeedUser:
    id: str
    name: str
    real_name: str
    is_admin: bool = False
    is_owner: bool = False
    tz: str = "Europe/Berlin"


@dataclass(frozen=True)
class SeedUserGroup:
    id: str
    handle: str
    members: tuple[str, ...]
    name: str = ""  # the display name; the handle when empty
    # When usergroups.disable ran (epoch seconds, Slack's ``date_delete``); 0 while enabled. A disabled group keeps
    # its members (usergroups.enable brings them back) but is hidden unless a call passes include_disabled.
    disabled_at: int = 0

    @property
    def disabled(self) -> bool:
        return self.disabled_at != 0


@dataclass(frozen=True)
class SeedChannel:
    id: str
    name: str
    members: tuple[str, ...]
    is_private: bool = False
    is_archived: bool = False


def default_users() -> tuple[SeedUser, ...]:
    return (
        SeedUser("U_ANA", "ana", "Ana Admin", is_admin=True, is_owner=True),
        SeedUser("U_BEN", "ben", "Ben Oncall"),
        SeedUser("U_CARA", "cara", "Cara Developer"),
        SeedUser("U_DAN", "dan", "Dan Guest"),
    )


def default_usergroups() -> tuple[SeedUserGroup, ...]:
    return (SeedUserGroup("S_SRE", "sre", ("U_ANA", "U_BEN"), "Site Reliability"),)


def default_channels(bot_user_id: str) -> tuple[SeedChannel, ...]:
    return (
        SeedChannel("C_DEPLOYS", "deploys", ("U_ANA", "U_BEN", "U_CARA", bot_user_id)),
        SeedChannel("C_RANDOM", "random", ("U_ANA", "U_BEN", "U_CARA", "U_DAN")),
        SeedChannel("G_OPS", "ops-private", ("U_ANA", bot_user_id), is_private=True),
    )


DEFAULT_SCOPES = (
    "chat:write",
    "commands",
    "files:write",
    "users:read",
    "usergroups:read",
    "channels:read",
    "groups:read",
    "im:write",
)


@dataclass
class SlackSandboxConfig:
    """Everything the fake needs to know; ``None`` collections mean "seed the default workspace"."""

    bot_token: str = "xoxb-sandbox"
    app_token: str = "xapp-sandbox"
    signing_secret: str = "sandbox-signing-secret"
    verification_token: str = "sandbox-verification-token"
    # The bot's ``POST /slack/events``; may be set later with ``POST /_sandbox/config``.
    request_url: str | None = None
    team_id: str = "T_SANDBOX"
    team_domain: str = "sandbox"
    team_name: str = "Sandbox"
    bot_user_id: str = "U_DEPLOYBOT"
    bot_user_name: str = "deploybot"
    bot_id: str = "B_DEPLOYBOT"
    api_app_id: str = "A_DEPLOYBOT"
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    users: tuple[SeedUser, ...] | None = None
    usergroups: tuple[SeedUserGroup, ...] | None = None
    channels: tuple[SeedChannel, ...] | None = None
    rate_limits: bool = True
    # Multiplies every rate-limit window: 0.01 turns Tier 2's minute into 0.6 s so tests can watch recovery.
    rate_limit_scale: float = 1.0
    # How long Slack waits for the bot's HTTP 200 (or Socket Mode ack) before showing "operation_timeout".
    ack_timeout: float = 3.0
    # Public base URL for response_url / upload / WebSocket links; by default the origin the caller used.
    public_url: str | None = None

    def seeded_users(self) -> tuple[SeedUser, ...]:
        return self.users if self.users is not None else default_users()

    def seeded_usergroups(self) -> tuple[SeedUserGroup, ...]:
        return self.usergroups if self.usergroups is not None else default_usergroups()

    def seeded_channels(self) -> tuple[SeedChannel, ...]:
        return self.channels if self.channels is not None else default_channels(self.bot_user_id)
