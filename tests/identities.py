"""One platform per test module, served over real HTTP from a thread of its own, and one
signed-in caller of every identity kind, enrolled only through the public API: staff users and
partner keys created by the bootstrap admin, a guest signed in by the one-time code the gateway
publishes, a booking token from an anonymous booking. (A module, not conftest: the access
tests import it by name.)

Why a thread: schemathesis and the matrix are synchronous callers; the platform's background
work (outboxes, consumers) needs its event loop running between their calls.
"""

import asyncio
import threading
import uuid
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from gateway.config import Settings as GatewaySettings
from hotel_common.contracts.identity import SignInCodeRequested
from hotel_common.testing import MailServer, Probe, eventually, serving
from launcher.embedded import create_embedded_app

T = TypeVar("T")

ADMIN_EMAIL = "root@hotel.test"
ADMIN_PASSWORD = "bootstrap-Admin-pass-0"
PASSWORD = "Staff-password-0123"  # every enrolled staff user's
PREFIX = "/api/v1"
FAST = {"retry_delays": [0.05, 0.1], "outbox_poll_seconds": 0.2, "log_json": False}

# The identity kinds of the matrix, in its order. Staff roles go by their role's name.
STAFF_ROLES = (
    "front_desk",
    "reservations",
    "housekeeping",
    "dispatcher",
    "marketing",
    "manager",
    "admin",
)
KINDS = ("anonymous", "booking", "guest", "partner_a", "partner_b", *STAFF_ROLES, "driver")


def gateway_settings(data_dir: Path) -> GatewaySettings:
    """The gateway of the test platform: its identity database in `data_dir`, a bootstrap admin.
    Limits are raised: the matrix sends hundreds of calls from one address in seconds (the
    limits have tests of their own)."""
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{data_dir}/gateway.db",
        "token_secret": "test-token-secret-" + "x" * 32,
        "bootstrap_admin_email": ADMIN_EMAIL,
        "bootstrap_admin_password": ADMIN_PASSWORD,
        "log_json": False,
        "rate_limit_enabled": False,
    }
    return GatewaySettings(**values)


@dataclass
class Records:
    """The bookings the probes aim at, and what the platform made of them."""

    reservations: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> 201 body
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> job
    notifications: dict[str, str] = field(default_factory=dict)  # name -> a notice id
    guests: dict[str, int] = field(default_factory=dict)  # name -> guest-service profile id
    partners: dict[str, int | str] = field(default_factory=dict)  # partner_a/_b -> partner id
    staff_users: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind -> 201 body
    emails: dict[str, str] = field(default_factory=dict)  # name -> the booking guest's email


class LivePlatform:
    """The embedded platform served on a loopback port, its loop in a thread of its own."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.stack = AsyncExitStack()
        self.url = ""
        self.app: FastAPI | None = None
        self.headers: dict[str, dict[str, str]] = {}  # kind -> credential headers
        self.records = Records()

    def __enter__(self) -> "LivePlatform":
        self.thread.start()
        try:
            self.run(self._start(), timeout=180)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.run(self.stack.aclose(), timeout=60)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=30)
            self.loop.close()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run `coro` on the platform's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def client(self, kind: str | None = None) -> httpx.Client:
        """A synchronous client of the gateway, sending `kind`'s credentials."""
        headers = self.headers[kind] if kind else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    async def _start(self) -> None:
        mailbox = await MailServer().start()
        self.stack.push_async_callback(mailbox.stop)
        data = self.data_dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        overrides = {
            name: FAST
            for name in (
                "reservation-service",
                "transfer-service",
                "guest-service",
                "notification-service",
            )
        }
        self.app = create_embedded_app(
            data, smtp_url=mailbox.url, overrides=overrides, settings=gateway_settings(data)
        )
        self.url = await self.stack.enter_async_context(serving(self.app))
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            await eventually(
                lambda: client.get("/health/ready"), lambda r: r.status_code == 200, timeout=60
            )

    def enroll(self) -> "LivePlatform":
        """Sign in one caller of every kind and make the records the probes aim at (once)."""
        if not self.headers:
            self.run(self._enroll(), timeout=180)
        return self

    async def _enroll(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            await Enrollment(self, client).enroll()

    async def sign_in_code(self, client: httpx.AsyncClient, email: str) -> str:
        """Ask the gateway for a guest's one-time code and read it off the bus."""
        assert self.app is not None
        probe = Probe(self.app.state.broker, {SignInCodeRequested.event_type})
        asked = await client.post(f"{PREFIX}/auth/guest/code", json={"email": email})
        assert asked.status_code == 202, asked.text
        events = await eventually(
            lambda: [e for e in probe.events() if e.payload.get("email") == email], timeout=15
        )
        return str(events[-1].payload["code"])

    async def guest_headers(self, client: httpx.AsyncClient, email: str) -> dict[str, str]:
        code = await self.sign_in_code(client, email)
        signed = await client.post(
            f"{PREFIX}/auth/guest/token", json={"email": email, "code": code}
        )
        assert signed.status_code == 200, signed.text
        return bearer(signed.json()["access_token"])

    def guest_headers_sync(self, email: str) -> dict[str, str]:
        async def sign_in() -> dict[str, str]:
            async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
                return await self.guest_headers(client, email)

        return self.run(sign_in())

    def sign_in_code_sync(self, email: str) -> str:
        async def ask() -> str:
            async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
                return await self.sign_in_code(client, email)

        return self.run(ask())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


_day = iter(range(30, 100_000))  # every booking its own night: the matrix never sells out


def booking_body(
    email: str,
    *,
    transfer: bool = False,
    property_id: int | None = None,
    room_type: str = "KNG",
    last_name: str = "Clarke",
) -> dict[str, Any]:
    """A one-night stay for `email`, on a night no other booking of the run takes; with
    `transfer`, an airport pickup at the same hour as every other one (each gets its own
    driver)."""
    check_in = date.today() + timedelta(days=next(_day))
    body: dict[str, Any] = {
        "guest": {"name": f"Emma {last_name}", "email": email, "language": "en"},
        "room_type_code": room_type,
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=1)).isoformat(),
        "guests": 1,
    }
    if property_id is not None:
        body["property_id"] = property_id
    if transfer:
        pickup = date.today() + timedelta(days=20)
        body["check_in"] = pickup.isoformat()
        body["check_out"] = (pickup + timedelta(days=1 + next(_day) % 5)).isoformat()
        body["transfer"] = {
            "flight_number": "MU5101",
            "arrival_time": datetime.combine(pickup, time(6, 30), UTC).isoformat(),
            "pickup_place": "Shanghai Pudong International Airport T1",
            "passengers": 1,
            "luggage": 1,
        }
    return body


