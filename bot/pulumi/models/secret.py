"""SecretValue: one value of a secret-capable settings field (env var, git credential, registry password).

It reads every wire form Pulumi uses, never shows a secret in ``repr``/``str``, and writes back the form that keeps the
secret: the ciphertext when known, so the bot need not hold plaintext at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, SecretStr
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

# What the service puts in "secret" when it will not show the value.
REDACTED = "[secret]"
_MASK = "**********"


class SecretValue:
    """A plaintext (not secret), a secret with its plaintext, a secret known only by ciphertext, or a redacted one.

    Wire forms read (Pulumi's, see the wire reference §3.9): ``"text"`` (plaintext, not secret), ``{"secret": p}``,
    ``{"ciphertext": c}``, ``{"secret": "[secret]", "ciphertext": c}``, ``{"isSecret": b, "value": v}``.
    """

    __slots__ = ("_ciphertext", "_is_secret", "_plaintext")

    def __init__(self, *, plaintext: str | None = None, ciphertext: str | None = None, is_secret: bool = True) -> None:
        if plaintext is None and ciphertext is None and not is_secret:
            raise ValueError("a non-secret value needs its plaintext")
        self._plaintext = plaintext
        self._ciphertext = ciphertext or None
        self._is_secret = is_secret

    @classmethod
    def plain(cls, value: str) -> SecretValue:
        """A value that is not secret (sent as a bare JSON string)."""
        return cls(plaintext=value, is_secret=False)

    @classmethod
    def secret(cls, value: str | SecretStr) -> SecretValue:
        """A secret the service should encrypt (sent as ``{"secret": value}``)."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        return cls(plaintext=text)

    @classmethod
    def encrypted(cls, ciphertext: str) -> SecretValue:
        """A secret known only by the ciphertext the service gave for it (sent as ``{"ciphertext": …}``)."""
        if not ciphertext:
            raise ValueError("ciphertext must not be empty")
        return cls(ciphertext=ciphertext)

    @classmethod
    def from_wire(cls, raw: object) -> SecretValue:
        """Read any wire form; a ValueError names what is wrong but never repeats the value."""
        if isinstance(raw, SecretValue):
            return raw
        if isinstance(raw, str):
            return cls.plain(raw)
        if not isinstance(raw, Mapping):
            raise ValueError(f"a secret value must be a string or an object, not {type(raw).__name__}")
        if "isSecret" in raw or "value" in raw:
            return cls._from_explicit(raw)
        secret, ciphertext = raw.get("secret"), raw.get("ciphertext")
        if not all(isinstance(part, str | None) for part in (secret, ciphertext)):
            raise ValueError('"secret" and "ciphertext" must be strings')
        if secret is None and not ciphertext:
            raise ValueError('a secret value object needs "secret", "ciphertext" or "value"')
        plaintext = None if secret == REDACTED else secret
        return cls(plaintext=plaintext, ciphertext=ciphertext)

    @classmethod
    def _from_explicit(cls, raw: Mapping[str, Any]) -> SecretValue:
        is_secret, value = raw.get("isSecret", False), raw.get("value")
        if not isinstance(is_secret, bool) or not isinstance(value, str):
            raise ValueError('"isSecret" must be a boolean and "value" a string')
        if is_secret and value == REDACTED:
            return cls()
        return cls(plaintext=value, is_secret=is_secret)

    @property
    def is_secret(self) -> bool:
        return self._is_secret

    @property
    def ciphertext(self) -> str | None:
        return self._ciphertext

    @property
    def is_redacted(self) -> bool:
        """A secret whose value this process does not know in any form (the service showed ``[secret]`` only)."""
        return self._is_secret and self._plaintext is None and self._ciphertext is None

    def reveal(self) -> str | None:
        """The plaintext, when this process knows it. Call only to hand it to whoever needs it, never to log."""
        return self._plaintext

    def to_wire(self) -> str | dict[str, str]:
        """The form to send back: ciphertext beats plaintext, so a known secret never travels in clear again."""
        if not self._is_secret:
            return self._plaintext or ""
        if self._ciphertext is not None:
            return {"ciphertext": self._ciphertext}
        # A redacted value is echoed as the service showed it; we cannot do better without the value.
        return {"secret": REDACTED if self._plaintext is None else self._plaintext}

    def __repr__(self) -> str:
        if not self._is_secret:
            return f"SecretValue.plain({self._plaintext!r})"
        kind = "encrypted" if self._ciphertext else "redacted" if self._plaintext is None else "secret"
        return f"SecretValue({kind}, {_MASK!r})"

    def __str__(self) -> str:
        return self._plaintext or "" if not self._is_secret else _MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretValue):
            return NotImplemented
        return (self._is_secret, self._plaintext, self._ciphertext) == (
            other._is_secret,
            other._plaintext,
            other._ciphertext,
        )

    def __hash__(self) -> int:
        return hash((self._is_secret, self._plaintext, self._ciphertext))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.from_wire,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda value: value.to_wire()),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "description": "A plaintext string (not secret) or a secret value object",
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {
                        "secret": {"type": "string"},
                        "ciphertext": {"type": "string"},
                        "isSecret": {"type": "boolean"},
                        "value": {"type": "string"},
                    },
                },
            ],
        }
