"""Who is calling: the principal the gateway verified, passed signed to the services.

The gateway authenticates the caller (partner key, staff or guest JWT, booking token, or
nobody) and sends the result in one header, `X-Principal: <payload>.<signature>`: the payload is
base64url JSON, the signature HMAC-SHA256 over it with the platform's internal secret (setting
`internal_secret`, the same in the gateway and every service). Services verify it locally, with
no database read, and refuse any call without a valid one (`PrincipalGuard`); `/admin/*` also
needs the admin role. Who may touch which record is then decided in each service with the
principal from `PrincipalDep`.

Why HMAC and not a JWT library: the header is internal, one key, one algorithm, checked on every
request; a constant-time HMAC compare and a JSON decode is all that is needed.
"""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from hotel_common.errors import ProblemError, problem

HEADER = "x-principal"
_HEADER_BYTES = HEADER.encode()
SCOPE_KEY = "hotel.principal"
# Paths a service answers without a principal: probes and its own OpenAPI document.
OPEN_PATHS = frozenset({"/health/live", "/health/ready", "/openapi.json"})
DEFAULT_LIFETIME_SECONDS = 300  # an internal principal outlives one request, never a session


class Kind(StrEnum):
    ANONYMOUS = "anonymous"  # the hotel's own website or app before sign-in
    BOOKING = "booking"  # the holder of one booking's access token
    GUEST = "guest"  # a signed-in guest (mobile app)
    PARTNER = "partner"  # an OTA or channel manager, by API key
    STAFF = "staff"  # hotel staff, drivers included (role driver)
    SERVICE = "service"  # the gateway itself, for calls it makes on its own behalf


class Role(StrEnum):
    FRONT_DESK = "front_desk"
    RESERVATIONS = "reservations"
    HOUSEKEEPING = "housekeeping"
    DISPATCHER = "dispatcher"
    MARKETING = "marketing"
    MANAGER = "manager"
    ADMIN = "admin"
    DRIVER = "driver"


class ApiScope(StrEnum):
    """What a partner key may do."""

    RESERVATIONS_READ = "reservations:read"
    RESERVATIONS_WRITE = "reservations:write"
    ARI_WRITE = "ari:write"  # availability, rates and inventory


class Principal(BaseModel):
    """One verified caller. Fields that do not apply to its kind are empty."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description='Stable subject, e.g. "staff:7", "partner:ab12", "guest:…"')
    kind: Kind
    roles: frozenset[Role] = frozenset()
    scopes: frozenset[ApiScope] = frozenset()
    channel: str | None = None  # a partner's channel code; its bookings carry it
    # Property ids a staff member may see; None means every property.
    properties: frozenset[int] | None = None
    email: str | None = None  # a guest's verified email (lower-case)
    phone: str | None = None  # a guest's verified phone (E.164)
    reservation_id: str | None = None  # the booking a BOOKING principal may reach
    driver_id: int | None = None  # a driver's own row in transfer-service
    ip: str | None = None  # where the call came from, for the audit log
    expires: int = Field(default=0, description="Unix seconds; set when signed")

    def has(self, *roles: Role) -> bool:
        """Holds any of `roles` (admin holds every role)."""
        return Role.ADMIN in self.roles or any(role in self.roles for role in roles)

    def may(self, scope: ApiScope) -> bool:
        return scope in self.scopes

    def sees_property(self, property_id: int) -> bool:
        return self.properties is None or property_id in self.properties

    @property
    def idempotency_owner(self) -> str:
        """Whose Idempotency-Keys these are: anonymous callers are told apart by address."""
        return f"anonymous@{self.ip}" if self.kind is Kind.ANONYMOUS else self.id

    @property
    def is_staff(self) -> bool:
        return self.kind is Kind.STAFF or self.kind is Kind.SERVICE


ANONYMOUS = Principal(id="anonymous", kind=Kind.ANONYMOUS)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Purpose(StrEnum):
    """What a signed principal is for: one purpose's signature is never valid for another."""

    HEADER = "principal"  # X-Principal, gateway to service, minutes
    BOOKING_TOKEN = "booking"  # a booking's access token, held by a guest, months


def _mac(secret: str, purpose: Purpose, payload: str) -> str:
    message = f"{purpose}.{payload}".encode("ascii")
    return _b64(hmac.new(secret.encode(), message, hashlib.sha256).digest())


def sign(
    principal: Principal,
    secret: str,
    lifetime: float = DEFAULT_LIFETIME_SECONDS,
    purpose: Purpose = Purpose.HEADER,
) -> str:
    """`principal`, signed for `purpose` and valid for `lifetime` seconds."""
    expires = int(time.time() + lifetime)
    data = principal.model_dump(mode="json", exclude_defaults=True) | {"expires": expires}
    payload = _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_mac(secret, purpose, payload)}"