def unique_email(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


class Enrollment:
    """Everything the probes need, made through the gateway as its users would."""

    def __init__(self, live: LivePlatform, client: httpx.AsyncClient) -> None:
        self.live = live
        self.client = client
        self.admin: dict[str, str] = {}

    async def call(
        self, method: str, path: str, headers: dict[str, str], expect: int = 200, **kw: Any
    ) -> Any:
        answer = await self.client.request(method, PREFIX + path, headers=headers, **kw)
        assert answer.status_code == expect, (method, path, answer.status_code, answer.text)
        return answer.json() if answer.content else None

    async def staff_sign_in(self, email: str, password: str) -> dict[str, str]:
        token = await self.call(
            "POST", "/auth/token", {}, data={"username": email, "password": password}
        )
        return bearer(token["access_token"])

    async def staff_user(self, kind: str, roles: list[str], **fields: Any) -> dict[str, str]:
        user = await self.call(
            "POST",
            "/staff-users",
            self.admin,
            201,
            json={
                "email": unique_email(kind),
                "name": kind.replace("_", " ").title(),
                "password": PASSWORD,
                "roles": roles,
                "properties": fields.get("properties"),
                "driver_id": fields.get("driver_id"),
            },
        )
        self.live.records.staff_users[kind] = user
        return await self.staff_sign_in(user["email"], PASSWORD)

    async def partner(self, kind: str, channel: str) -> dict[str, str]:
        partner = await self.call(
            "POST", "/partners", self.admin, 201, json={"name": kind, "channel": channel}
        )
        self.live.records.partners[kind] = partner["id"]
        key = await self.call(
            "POST",
            f"/partners/{partner['id']}/keys",
            self.admin,
            201,
            json={"scopes": ["reservations:read", "reservations:write"]},
        )
        return {"X-API-Key": key["key"]}

    async def book(self, name: str, headers: dict[str, str], email: str, **kw: Any) -> str:
        body = booking_body(email, **kw)
        made = await self.call("POST", "/reservations", headers, 201, json=body)
        self.live.records.reservations[name] = made
        self.live.records.emails[name] = email
        await self.call("POST", f"/reservations/{made['id']}/confirm", self.admin)
        return str(made["id"])

    async def enroll(self) -> None:
        live, records = self.live, self.live.records
        self.admin = await self.staff_sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
        h = live.headers
        h["anonymous"] = {}
        h["admin"] = self.admin
        for role in STAFF_ROLES:
            if role != "admin":
                h[role] = await self.staff_user(role, [role])
        h["partner_a"] = await self.partner("partner_a", "ota_a")
        h["partner_b"] = await self.partner("partner_b", "ota_b")
        guest_email = unique_email("guest-x")
        h["guest"] = await live.guest_headers(self.client, guest_email)

        # The bookings: one anonymous (its token is the booking kind), one by the guest, one
        # per partner (partner A's is for guest Y, whose address the tenants test signs in).
        anon = await self.book("anonymous", {}, unique_email("anon"), transfer=True)
        h["booking"] = bearer(records.reservations["anonymous"]["access_token"])
        await self.book("guest", h["guest"], guest_email, transfer=True)
        await self.book("partner_a", h["partner_a"], unique_email("guest-y"), transfer=True)
        await self.book("partner_b", h["partner_b"], unique_email("guest-z"))

        for name in ("anonymous", "guest", "partner_a"):
            rid = records.reservations[name]["id"]
            jobs = await eventually(
                lambda rid=rid: self.call(
                    "GET", "/transfers", self.admin, params={"reservation_id": rid}
                ),
                lambda page: bool(page["items"]) and page["items"][0]["driver"] is not None,
                timeout=20,
            )
            records.transfers[name] = jobs["items"][0]
            notices = await eventually(
                lambda rid=rid: self.call(
                    "GET", "/notifications", self.admin, params={"reservation_id": rid}
                ),
                lambda page: bool(page["items"]),
                timeout=20,
            )
            records.notifications[name] = notices["items"][0]["id"]
            email = records.emails[name]
            profiles = await eventually(
                lambda email=email: self.call(
                    "GET", "/guests", self.admin, params={"email": email}
                ),
                lambda page: bool(page["items"]),
                timeout=20,
            )
            records.guests[name] = profiles["items"][0]["id"]
        drivers = {records.transfers[n]["driver"]["id"] for n in records.transfers}
        assert len(drivers) == 3, f"the three pickups share drivers: {records.transfers}"
        # The driver of the guest's pickup is the driver kind: their own job is that one.
        driver_id = records.transfers["guest"]["driver"]["id"]
        h["driver"] = await self.staff_user("driver", ["driver"], driver_id=driver_id)
        assert anon == records.reservations["anonymous"]["id"]
