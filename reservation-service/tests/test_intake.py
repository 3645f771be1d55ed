"""Issue 17, intake: what a booking request carries, through the HTTP API. The party as OTAs
send it (adults, children's ages), typed special requests, the source, an OTA's own id (one
booking per channel, also under a race), book-now, the rate plan, several rooms under one
confirmation number (held all or none), the unpaid-hold cap, and any language tag."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hotel_common.db import drop_database
from hotel_common.events.envelope import Envelope
from hotel_common.events.memory import InMemoryBroker
from hotel_common.principal import ANONYMOUS, ApiScope, Kind, Principal, Role
from hotel_common.settings import DEV_INTERNAL_SECRET
from hotel_common.testing import Probe, assert_problem, principal_headers, running
from reservation_service.main import create_app

from .conftest import PG, Hotel, settings_for

ALL = {
    "reservation.created",
    "reservation.confirmed",
    "reservation.cancelled",
}
SCOPES = frozenset({ApiScope.RESERVATIONS_READ, ApiScope.RESERVATIONS_WRITE})
OTA = Principal(id="partner:ota1", kind=Kind.PARTNER, channel="ota_one", scopes=SCOPES)
OTA_OTHER_KEY = Principal(id="partner:ota1b", kind=Kind.PARTNER, channel="ota_one", scopes=SCOPES)
OTHER_OTA = Principal(id="partner:ota2", kind=Kind.PARTNER, channel="ota_two", scopes=SCOPES)
DESK = Principal(id="staff:desk", kind=Kind.STAFF, roles=frozenset({Role.FRONT_DESK}))


def as_(principal: Principal) -> dict[str, str]:
    return principal_headers(principal, DEV_INTERNAL_SECRET)


class Intake(Hotel):
    """The service with a probe on every booking event, and calls as any principal."""

    def __init__(self, client: httpx.AsyncClient, broker: InMemoryBroker) -> None:
        super().__init__(client, broker)
        self.all = Probe(broker, ALL)

    async def create(
        self, body: dict[str, Any], principal: Principal | None = None, **params: str
    ) -> httpx.Response:
        headers = as_(principal) if principal else {}
        return await self.client.post(
            "/api/v1/reservations", json=body, headers=headers, params=params
        )

    async def events(self, kind: str) -> list[Envelope]:
        await self.published()
        return [e for e in self.all.events() if e.type == kind]


async def _intake(url: str, broker: InMemoryBroker, **settings: Any) -> AsyncIterator[Intake]:
    config = settings_for(url).model_copy(update=settings)
    try:
        async with running(create_app(config, broker=broker)) as client:
            yield Intake(client, broker)
    finally:
        await drop_database(url)


@pytest.fixture
async def intake(sqlite_url: str, broker: InMemoryBroker) -> AsyncIterator[Intake]:
    async for service in _intake(sqlite_url, broker):
        yield service


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def intake_on_each_db(
    request: pytest.FixtureRequest, tmp_path: Path, broker: InMemoryBroker
) -> AsyncIterator[Intake]:
    url = (
        f"sqlite+aiosqlite:///{tmp_path}/x.db"
        if request.param == "sqlite"
        else f"{PG}/test_{uuid.uuid4().hex}"
    )
    async for service in _intake(url, broker):
        yield service


# -- the party -------------------------------------------------------------------------------------


async def test_adults_and_children_make_the_party_and_count_against_the_room(intake):
    body = intake.booking(guests=None, adults=2, children=[4, 9])
    del body["guests"]
    await intake.add_room_type("FAM", rooms=2, capacity=4)
    created = await intake.create(body | {"room_type_code": "FAM"})
    assert created.status_code == 201, created.text
    booking = created.json()
    assert (booking["adults"], booking["children"], booking["guests"]) == (2, [4, 9], 4)
    assert booking["lines"][0]["children"] == [4, 9]

    too_many = await intake.create(body | {"children": [4, 9, 12]} | {"room_type_code": "FAM"})
    assert_problem(too_many, 422, "too_many_guests")
    assert too_many.json()["errors"][0]["field"] == "body.guests"
    # KNG sleeps 2: two adults and a baby are three guests.
    assert_problem(await intake.create(body | {"children": [0]}), 422, "too_many_guests")


async def test_a_party_that_does_not_add_up_is_refused_by_name(intake):
    base = intake.booking()
    del base["guests"]
    cases = [
        (base | {"adults": 1, "guests": 2}, "guests_mismatch", "body.guests"),
        (base | {"children": [5]}, "adults_required", "body.adults"),
        (base, "guests_required", "body.guests"),
        (base | {"adults": 1, "children": [18]}, "validation_error", "body.children.0"),
        (base | {"adults": 0}, "validation_error", "body.adults"),
    ]
    for body, code, field in cases:
        response = await intake.create(body)
        assert_problem(response, 422, code)
        assert response.json()["errors"][0]["field"] == field, body
    # Consistent: guests with adults and children that add up.
    ok = await intake.create(base | {"adults": 1, "children": [3], "guests": 2})
    assert ok.status_code == 201, ok.text


async def test_todays_body_with_only_guests_books_them_all_as_adults(intake):
    booking = await intake.book(guests=2)
    assert (booking["guests"], booking["adults"], booking["children"]) == (2, 2, [])
    assert booking["room_count"] == 1 and len(booking["lines"]) == 1
    assert booking["lines"][0]["total_amount"] == booking["total_amount"]


# -- requests, source ------------------------------------------------------------------------------


async def test_special_requests_are_typed_and_kept_with_the_free_text(intake):
    requests = [
        {"code": "non_smoking"},
        {"code": "bed_type", "value": "king"},
        {"code": "high_floor"},
        {"code": "late_arrival"},
    ]
    booking = await intake.book(requests=requests, special_requests="Feather-free pillows")
    answered = [{"value": None} | r for r in requests]
    assert booking["requests"] == answered
    assert booking["special_requests"] == "Feather-free pillows"
    assert (await intake.reservation(booking["id"]))["requests"] == answered
    for bad in (
        [{"code": "bed_type"}],
        [{"code": "crib", "value": "king"}],
        [{"code": "bed_type", "value": "round"}],
        [{"code": "jacuzzi"}],
    ):
        assert_problem(await intake.create(intake.booking(requests=bad)), 422, "validation_error")


async def test_every_booking_has_a_source_and_only_the_desk_chooses_it(intake):
    assert (await intake.create(intake.booking(), ANONYMOUS)).json()["source"] == "web"
    assert (await intake.create(intake.booking(), DESK)).json()["source"] == "walk_in"
    by_phone = await intake.create(intake.booking(source="phone"), DESK)
    assert (by_phone.json()["source"], by_phone.json()["channel"]) == ("phone", "front_desk")
    assert (await intake.create(intake.booking(), OTA)).json()["source"] == "ota"
    for principal, source in [(ANONYMOUS, "phone"), (OTA, "walk_in"), (DESK, "ota")]:
        refused = await intake.create(intake.booking(source=source), principal)
        assert_problem(refused, 422, "source_not_allowed")
    [created, *_] = await intake.events("reservation.created")
    assert created.payload["source"] == "web"


async def test_a_rate_plan_is_named_by_code(intake):
    booking = await intake.book(rate_plan_code="base")
    assert booking["rate_plan_code"] == "BASE"
    bad = await intake.create(intake.booking(rate_plan_code="no spaces"))
    assert_problem(bad, 422, "validation_error")


async def test_a_german_speaking_guest_books_and_the_notice_falls_back(intake):
    body = intake.booking()
    body["guest"] = body["guest"] | {"language": "de"}
    booking = (await intake.create(body)).json()
    assert booking["guest"]["language"] == "de"
    await intake.confirm(booking["id"])
    [confirmed] = await intake.events("reservation.confirmed")
    assert confirmed.payload["guest"]["language"] == "de"
    rendering = pytest.importorskip("notification_service.rendering")
    assert rendering.resolve_language("de") == "en"  # no German templates: English
    assert rendering.resolve_language("de-AT") == "en"


# -- an OTA's own id -------------------------------------------------------------------------------


async def test_an_external_id_names_one_booking_per_channel(intake):
    body = intake.booking(external_id="BKG-1001")
    first = await intake.create(body, OTA)
    assert first.status_code == 201, first.text
    again = await intake.create(body | {"guests": 1}, OTA)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["external_id"] == "BKG-1001"
    assert again.headers["Location"].endswith(first.json()["id"])
    assert again.json()["access_token"]
    # Another channel's id space is its own.
    elsewhere = await intake.create(body, OTHER_OTA)
    assert elsewhere.status_code == 201 and elsewhere.json()["id"] != first.json()["id"]
    # Another key of the same channel does not get to see the first booking.
    assert_problem(await intake.create(body, OTA_OTHER_KEY), 409, "external_id_taken")
    # Only a channel's own system sends one.
    for principal in (ANONYMOUS, DESK):
        refused = await intake.create(body, principal)
        assert_problem(refused, 422, "external_id_not_allowed")
    created = await intake.events("reservation.created")
    assert [e.payload["external_id"] for e in created] == ["BKG-1001", "BKG-1001"]


async def test_racing_creates_with_one_external_id_make_one_booking(intake_on_each_db):
    intake = intake_on_each_db
    body = intake.booking(external_id="RACE-7")
    answers = await asyncio.gather(*(intake.create(body, OTA) for _ in range(8)))
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    made = [r for r in await intake.reservations() if r["external_id"] == "RACE-7"]
    assert len(made) == 1
    assert len(await intake.events("reservation.created")) == 1


# -- book now --------------------------------------------------------------------------------------


async def test_book_now_creates_and_confirms_in_one_call(intake):
    await intake.add_room_type("ONE", rooms=1)
    before = await intake.available("ONE")
    created = await intake.create(intake.booking(room_type_code="ONE"), OTA, confirm="true")
    assert created.status_code == 201, created.text
    booking = created.json()
    assert booking["status"] == "confirmed" and booking["expires_at"] is None
    assert await intake.available("ONE") == before - 1
    assert [e.payload["reservation_id"] for e in await intake.events("reservation.confirmed")] == [
        booking["id"]
    ]
    history = await intake.client.get(f"/api/v1/reservations/{booking['id']}/history")
    assert [h["action"] for h in history.json()] == ["created", "confirmed"]

    # Sold out: nothing at all is written, not even a request.
    full = await intake.create(intake.booking(room_type_code="ONE"), OTA, confirm="true")
    assert_problem(full, 409, "no_availability")
    assert "nothing was booked" in full.json()["detail"]
    assert [r["id"] for r in await intake.reservations()] == [booking["id"]]
    assert len(await intake.events("reservation.created")) == 1

    # A book-now retried with its external id returns the booking, still confirmed.
    body = intake.booking(external_id="NOW-1")
    now = await intake.create(body, OTA, confirm="true")
    again = await intake.create(body, OTA, confirm="true")
    assert (again.status_code, again.json()["id"]) == (200, now.json()["id"])
    assert again.json()["status"] == "confirmed"


async def test_a_requested_booking_says_when_it_expires(intake):
    booking = await intake.book()
    assert booking["status"] == "requested" and booking["expires_at"]


# -- several rooms ---------------------------------------------------------------------------------


def family(hotel: Hotel, *rooms: dict[str, Any], **more: Any) -> dict[str, Any]:
    body = hotel.booking(rooms=list(rooms))
    for single in ("room_type_code", "guests"):
        del body[single]
    return body | more


async def test_several_rooms_share_one_confirmation_number_and_are_priced_per_room(intake):
    await intake.add_room_type("FAM", rooms=2, capacity=4)
    body = family(
        intake,
        {"room_type_code": "FAM", "adults": 2, "children": [6, 10]},
        {"room_type_code": "kng", "adults": 2, "rate_plan_code": "BASE"},
        {"room_type_code": "KNG", "adults": 1},
    )
    created = await intake.create(body)
    assert created.status_code == 201, created.text
    booking = created.json()
    lines = booking["lines"]
    assert booking["room_count"] == 3
    assert [(line["line"], line["room_type_code"], line["guests"]) for line in lines] == [
        (1, "FAM", 4),
        (2, "KNG", 2),
        (3, "KNG", 1),
    ]
    assert booking["total_amount"] == sum(line["total_amount"] for line in lines)
    assert booking["tax_amount"] == sum(line["tax_amount"] for line in lines)
    # Top-level fields are line 1's.
    assert (booking["room_type_code"], booking["guests"], booking["children"]) == (
        "FAM",
        4,
        [6, 10],
    )
    assert booking["nightly_amounts"] == lines[0]["nightly_amounts"]
    assert (await intake.reservation(booking["id"]))["lines"] == lines
    [listed] = [r for r in await intake.reservations() if r["id"] == booking["id"]]
    assert listed["lines"] == lines
    [event] = await intake.events("reservation.created")
    assert [line["room_type_code"] for line in event.payload["lines"]] == ["FAM", "KNG", "KNG"]


async def test_rooms_are_checked_one_by_one(intake):
    one = {"room_type_code": "KNG", "adults": 1}
    cases = [
        (family(intake, one, {"room_type_code": "KNG", "adults": 3}), 422, "too_many_guests"),
        (family(intake, one, {"room_type_code": "NOPE", "adults": 1}), 422, "unknown_room_type"),
        (family(intake, one, one, guests=2), 422, "rooms_conflict"),
        (family(intake, one, one, room_type_code="KNG"), 422, "rooms_conflict"),
        (family(intake, *[one] * 10), 422, "validation_error"),
    ]
    fields = [
        "body.rooms.1.adults",
        "body.rooms.1.room_type_code",
        "body.guests",
        "body.room_type_code",
        "body.rooms",
    ]
    for (body, status, code), field in zip(cases, fields, strict=True):
        response = await intake.create(body)
        assert_problem(response, status, code)
        assert response.json()["errors"][0]["field"] == field
    # A transfer carries at most the guests of every room (two here).
    arrival = f"{intake.stay[0]}T10:00:00+08:00"
    for passengers, status in [(3, 422), (2, 201)]:
        transfer = {"arrival_time": arrival, "pickup_place": "Airport", "passengers": passengers}
        response = await intake.create(family(intake, one, one, transfer=transfer))
        assert response.status_code == status, response.text
        if status == 422:
            assert_problem(response, 422, "too_many_passengers")


async def test_confirming_several_rooms_holds_every_room_or_none(intake_on_each_db):
    intake = intake_on_each_db
    await intake.add_room_type("AAA", rooms=2)
    await intake.add_room_type("BBB", rooms=1)
    two = family(
        intake, {"room_type_code": "AAA", "adults": 2}, {"room_type_code": "BBB", "adults": 1}
    )
    first = await intake.create(two)
    second = await intake.create(two)
    ids = first.json()["id"], second.json()["id"]

    confirmed = await intake.confirm(ids[0])
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert (await intake.available("AAA"), await intake.available("BBB")) == (1, 0)

    # BBB is full: the AAA room the second booking would take stays free, it stays requested.
    refused = await intake.confirm(ids[1])
    assert_problem(refused, 409, "no_availability")
    assert "BBB" in refused.json()["detail"]
    assert (await intake.available("AAA"), await intake.available("BBB")) == (1, 0)
    assert (await intake.reservation(ids[1]))["status"] == "requested"

    # Two rooms of one type on the last one: none.
    pair = family(
        intake, {"room_type_code": "AAA", "adults": 1}, {"room_type_code": "AAA", "adults": 1}
    )
    assert_problem(await intake.create(pair, confirm="true"), 409, "no_availability")
    assert await intake.available("AAA") == 1

    cancelled = await intake.cancel(ids[0])
    assert cancelled.json()["status"] == "cancelled"
    assert (await intake.available("AAA"), await intake.available("BBB")) == (2, 1)
    now = await intake.confirm(ids[1])
    assert now.json()["status"] == "confirmed"
    assert (await intake.available("AAA"), await intake.available("BBB")) == (1, 0)

    [c1, _] = await intake.events("reservation.confirmed")
    assert [line["room_type_code"] for line in c1.payload["lines"]] == ["AAA", "BBB"]
    [cancel] = await intake.events("reservation.cancelled")
    assert len(cancel.payload["lines"]) == 2


async def test_racing_confirmations_of_several_rooms_never_oversell(intake_on_each_db):
    intake = intake_on_each_db
    await intake.add_room_type("AAA", rooms=3)
    await intake.add_room_type("BBB", rooms=3)
    # Lines in both orders: the holds take their locks in one order (no deadlock).
    orders = [("AAA", "BBB"), ("BBB", "AAA")]
    ids = []
    for i in range(6):
        a, b = orders[i % 2]
        body = family(
            intake, {"room_type_code": a, "adults": 1}, {"room_type_code": b, "adults": 1}
        )
        ids.append((await intake.create(body)).json()["id"])
    answers = await asyncio.gather(*(intake.confirm(i) for i in ids))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 3 + [409] * 3, [a.text for a in answers]
    assert (await intake.available("AAA"), await intake.available("BBB")) == (0, 0)


async def test_a_single_room_booking_announces_no_lines(intake):
    booking = await intake.book()
    await intake.confirm(booking["id"])
    await intake.cancel(booking["id"])
    for kind in ALL:
        [event] = await intake.events(kind)
        assert "lines" not in event.payload, kind


# -- unpaid-hold cap -------------------------------------------------------------------------------


@pytest.fixture
async def capped(sqlite_url: str, broker: InMemoryBroker) -> AsyncIterator[Intake]:
    caps = {"max_unpaid_holds_per_channel": 2, "unpaid_hold_caps": {"ota_two": 0}}
    async for service in _intake(sqlite_url, broker, **caps):
        yield service


async def test_a_channel_confirms_no_more_than_its_unpaid_hold_cap(capped):
    hotel = capped
    await hotel.add_room_type("BIG", rooms=20)

    async def book() -> str:
        response = await hotel.create(hotel.booking(room_type_code="BIG"), OTA)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def confirm(reservation_id: str) -> httpx.Response:
        return await hotel.client.post(
            f"/api/v1/reservations/{reservation_id}/confirm", headers=as_(OTA)
        )

    a = await book()
    assert (await confirm(a)).status_code == 200  # confirmed, no guarantee: not unpaid
    b, c = await book(), await book()
    assert (await confirm(b)).status_code == 200  # c requested + b = 2
    d, e = await book(), await book()
    assert_problem(await confirm(d), 409, "hold_cap_reached")  # c, e requested + d = 3
    assert (await hotel.reservation(d))["status"] == "requested"
    assert_problem(
        await hotel.create(hotel.booking(room_type_code="BIG"), OTA, confirm="true"),
        409,
        "hold_cap_reached",
    )
    # Another channel has its own count (here: no cap at all).
    for _ in range(4):
        now = await hotel.create(hotel.booking(room_type_code="BIG"), OTHER_OTA, confirm="true")
        assert now.status_code == 201, now.text
    # The hotel's own channels are not capped unless named: a web guest still books.
    for _ in range(4):
        web = await hotel.create(hotel.booking(room_type_code="BIG"), ANONYMOUS, confirm="true")
        assert web.status_code == 201, web.text
    # Cancelling one request makes room.
    await hotel.client.post(f"/api/v1/reservations/{e}/cancel", headers=as_(OTA))
    assert (await confirm(d)).status_code == 200
    assert c  # still requested, still counted


async def test_a_booking_of_several_rooms_changes_only_its_pickup_by_patch(intake):
    body = family(
        intake, {"room_type_code": "KNG", "adults": 2}, {"room_type_code": "STD", "adults": 1}
    )
    created = await intake.create(body)
    assert created.status_code == 201, created.text
    booking = created.json()
    later = (date.fromisoformat(booking["check_out"]) + timedelta(days=1)).isoformat()

    moved = await intake.client.patch(
        f"/api/v1/reservations/{booking['id']}", json={"check_out": later}
    )

    assert_problem(moved, 409, "multi_room_not_modifiable")
    assert (await intake.reservation(booking["id"]))["check_out"] == booking["check_out"]
