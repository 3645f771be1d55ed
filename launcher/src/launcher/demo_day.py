"""The demo day `make run` seeds: a hotel's day for the dashboard to show.

Today's arrivals (several with a pickup later today, one still pending), guests in house
(some leaving today), a complaint, loyalty members and a few days of history (stays that
arrived and left, completed pickups, a cancellation), all made through the gateway's public
API in-process, as staff would, so every event flows to the other services.

History: the API refuses arrivals in the past, so the process clock travels (time-machine)
back to each past day and the operations run then, in order, as they would have happened
(docs/DECISIONS.md, "Issue 22: the demo day"). It runs inside the gateway's lifespan, after
the services started and before the server accepts a connection, so no request ever sees
the travelled clock.

Once per data folder for the history, once per day for today's part: a later run the same
day finds its marker booking and adds nothing. A refused step is logged and skipped; the
start never fails because of the demo day.
"""

import asyncio
import logging
import time as wall
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import time_machine
from fastapi import FastAPI
from gateway.identity.credentials import mint_jwt
from hotel_common.principal import Kind, Principal, Role

log = logging.getLogger(__name__)

ZONE = ZoneInfo("Asia/Shanghai")  # the demo hotel's (reservation-service seed.py)
ID = {"document_type": "passport", "issuing_country": "CN", "last4": "4821", "attested": True}
WAIT_SECONDS = 3.0  # for an event's effect in another service (a pickup assigned, a profile)

# Arrival pickups: (pickup place, flight or train number, transport).
PUDONG = ("Shanghai Pudong International Airport", "MU5101", "international_flight")
HONGQIAO = ("Shanghai Hongqiao International Airport", "CA1857", "domestic_flight")
STATION = ("Shanghai Hongqiao Railway Station", "G102", "train")


@dataclass(frozen=True)
class Stay:
    """One booking of the demo day; `arrives` and `booked` count days from today."""

    name: str
    email: str
    room_type: str
    arrives: int
    nights: int
    fate: str  # expected | pending | in_house | departed | cancelled
    pickup: tuple[str, str, str] | None = None
    language: str = "en"
    booked: int | None = None  # the day it was booked (default: the arrival day)
    member: bool = False  # joins the loyalty programme


# Today's part. Few King rooms: tests and staff book those (7 in the hotel).
TODAY = [
    Stay("王芳", "wang.fang@example.cn", "STD", 0, 2, "expected", PUDONG, "zh-Hans", member=True),
    Stay("Emily Carter", "emily.carter@example.com", "BUS", 0, 3, "expected", STATION),
    Stay("李娜", "li.na@example.cn", "DLX", 0, 2, "expected", HONGQIAO, "zh-Hans"),
    Stay("James Wilson", "james.wilson@example.com", "STD", 0, 1, "expected"),
    Stay("Zhang Wei", "zhang.wei@example.cn", "STE", 0, 3, "expected", PUDONG, "zh-Hans"),
    Stay("Sophie Martin", "sophie.martin@example.com", "DLX", 0, 2, "expected"),
    Stay("陈静", "chen.jing@example.cn", "BUS", 0, 2, "pending", language="zh-Hans"),
    Stay("Oliver Brown", "oliver.brown@example.com", "STD", 0, 1, "expected", PUDONG),
    Stay("刘洋", "liu.yang@example.cn", "DLX", -2, 2, "in_house", language="zh-Hans"),
    Stay("Hannah Schmidt", "hannah.schmidt@example.com", "BUS", -1, 1, "in_house"),
    Stay("周敏", "zhou.min@example.cn", "STE", -1, 3, "in_house", PUDONG, "zh-Hans", member=True),
    Stay("Daniel Lee", "daniel.lee@example.com", "STD", -2, 4, "in_house", member=True),
]
COMPLAINED = "zhou.min@example.cn"

# The days before: once per data folder.
HISTORY = [
    Stay("黄磊", "huang.lei@example.cn", "STD", -4, 2, "departed", PUDONG, "zh-Hans", member=True),
    Stay("Grace Taylor", "grace.taylor@example.com", "BUS", -4, 1, "departed"),
    Stay("Laura Davis", "laura.davis@example.com", "STD", -4, 3, "departed", STATION),
    Stay("Sun Li", "sun.li@example.cn", "DLX", -3, 2, "departed", HONGQIAO),
    Stay("Michael Chen", "michael.chen@example.com", "KNG", -3, 1, "departed"),
    Stay("许婷", "xu.ting@example.cn", "STE", -2, 1, "departed", language="zh-Hans"),
    Stay("Robert King", "robert.king@example.com", "STD", -2, 1, "departed", PUDONG),
    Stay("Ma Jun", "ma.jun@example.cn", "BUS", 2, 2, "cancelled", booked=-3),
]


