"""Personal data at rest: encrypted columns with a key ring, and keyed hashes to look them up.

- A value is sealed with AES-256-GCM under the ring's current key and stored as
  `enc1:<key id>:<base64url(nonce + ciphertext)>`; any key of the ring opens it, so keys rotate
  without downtime: add a new key in front, let the re-encryption job (reencrypt.py) reseal
  every row, then drop the old key.
- Ciphertexts differ each time (random nonce), so nothing can be found by comparing them:
  lookups go through `lookup_hash`, an HMAC-SHA256 of the normalised value under a separate
  lookup key. A database dump without the keys shows neither the values nor (the lookup key
  being secret) which guests share one.
- A stored value without the `enc1:` prefix is plaintext from before encryption (migration
  f19a moved the old email and phone columns as they were); it reads as it is, and the start-up
  pass of the re-encryption job seals it.

The ring is process-wide (`install` at start-up, from Settings): SQLAlchemy column types have no
other way to reach it.
"""

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import date
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

PREFIX = "enc1:"
NONCE_BYTES = 12
# For tests and `make run` only (like the internal secret): deployments set their own.
DEV_KEYS = "dev1:" + base64.urlsafe_b64encode(b"dev-only-pii-key-do-not-deploy!!").decode()
DEV_LOOKUP_KEY = base64.urlsafe_b64encode(b"dev-only-lookup-key-do-not-use!!").decode()


class Unreadable(ValueError):
    """A stored value no key of the ring opens: tampered with, truncated, or sealed under a key
    the ring does not hold."""


class UnknownKey(Unreadable, LookupError):
    """A stored value names a key the ring does not hold (dropped too early?)."""


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes]  # key id -> 32-byte AES key
    current: str  # the key id new values are sealed with
    lookup_key: bytes

    @classmethod
    def parse(cls, keys: str, lookup_key: str) -> "KeyRing":
        """`keys`: "id:base64,id:base64", the first one current; `lookup_key`: base64."""
        ring: dict[str, bytes] = {}
        for item in keys.split(","):
            key_id, _, encoded = item.strip().partition(":")
            secret = base64.urlsafe_b64decode(encoded.encode())
            if not key_id or ":" in key_id or len(secret) != 32:
                raise ValueError("each PII key is 'id:base64 of 32 bytes'")
            ring[key_id] = secret
        current = keys.split(",")[0].strip().partition(":")[0]
        lookup = base64.urlsafe_b64decode(lookup_key.encode())
        if len(lookup) < 32:
            raise ValueError("the PII lookup key is base64 of at least 32 bytes")
        return cls(ring, current, lookup)

    def seal(self, plaintext: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, plaintext.encode(), None)
        return f"{PREFIX}{self.current}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # plaintext from before encryption (see the module's docstring)
        key_id, _, body = stored[len(PREFIX) :].partition(":")
        if key_id not in self.keys:
            raise UnknownKey(f"no PII key {key_id!r} in the ring")
        try:
            raw = base64.urlsafe_b64decode(body.encode())
            sealed = raw[NONCE_BYTES:]
            opened = AESGCM(self.keys[key_id]).decrypt(raw[:NONCE_BYTES], sealed, None)
            return opened.decode()
        except (InvalidTag, ValueError) as error:  # binascii.Error, UnicodeDecodeError too
            raise Unreadable(f"a value sealed under {key_id!r} does not open") from error

    def is_current(self, stored: str | None) -> bool:
        """Is the stored value sealed under the current key (nothing to re-encrypt)?"""
        return stored is None or stored.startswith(f"{PREFIX}{self.current}:")

    def lookup_hash(self, kind: str, normalised: str) -> str:
        """The keyed hash a lookup compares: `kind` ("email", "phone", "document", "identity")
        keeps equal strings of different kinds apart."""
        message = f"{kind}:{normalised}".encode()
        return hmac.new(self.lookup_key, message, hashlib.sha256).hexdigest()


_ring: KeyRing | None = None


def install(ring: KeyRing) -> None:
    global _ring
    _ring = ring


def ring() -> KeyRing:
    """The installed ring; before start-up (a script, a unit test) the development one."""
    global _ring
    if _ring is None:
        _ring = KeyRing.parse(DEV_KEYS, DEV_LOOKUP_KEY)
    return _ring


def lookup_hash(kind: str, normalised: str) -> str:
    return ring().lookup_hash(kind, normalised)


class Encrypted(TypeDecorator[str]):
    """A text column stored sealed (see the module's docstring)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else ring().seal(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else ring().open(value)


class EncryptedDate(TypeDecorator[date]):
    """A date column stored sealed, as its ISO text."""

    impl = String(200)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return ring().seal(value.isoformat() if isinstance(value, date) else str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> date | None:
        return None if value is None else date.fromisoformat(ring().open(value))