# Header values signed lately, by principal: one caller's requests reuse theirs while it has
# more than half its lifetime left (signing costs ~20 us of every proxied call).
_SIGNED: dict[tuple[str, Principal], tuple[str, float]] = {}
_SIGNED_KEPT = 10_000


def signed_header(principal: Principal, secret: str) -> str:
    """`sign(principal, secret)` for the X-Principal header, reused while fresh enough."""
    now = time.monotonic()
    found = _SIGNED.get((secret, principal))
    if found is not None and found[1] > now:
        return found[0]
    value = sign(principal, secret)
    if len(_SIGNED) >= _SIGNED_KEPT:
        _SIGNED.clear()  # bounded; a miss costs one signature
    _SIGNED[(secret, principal)] = (value, now + DEFAULT_LIFETIME_SECONDS / 2)
    return value


class InvalidPrincipal(Exception):
    pass


def verify(
    value: str, secret: str, purpose: Purpose = Purpose.HEADER, *, now: float | None = None
) -> Principal:
    """The principal in `value`; `InvalidPrincipal` unless signed with `secret` for `purpose`
    and unexpired."""
    payload, _, mac = value.partition(".")
    if not mac or not hmac.compare_digest(mac, _mac(secret, purpose, payload)):
        raise InvalidPrincipal("bad signature")
    try:
        principal = Principal.model_validate_json(_unb64(payload))
    except ValueError as exc:
        raise InvalidPrincipal("bad payload") from exc
    if principal.expires < (time.time() if now is None else now):
        raise InvalidPrincipal("expired")
    return principal


class PrincipalGuard:
    """Pure ASGI: a service answers only calls carrying a valid principal (401 otherwise), and
    `/admin/*` only for the admin role (403). The principal is left in the scope for
    `get_principal`."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        self.app = app
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        value = next((v for k, v in scope["headers"] if k == _HEADER_BYTES), None)
        refusal = None
        if value is None:
            refusal = problem(401, "unauthenticated", "Call this service through the gateway.")
        else:
            try:
                principal = verify(value.decode("latin-1"), self.secret)
            except InvalidPrincipal as exc:
                refusal = problem(401, "unauthenticated", f"Invalid principal ({exc}).")
            else:
                if scope["path"].startswith("/admin/") and not principal.has(Role.ADMIN):
                    refusal = problem(403, "forbidden", "The admin role is needed.")
                scope[SCOPE_KEY] = principal
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)


BOOKING_TOKEN_PREFIX = "bk_"  # tells a booking token from a JWT in an Authorization header


def booking_token(reservation_id: str, secret: str, lifetime: float) -> str:
    """The access token for one booking (reservation-service mints it when the booking is
    made; the gateway accepts it as `Authorization: Bearer bk_...`)."""
    holder = Principal(
        id=f"booking:{reservation_id}", kind=Kind.BOOKING, reservation_id=reservation_id
    )
    return BOOKING_TOKEN_PREFIX + sign(holder, secret, lifetime, Purpose.BOOKING_TOKEN)


def verify_booking_token(token: str, secret: str) -> Principal:
    """The BOOKING principal a token stands for; `InvalidPrincipal` otherwise."""
    if not token.startswith(BOOKING_TOKEN_PREFIX):
        raise InvalidPrincipal("not a booking token")
    holder = verify(token.removeprefix(BOOKING_TOKEN_PREFIX), secret, Purpose.BOOKING_TOKEN)
    if holder.kind is not Kind.BOOKING or holder.reservation_id is None:
        raise InvalidPrincipal("not a booking token")
    return holder


async def get_principal(request: Request) -> Principal:  # async: no worker-thread hop
    principal: Principal | None = request.scope.get(SCOPE_KEY)
    if principal is None:  # only on an open path, which takes no principal
        raise ProblemError(401, "unauthenticated", "No principal on this call.")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(
    *roles: Role, kinds: Iterable[Kind] = ()
) -> Callable[[Principal], Awaitable[Principal]]:
    """A route dependency admitting staff holding any of `roles` (admin always) and every caller
    of `kinds`; others get 403. Object-level checks (whose record) stay in the route: there a
    record the caller may not see answers 404, as if it did not exist."""
    allowed_kinds = frozenset(kinds)

    async def check(principal: PrincipalDep) -> Principal:  # async: no worker-thread hop
        if principal.kind in allowed_kinds:
            return principal
        if principal.is_staff and principal.has(*roles):
            return principal
        raise refused(principal)

    return check


def refused(principal: Principal) -> ProblemError:
    """401 for a caller who has not signed in (signing in may help), 403 for one who has."""
    if principal.kind is Kind.ANONYMOUS:
        return ProblemError(401, "unauthenticated", "Sign in, or send an API key, to do this.")
    return ProblemError(403, "forbidden", "Your credentials do not allow this.")


def masked(value: str | None, keep: int = 2) -> str | None:
    """Personal data shown to a role that does not need it: its first characters, then stars."""
    if value is None:
        return None
    return value[:keep] + "*" * max(len(value) - keep, 1)
