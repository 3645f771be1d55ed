"""The gateway's real authenticator: JWTs (staff, guests), booking tokens and partner keys.

Local checks only: a JWT by its signature, a booking token by its HMAC (the internal secret),
a partner key against the in-memory key cache. A credential that does not verify is a 401
`invalid_credentials`, never served as anonymous.
"""

import time

from hotel_common.principal import (
    ANONYMOUS,
    BOOKING_TOKEN_PREFIX,
    SCOPE_KEY,
    InvalidPrincipal,
    Principal,
    verify_booking_token,
)
from starlette.requests import Request

from gateway.auth import client_ip
from gateway.config import Settings
from gateway.identity.credentials import InvalidToken, digest, principal_from_jwt
from gateway.identity.keys import KeyCache
from gateway.identity.problems import BEARER_CHALLENGE, InvalidCredentials

# Access tokens verified on this replica, by token, until they expire: decoding a JWT costs
# ~0.1 ms of Python (bench/gateway_auth.py), a dict lookup ~0. Safe because an access token is
# never revoked before its `exp` (15 minutes; a disabled account stops at the next refresh).
VERIFIED_TOKENS_KEPT = 10_000
# The principal with the caller's address, by (credential, address): a pydantic copy costs
# ~5 us of every call, a lookup ~0. Principals are frozen, so one object serves many requests.
WITH_IP_KEPT = 10_000


class IdentityAuthenticator:
    def __init__(self, settings: Settings, keys: KeyCache) -> None:
        self.token_secret = settings.token_secret
        self.internal_secret = settings.internal_secret
        self.keys = keys
        self.verified: dict[str, Principal] = {}
        self._with_ip: dict[tuple[str, str | None], Principal] = {}

    def _at(self, key: str, principal: Principal, ip: str | None) -> Principal:
        """`principal` with `ip`, copied once per (`key`, ip); `key` names the credential,
        whose principal never changes (an anonymous caller, a verified token)."""
        found = self._with_ip.get((key, ip))
        if found is None:
            if len(self._with_ip) >= WITH_IP_KEPT:
                self._with_ip.clear()  # bounded; a miss costs one copy
            found = self._with_ip[(key, ip)] = principal.model_copy(update={"ip": ip})
        return found

    async def authenticate(self, request: Request) -> Principal:
        scope = request.scope
        found: Principal | None = scope.get(SCOPE_KEY)
        if found is not None:  # already authenticated on this request (middleware, proxy)
            return found
        principal = self.identify(
            request.headers.get("authorization"),
            request.headers.get("x-api-key"),
            client_ip(request),
        )
        scope[SCOPE_KEY] = principal
        return principal

    def identify(self, authorization: str | None, api_key: str | None, ip: str | None) -> Principal:
        if authorization is not None and api_key is not None:
            raise InvalidCredentials("Send one credential: Authorization or X-API-Key.")
        if api_key is not None:
            known = self.keys.lookup(digest(api_key.strip()))
            if known is None:
                raise InvalidCredentials(
                    "Unknown, expired or revoked API key.", 'ApiKey realm="hotel"'
                )
            return known.principal.model_copy(update={"ip": ip})
        if authorization is None:
            return self._at("", ANONYMOUS, ip)
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise InvalidCredentials("Use Authorization: Bearer <token>.")
        if token.startswith(BOOKING_TOKEN_PREFIX):
            try:
                holder = verify_booking_token(token, self.internal_secret)
            except InvalidPrincipal as exc:
                raise InvalidCredentials(f"Invalid booking token ({exc}).") from exc
            return holder.model_copy(update={"ip": ip})
        verified = self.verified.get(token)
        if verified is not None and verified.expires > time.time():
            return self._at(token, verified, ip)
        try:
            principal = principal_from_jwt(token, self.token_secret, None)
        except InvalidToken as exc:
            self.verified.pop(token, None)
            raise InvalidCredentials(
                f"Invalid access token: {exc}.", BEARER_CHALLENGE + ', error="invalid_token"'
            ) from exc
        if len(self.verified) >= VERIFIED_TOKENS_KEPT:
            self.verified.pop(next(iter(self.verified)))  # the oldest
        self.verified[token] = principal
        return self._at(token, principal, ip)
