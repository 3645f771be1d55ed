"""Credentials: Argon2 for passwords, sha256 for random tokens and keys, HMAC for short codes,
and the JWTs of staff and guests (PyJWT, HS256, TOKEN_SECRET)."""

import asyncio
import hashlib
import hmac
import secrets
import time
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from hotel_common.principal import Kind, Principal

ALGORITHM = "HS256"
ACCESS = "access"  # the JWT `typ` claim of an access token: no other kind is accepted
KEY_PREFIX = "pk_"  # tells a partner key from other secrets in logs and scanners

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)  # ~50 ms of CPU: off the loop


async def password_matches(password_hash: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def new_id() -> str:
    return secrets.token_hex(8)


def digest(token: str) -> str:
    """sha256 of a 256-bit random token or key: enough, as it cannot be guessed (no salt or
    slow hash needed, and a lookup by hash stays an index lookup)."""
    return hashlib.sha256(token.encode()).hexdigest()


def code_digest(secret: str, address: str, code: str) -> str:
    """A six-digit code is keyed with the token secret: a leaked table does not give it away."""
    return hmac.new(secret.encode(), f"{address}|{code}".encode(), hashlib.sha256).hexdigest()


def six_digits() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def mint_jwt(principal: Principal, secret: str, lifetime: int) -> str:
    """An access token for a staff member or guest: its claims are the principal."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": principal.id,
        "kind": principal.kind.value,
        "typ": ACCESS,
        "iat": now,
        "exp": now + lifetime,
        "roles": sorted(principal.roles),
        "properties": None if principal.properties is None else sorted(principal.properties),
    }
    for name in ("driver_id", "email", "phone"):
        if (value := getattr(principal, name)) is not None:
            claims[name] = value
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class InvalidToken(Exception):
    pass


JWT_KINDS = frozenset({Kind.STAFF, Kind.GUEST})


def principal_from_jwt(token: str, secret: str, ip: str | None) -> Principal:
    """The principal an access token stands for; `InvalidToken` (with the reason) otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "kind", "typ"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("the token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidToken("the token is not valid") from exc
    if claims.get("typ") != ACCESS:
        raise InvalidToken("not an access token")
    try:
        principal = Principal(
            id=claims["sub"],
            kind=claims["kind"],
            roles=frozenset(claims.get("roles") or ()),
            properties=None if claims.get("properties") is None else claims["properties"],
            driver_id=claims.get("driver_id"),
            email=claims.get("email"),
            phone=claims.get("phone"),
            ip=ip,
            expires=claims["exp"],
        )
    except ValueError as exc:
        raise InvalidToken("the token's claims are not valid") from exc
    if principal.kind not in JWT_KINDS:
        raise InvalidToken("the token's kind is not valid")
    return principal
