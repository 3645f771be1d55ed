"""For tests and benchmarks: access tokens minted directly with the gateway's TOKEN_SECRET,
as a sign-in would answer them (no account needed); and a gateway with its identity store in
front of a small fake reservation-service (bookings to sign in to, cancellations to audit)
that answers only a correctly signed X-Principal and records who called."""

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from hotel_common.db import drop_database
from hotel_common.events.memory import InMemoryBroker
from hotel_common.principal import HEADER, InvalidPrincipal, Kind, Principal, Role, verify
from hotel_common.testing import running, scratch_url

from gateway.config import Settings
from gateway.identity.credentials import mint_jwt
from gateway.identity.signin import guest_id
from gateway.main import create_app
from gateway.upstream import AsgiUpstream, Upstream

ADMIN_EMAIL = "root@example.com"
ADMIN_PASSWORD = "correct horse battery"
INTERNAL_SECRET = "test-internal-secret-" + uuid.uuid4().hex
BOOKING: dict[str, Any] = {
    "id": "r-1",
    "confirmation_number": "HX4K7Q",
    "guest": {"name": "Li Wei Zhang", "email": "li@example.com"},
    "check_out": "2031-05-03",
}


def staff_token(
    settings: Settings,
    roles: Iterable[Role | str] = (Role.ADMIN,),
    properties: Iterable[int] | None = None,
    driver_id: int | None = None,
    *,
    user_id: str = "test",
    lifetime: int = 3600,
) -> str:
    """A staff JWT (`staff:<user_id>`), an admin by default."""
    principal = Principal(
        id=f"staff:{user_id}",
        kind=Kind.STAFF,
        roles=frozenset(Role(r) for r in roles),
        properties=None if properties is None else frozenset(properties),
        driver_id=driver_id,
    )
    return mint_jwt(principal, settings.token_secret, lifetime)


def guest_token(
    settings: Settings, email: str | None = None, phone: str | None = None, *, lifetime: int = 3600
) -> str:
    """A guest JWT for `email` or `phone` (lower-case email, E.164 phone), as a code sign-in
    would answer it."""
    if (email is None) == (phone is None):
        raise ValueError("one of email and phone")
    address = f"email:{email}" if email is not None else f"phone:{phone}"
    principal = Principal(id=guest_id(address), kind=Kind.GUEST, email=email, phone=phone)
    return mint_jwt(principal, settings.token_secret, lifetime)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class FakeReservations:
    seen: list[Principal] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        def caller(request: Request) -> Principal | None:
            try:
                principal = verify(request.headers.get(HEADER, ""), INTERNAL_SECRET)
            except InvalidPrincipal:
                return None
            self.seen.append(principal)
            return principal

        @app.get("/api/v1/reservations")
        async def listing(request: Request, confirmation_number: str = "") -> JSONResponse:
            if caller(request) is None:
                return JSONResponse({"code": "unauthenticated"}, status_code=401)
            found = confirmation_number.upper() == BOOKING["confirmation_number"]
            return JSONResponse({"items": [BOOKING] if found else [], "next_cursor": None})

        @app.post("/api/v1/reservations/{reservation_id}/cancel")
        async def cancel(reservation_id: str, request: Request) -> JSONResponse:
            if caller(request) is None:
                return JSONResponse({"code": "unauthenticated"}, status_code=401)
            return JSONResponse({"id": reservation_id, "status": "cancelled"})

        @app.get("/api/v1/reservations/{reservation_id}")
        async def one(reservation_id: str, request: Request) -> JSONResponse:
            principal = caller(request)
            if principal is None:
                return JSONResponse({"code": "unauthenticated"}, status_code=401)
            return JSONResponse({"id": reservation_id, "as": principal.model_dump(mode="json")})

        return app


@dataclass
class Gateway:
    client: httpx.AsyncClient
    app: FastAPI
    settings: Settings
    broker: InMemoryBroker
    reservations: FakeReservations

    async def admin_headers(self) -> dict[str, str]:
        token = await self.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        return {"Authorization": f"Bearer {token['access_token']}"}

    async def login(self, email: str, password: str, status: int = 200) -> dict[str, Any]:
        answer = await self.client.post(
            "/api/v1/auth/token", data={"username": email, "password": password}
        )
        assert answer.status_code == status, answer.text
        body: dict[str, Any] = answer.json()
        return body


def settings_for(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "bus": "memory",
        "internal_secret": INTERNAL_SECRET,
        "token_secret": "test-token-secret-" + uuid.uuid4().hex,
        "bootstrap_admin_email": ADMIN_EMAIL,
        "bootstrap_admin_password": ADMIN_PASSWORD,
        "log_json": False,
        "upstreams": {},
    }
    return Settings(_env_file=None, **(values | overrides))


@asynccontextmanager
async def gateway_on(db: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[Gateway]:
    url = scratch_url(db, tmp_path, "gateway")
    settings = settings_for(url, **overrides)
    broker = InMemoryBroker()
    fake = FakeReservations()
    upstreams: dict[str, Upstream] = {
        "reservation-service": AsgiUpstream("reservation-service", fake.app())
    }
    app = create_app(settings, upstreams, identity=True, broker=broker)
    try:
        async with running(app, principal=None) as client:
            yield Gateway(client, app, settings, broker, fake)
    finally:
        if db == "postgresql":
            await drop_database(url)
