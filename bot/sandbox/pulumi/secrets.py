"""Secret values: the wire forms Pulumi accepts (wire reference §3.9), per-stack encryption, log redaction.

Encryption is stdlib-only on purpose: the emulator needs ciphertext that is opaque, bound to one stack and
tamper-evident, not real secrecy, and the project has no cryptography dependency to lean on.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from typing import Any

REDACTED = "[secret]"
_VERSION = b"\x01"
_NONCE = 16
_TAG = 16

ACCEPTED_FORMS = (
    'a string (plaintext), {"secret": "<value>"}, {"ciphertext": "<base64>"}, '
    '{"secret": "[secret]", "ciphertext": "<base64>"} or {"isSecret": <bool>, "value": "<value>"}'
)


class SecretError(ValueError):
    """A secret value in a form the service does not accept, or ciphertext that is not this stack's."""


class Secret:
    """A stored secret: only its ciphertext. A plain class, not a dataclass, so pydantic keeps it a leaf."""

    __slots__ = ("ciphertext",)

    def __init__(self, ciphertext: str) -> None:
        self.ciphertext = ciphertext

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.ciphertext == self.ciphertext

    def __hash__(self) -> int:
        return hash(self.ciphertext)

    def __repr__(self) -> str:
        return "Secret(...)"

    def wire(self) -> dict[str, str]:
        """The response form (the one the SDK parses): a placeholder and the base64 ciphertext."""
        return {"secret": REDACTED, "ciphertext": self.ciphertext}


class Sealer:
    """Encrypts secrets for one stack and checks that ciphertext came from this emulator for that stack."""

    def __init__(self, master_key: bytes | None = None) -> None:
        self._master = master_key if master_key is not None else os.urandom(32)

    def _key(self, stack: str) -> bytes:
        return hmac.new(self._master, b"stack\x00" + stack.encode(), hashlib.sha256).digest()

    @staticmethod
    def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
        blocks = (hashlib.sha256(key + nonce + i.to_bytes(4, "big")).digest() for i in range(length // 32 + 1))
        return b"".join(blocks)[:length]

    def seal(self, stack: str, plaintext: str) -> Secret:
        key, nonce, data = self._key(stack), os.urandom(_NONCE), plaintext.encode()
        body = bytes(a ^ b for a, b in zip(data, self._keystream(key, nonce, len(data)), strict=True))
        tag = hmac.new(key, nonce + body, hashlib.sha256).digest()[:_TAG]
        return Secret(base64.b64encode(_VERSION + nonce + body + tag).decode("ascii"))

    def open(self, stack: str, ciphertext: str) -> str:
        """The plaintext; SecretError when the ciphertext is malformed, forged or another stack's."""
        try:
            raw = base64.b64decode(ciphertext.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise SecretError("ciphertext is not valid base64") from None
        if len(raw) < 1 + _NONCE + _TAG or raw[:1] != _VERSION:
            raise SecretError(f"ciphertext was not produced for stack {stack!r}")
        key, nonce, body, tag = self._key(stack), raw[1 : 1 + _NONCE], raw[1 + _NONCE : -_TAG], raw[-_TAG:]
        if not hmac.compare_digest(tag, hmac.new(key, nonce + body, hashlib.sha256).digest()[:_TAG]):
            raise SecretError(f"ciphertext was not produced for stack {stack!r}")
        data = bytes(a ^ b for a, b in zip(body, self._keystream(key, nonce, len(body)), strict=True))
        return data.decode(errors="replace")


def parse_secret_value(value: object, sealer: Sealer, stack: str) -> Secret | str:
    """Any accepted input form -> a stored value: ``str`` for plaintext (non-secret) or a sealed ``Secret``."""
    if isinstance(value, str | Secret):
        return value
    if not isinstance(value, dict):
        raise SecretError(f"a secret value must be {ACCEPTED_FORMS}")
    # Pulumi's SDK serializes every SecretValue key, unset ones as null: nulls mean "not given".
    given = {key: item for key, item in value.items() if item is not None}
    if "ciphertext" in given and set(given) <= {"secret", "ciphertext"}:
        return _from_ciphertext(given, sealer, stack)
    if set(given) == {"secret"}:
        return _from_secret(given["secret"], sealer, stack)
    if "value" in given and set(given) <= {"isSecret", "value"}:
        is_secret, plain = given.get("isSecret", False), given["value"]
        if not isinstance(is_secret, bool) or not isinstance(plain, str):
            raise SecretError('in {"isSecret": …, "value": …} isSecret must be a boolean and value a string')
        return sealer.seal(stack, plain) if is_secret else plain
    raise SecretError(f"a secret value must be {ACCEPTED_FORMS}")


def _from_ciphertext(given: dict[str, Any], sealer: Sealer, stack: str) -> Secret:
    ciphertext = given["ciphertext"]
    if given.get("secret", REDACTED) != REDACTED:
        raise SecretError('send either {"secret": "<new value>"} or the ciphertext, not both')
    if not isinstance(ciphertext, str):
        raise SecretError("ciphertext must be a base64 string")
    sealer.open(stack, ciphertext)
    return Secret(ciphertext)


def _from_secret(plain: object, sealer: Sealer, stack: str) -> Secret:
    if not isinstance(plain, str):
        raise SecretError('in {"secret": …} the value must be a string')
    if plain == REDACTED:
        raise SecretError(
            '"[secret]" is the placeholder the service returns for a secret: send its ciphertext back with it, '
            "or send a new value"
        )
    return sealer.seal(stack, plain)


def redact(value: object) -> object:
    """A copy of a JSON value with every secret plaintext replaced by ``[secret]`` (for the request log)."""
    if isinstance(value, list):
        return [redact(item) for item in value]
    if not isinstance(value, dict):
        return value
    copy = {key: redact(item) for key, item in value.items()}
    for key in ("secret", "plaintext"):
        if copy.get(key) not in (None, REDACTED):
            copy[key] = REDACTED
    if copy.get("isSecret") not in (None, False) and "value" in copy:
        copy["value"] = REDACTED
    return copy