# A past pickup's driver reports (hour, minute, step): landing at 12:00, on site 30 min early.
DRIVER = [(11, 30, "on-site"), (12, 10, "on-board"), (12, 50, "complete")]

Moment = tuple[int, int, int]  # (days from today, hour, minute)
NOW: Moment = (0, 0, 0)  # today's steps: the real clock
Step = Callable[["Stay"], Awaitable[None]]


def with_demo_day(app: FastAPI) -> None:
    """Seed the demo day inside `app`'s lifespan, once the services have started."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(started: Any) -> AsyncIterator[Any]:
        async with inner(started) as state:
            await seed_demo_day(started)
            yield state

    app.router.lifespan_context = lifespan


async def seed_demo_day(app: FastAPI) -> None:
    """Never raises: a demo day half made is better than a platform that does not start."""
    began = wall.monotonic()
    try:
        seeder = Seeder(app)
        async with seeder.client:
            made = await seeder.run()
    except Exception:
        log.exception("demo day: stopped early")
        return
    log.info("demo day: %s (%.1f s)", made, wall.monotonic() - began)


def hotel_today() -> date:
    return datetime.now(ZONE).date()


@contextmanager
def clock_at(moment: datetime | None) -> Iterator[None]:
    """The process clock at `moment` (ticking on), or the real one for None."""
    if moment is None:
        yield
        return
    with time_machine.travel(moment, tick=True):
        yield


class Seeder:
    def __init__(self, app: FastAPI) -> None:
        self.settings = app.state.settings
        transport = httpx.ASGITransport(app=app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://demo-day")
        self.today = hotel_today()
        self.bookings: dict[str, dict[str, Any]] = {}  # email -> the booking
        self.rooms: dict[str, int] = {}  # email -> the id of the room assigned
        self.transfers: dict[str, str] = {}  # email -> the id of the pickup's job
        self.made: dict[str, int] = {}

    def count(self, what: str) -> None:
        self.made[what] = self.made.get(what, 0) + 1

    def sign_in(self) -> None:
        """A fresh staff token for the clock now (travelled or not): the demo day acts as
        the front desk, dispatch and a manager would."""
        principal = Principal(
            id="staff:demo-day",
            kind=Kind.STAFF,
            roles=frozenset({Role.ADMIN}),
            properties=None,
            driver_id=None,
        )
        token = mint_jwt(principal, self.settings.token_secret, 900)
        self.client.headers["Authorization"] = f"Bearer {token}"

    async def call(
        self, method: str, path: str, *, json: Any = None, params: Any = None, key: str = ""
    ) -> Any:
        """The answer's JSON, or None (logged) when the API refuses."""
        headers = {"Idempotency-Key": key} if key else {}
        try:
            answer = await self.client.request(
                method, "/api/v1" + path, json=json, params=params, headers=headers
            )
        except Exception as exc:
            log.warning("demo day: %s %s failed: %r", method, path, exc)
            return None
        if answer.status_code >= 400:
            log.warning(
                "demo day: %s %s refused: %s %s",
                method,
                path,
                answer.status_code,
                answer.text[:300],
            )
            return None
        return answer.json() if answer.content else {}

    async def items(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        page = await self.call("GET", path, params=params)
        return list(page.get("items", [])) if isinstance(page, dict) else []

    async def eventually(
        self, probe: Callable[[], Awaitable[Any]], seconds: float = WAIT_SECONDS
    ) -> Any:
        """`probe()`'s first truthy answer within `seconds` (events cross services)."""
        deadline = wall.monotonic() + seconds
        while True:
            found = await probe()
            if found or wall.monotonic() > deadline:
                return found
            await asyncio.sleep(0.1)

    async def run(self) -> dict[str, int]:
        self.sign_in()
        parts: list[tuple[list[Stay], str]] = []
        if not await self.booked(HISTORY[0].email):
            parts.append((HISTORY, "history"))
        if not await self.booked(TODAY[0].email, self.today):
            parts.append((TODAY, "today"))
        if not parts:
            log.info("demo day: already seeded for %s", self.today)
            return {}
        stays = [stay for part, _ in parts for stay in part]
        for moment, steps in self.timeline(stays):
            with clock_at(self.at(*moment)):
                self.sign_in()
                # One moment's steps are independent (other guests): run them together.
                await asyncio.gather(*(step(stay) for step, stay in steps))
        self.sign_in()
        extras = [self.enrol(stay) for stay in stays if stay.member]
        if any(name == "today" for _, name in parts):
            extras.append(self.complain())
        await asyncio.gather(*extras)
        return self.made

    async def booked(self, email: str, arrival: date | None = None) -> bool:
        params: dict[str, Any] = {"email": email, "limit": 1}
        if arrival is not None:
            params |= {"check_in_from": arrival.isoformat(), "check_in_to": arrival.isoformat()}
        return bool(await self.items("/reservations", params))

    def at(self, offset: int, hour: int, minute: int) -> datetime | None:
        """A moment `offset` days from today (property time); None is now, for today."""
        if offset >= 0:
            return None
        return datetime.combine(self.today + timedelta(days=offset), time(hour, minute), ZONE)

    def timeline(self, stays: list[Stay]) -> list[tuple[Moment, list[tuple[Step, Stay]]]]:
        """Every step at the moment it happened, moments in order: a day's departures and
        bookings (09:30: a room given at once, a pickup dispatched), the pickups' driver
        (11:30-12:50), check-ins and cancellations (14:30). Today's steps all run now. Few
        moments: each costs a round of requests and the events they start."""
        at: dict[Moment, list[tuple[Step, Stay]]] = {}

        def add(day: int, hour: int, minute: int, step: Step, stay: Stay) -> None:
            at.setdefault((day, hour, minute) if day < 0 else NOW, []).append((step, stay))

        for stay in stays:
            booked = stay.arrives if stay.booked is None else stay.booked
            add(booked, 9, 30, self.book, stay)
            if stay.fate == "cancelled":
                add(booked + 1, 14, 30, self.cancel, stay)
            if stay.arrives < 0 and stay.fate in ("in_house", "departed"):
                if stay.pickup is not None:
                    for hour, minute, report in DRIVER:
                        add(stay.arrives, hour, minute, self.reporter(report), stay)
                add(stay.arrives, 14, 30, self.check_in, stay)
            if stay.fate == "departed":
                add(stay.arrives + stay.nights, 9, 30, self.check_out, stay)
        return sorted(at.items(), key=lambda item: item[0])

    async def book(self, stay: Stay) -> None:
        now = datetime.now(ZONE)
        arrival = now.date() if stay.booked is None else self.today + timedelta(stay.arrives)
        body: dict[str, Any] = {
            "guest": {"name": stay.name, "email": stay.email, "language": stay.language},
            "room_type_code": stay.room_type,
            "check_in": arrival.isoformat(),
            "check_out": (arrival + timedelta(days=stay.nights)).isoformat(),
            "guests": 1,
        }
        if stay.pickup is not None and (landing := self.landing(stay, now)) is not None:
            place, number, transport = stay.pickup
            body["transfer"] = {
                "flight_number": number,
                "arrival_time": landing.isoformat(timespec="minutes"),
                "pickup_place": place,
                "passengers": 1,
                "luggage": 2,
                "transport": transport,
            }
        key = f"demo-day-{self.today.isoformat()}-{stay.email}"
        booking = await self.call("POST", "/reservations", json=body, key=key)
        if booking is None:
            return
        self.bookings[stay.email] = booking
        self.count("bookings")
        if stay.fate == "pending":
            return
        confirmed = await self.call("POST", f"/reservations/{booking['id']}/confirm")
        if confirmed is None:
            return
        self.bookings[stay.email] = confirmed
        if stay.arrives < 0:  # a past day's guest: a room now, the pickup's car and driver
            await self.assign_room(stay)
            if "transfer" in body:
                await self.dispatched(stay)

    async def assign_room(self, stay: Stay) -> None:
        booking = self.bookings.get(stay.email)
        if booking is None:
            return
        path = f"/reservations/{booking['id']}/assign-room"
        for _ in range(3):  # another guest of the type may take the suggested room: again
            if assigned := await self.call("POST", path, json={}):
                self.rooms[stay.email] = int(assigned["room_id"])
                return

    async def dispatched(self, stay: Stay) -> None:
        """Wait for transfer-service to give the pickup a car and driver while the clock is
        still on that day (it refuses a driver-on-site time already past)."""
        job = await self.transfer_of(stay, "assigned")
        if job is None:
            log.warning("demo day: no assigned pickup for %s", stay.email)
        else:
            self.transfers[stay.email] = str(job["id"])

    def reporter(self, report: str) -> Step:
        """The driver's report `report` (en-route, on-site, ...) on the guest's pickup."""

        async def step(stay: Stay) -> None:
            job = self.transfers.get(stay.email)
            if job is None:
                return
            if await self.call("POST", f"/transfers/{job}/{report}", json={}) is None:
                self.transfers.pop(stay.email)  # the later steps cannot follow
            elif report == "complete":
                self.count("transfers completed")

        return step

    def landing(self, stay: Stay, now: datetime) -> datetime | None:
        """When the guest lands: 12:00 on a past day; today, spread over the next hours
        (at least 75 minutes ahead, at the latest 05:30 the next morning)."""
        if stay.arrives < 0:
            return now.replace(hour=12, minute=0, second=0, microsecond=0)
        order = [s.email for s in TODAY if s.pickup is not None].index(stay.email)
        wanted = now + timedelta(minutes=100 + 75 * order)
        latest = datetime.combine(now.date() + timedelta(days=1), time(5, 30), ZONE)
        landing = min(wanted, latest).replace(second=0, microsecond=0)
        return landing if landing - now >= timedelta(minutes=75) else None

    async def transfer_of(self, stay: Stay, status: str | None = None) -> dict[str, Any] | None:
        booking = self.bookings.get(stay.email)
        if booking is None:
            return None

        async def probe() -> dict[str, Any] | None:
            jobs = await self.items("/transfers", {"reservation_id": booking["id"]})
            matching = [j for j in jobs if status is None or j.get("status") == status]
            return matching[0] if matching else None

        return await self.eventually(probe)

    async def check_in(self, stay: Stay) -> None:
        booking = self.bookings.get(stay.email)
        if booking is None or booking.get("status") != "confirmed":
            return
        body = {"id_verification": ID, "deposit": {"amount": 0, "method": "cash"}}
        if await self.call("POST", f"/reservations/{booking['id']}/check-in", json=body):
            self.count("checked in")

    async def check_out(self, stay: Stay) -> None:
        booking = self.bookings.get(stay.email)
        if booking is None:
            return
        base = f"/reservations/{booking['id']}"
        # Settle the bill first: the nights are charged at check-out, so pay what they come to.
        folio = await self.call("GET", f"{base}/folio")
        owed = int(booking.get("total_amount") or 0) + int((folio or {}).get("balance") or 0)
        if owed > 0:
            payment = {"amount": owed, "method": "card_terminal"}
            await self.call("POST", f"{base}/folio/payments", json=payment)
        done = await self.call("POST", f"{base}/check-out")
        if done is None:
            return
        self.count("checked out")
        # Housekeeping turns the room round before the day's arrivals.
        if stay.email in self.rooms:
            room = f"/rooms/{self.rooms[stay.email]}"
            await self.call("PATCH", room, json={"housekeeping_status": "clean"})

    async def cancel(self, stay: Stay) -> None:
        booking = self.bookings.get(stay.email)
        if booking and await self.call("POST", f"/reservations/{booking['id']}/cancel", json={}):
            self.count("cancelled")

    async def guest_id(self, email: str) -> str | None:
        async def probe() -> str | None:
            found = await self.items("/guests", {"email": email, "limit": 1})
            return str(found[0]["id"]) if found else None

        return await self.eventually(probe)

    async def complain(self) -> None:
        booking = self.bookings.get(COMPLAINED)
        guest = await self.guest_id(COMPLAINED)
        body: dict[str, Any] = {
            "guest_id": guest,
            "reservation_id": booking["id"] if booking else None,
            "channel": "front_desk",
            "category": "noise",
            "severity": "medium",
            "subject": "走廊夜里很吵 (noise in the corridor at night)",
            "description": "The guest heard a trolley and voices past midnight, two nights.",
            "demand": "A quieter room for the last night.",
        }
        if await self.call("POST", "/complaints", json=body, key=f"demo-day-{self.today}-c"):
            self.count("complaints")

    async def enrol(self, stay: Stay) -> None:
        guest = await self.guest_id(stay.email)
        if guest is None:
            return
        body = {"guest_id": guest, "waive_minimum": True}
        if await self.call("POST", "/loyalty/members", json=body):
            self.count("loyalty members")
