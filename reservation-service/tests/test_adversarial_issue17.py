"""Adversarial review (issue 17): races and hostile input at reservation-service's public API.

Each test states what the API should answer to a hostile, careless or unlucky client; races run
on SQLite and on PostgreSQL."""

import asyncio
from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hotel_common.migrations import COMMON_OWNER, owned_tables
from hotel_common.testing import eventually
from hotel_common.time import utcnow
from reservation_service import lifecycle, pricing, workers
from reservation_service.config import Settings
from reservation_service.models import InventoryNight, Reservation, Room
from reservation_service.stays import nights
from sqlalchemy import func
from sqlmodel import select

from . import changes_support
from .changes_support import Desk
from .conftest import hotel_today
from .test_intake import OTA, OTA_OTHER_KEY, as_

desk = changes_support.desk
desk_on_each_db = changes_support.desk_on_each_db

SETTINGS = Settings()
ID = {"document_type": "passport", "issuing_country": "CN", "last4": "1234", "attested": True}
INT32 = 2**31


async def _status(desk: Desk, method: str, url: str, **kwargs: Any) -> int:
    """The answer's status; an exception escaping the app is the 500 a client would get."""
    try:
        response = await desk.hotel.client.request(method, url, **kwargs)
    except Exception:
        return 500
    if response.status_code >= 500 or response.status_code < 400:
        return response.status_code
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return response.status_code


async def held_equals_stays(desk: Desk) -> None:
    """Every night's held count is the rooms of the live (confirmed or checked-in) stays that
    night, and never more than the room type's rooms."""
    async with desk.sessions() as session:
        rows = (await session.exec(select(InventoryNight))).all()
        rooms = Counter((await session.exec(select(Room.room_type_id))).all())
        live = (
            await session.exec(
                select(Reservation).where(
                    Reservation.status.in_(("confirmed", "checked_in"))  # type: ignore[attr-defined]
                )
            )
        ).all()
    held = {(n.room_type_id, n.night): n.held for n in rows if n.held}
    expected = Counter(
        (r.room_type_id, night) for r in live for night in nights(r.check_in, r.check_out)
    )
    assert held == dict(expected)
    assert all(count <= rooms[t] for (t, _), count in held.items()), held


async def history_without_gaps(desk: Desk, reservation_id: str) -> list[dict[str, Any]]:
    lines = await desk.history(reservation_id)
    assert [h["version"] for h in lines] == list(range(1, len(lines) + 1)), lines
    events = [e for e in await desk.events() if e.payload.get("reservation_id") == reservation_id]
    versions = sorted(e.aggregate_version for e in events)
    assert len(versions) == len(set(versions)), versions
    return lines


# -- races on one booking --------------------------------------------------------------------------


async def test_confirm_and_cancel_of_one_request_at_once(desk_on_each_db: Desk) -> None:
    desk = desk_on_each_db
    hotel = desk.hotel
    await hotel.add_room_type("CC", rooms=1)
    for _ in range(4):
        request = await hotel.book(room_type_code="CC")
        answers = await asyncio.gather(hotel.confirm(request["id"]), hotel.cancel(request["id"]))
        assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
        assert (await hotel.reservation(request["id"]))["status"] == "cancelled"
        await history_without_gaps(desk, request["id"])
    await held_equals_stays(desk)
    assert await hotel.available("CC") == 1


async def test_confirm_racing_the_expiry_pass(desk_on_each_db: Desk) -> None:
    desk = desk_on_each_db
    hotel = desk.hotel
    await hotel.add_room_type("EX", rooms=3)
    later = utcnow() + timedelta(hours=SETTINGS.request_expiry_hours, minutes=1)
    requests = [await hotel.book(room_type_code="EX") for _ in range(3)]
    answers = await asyncio.gather(
        workers.expire_requests(desk.sessions, later),
        *(hotel.confirm(r["id"]) for r in requests),
    )
    for r, answer in zip(requests, answers[1:], strict=True):
        status = (await hotel.reservation(r["id"]))["status"]
        assert status in ("confirmed", "expired")
        assert (answer.status_code == 200) == (status == "confirmed"), answer.text
        await history_without_gaps(desk, r["id"])
    await held_equals_stays(desk)


async def test_patch_racing_check_in(desk_on_each_db: Desk) -> None:
    desk = desk_on_each_db
    hotel = desk.hotel
    today = hotel_today()
    stay = {"check_in": today.isoformat(), "check_out": (today + timedelta(days=2)).isoformat()}
    booking = await desk.booked(**stay)
    rid = booking["id"]
    assigned = await hotel.client.post(f"/api/v1/reservations/{rid}/assign-room")
    assert assigned.status_code == 200, assigned.text
    longer = {"check_out": (today + timedelta(days=4)).isoformat()}
    patched, checked_in = await asyncio.gather(
        desk.patch(rid, longer),
        hotel.client.post(f"/api/v1/reservations/{rid}/check-in", json={"id_verification": ID}),
    )
    assert patched.status_code in (200, 409), patched.text
    assert checked_in.status_code in (200, 409), checked_in.text
    now = await hotel.reservation(rid)
    if now["status"] == "checked_in":
        # A checked-in guest has a room for every night of the stay.
        room = await hotel.client.get(f"/api/v1/reservations/{rid}/room-suggestions")
        assert room.status_code in (200, 409)
    await held_equals_stays(desk)
    await history_without_gaps(desk, rid)


# -- money -----------------------------------------------------------------------------------------


async def test_prepayments_beyond_a_32_bit_amount_do_not_break_the_cancellation(
    desk_on_each_db: Desk,
) -> None:
    """Each prepayment is within bounds (1e8), but their sum is not: the folio must refuse the
    payment that takes it past what a stored amount holds (or what the booking could ever
    cost), never accept it and then answer the cancellation with a 500."""
    desk = desk_on_each_db
    hotel = desk.hotel
    booking = await desk.booked()
    rid = booking["id"]
    answers = []
    for _ in range(22):  # 22 x 1e8 > 2**31 - 1
        answers.append(
            await _status(
                desk,
                "POST",
                f"/api/v1/reservations/{rid}/folio/payments",
                json={"amount": 100_000_000, "method": "cash"},
            )
        )
    assert set(answers) <= {201, 409, 422}, answers
    cancelled = await _status(desk, "POST", f"/api/v1/reservations/{rid}/cancel")
    assert cancelled == 200
    after = await hotel.reservation(rid)
    assert after["status"] == "cancelled"
    assert 0 <= after["refund_amount"] < INT32


async def test_check_in_needs_the_id_attested(desk: Desk) -> None:
    hotel = desk.hotel
    today = hotel_today()
    booking = await desk.booked(
        check_in=today.isoformat(), check_out=(today + timedelta(days=1)).isoformat()
    )
    rid = booking["id"]
    assert (await hotel.client.post(f"/api/v1/reservations/{rid}/assign-room")).status_code == 200
    refused = await hotel.client.post(
        f"/api/v1/reservations/{rid}/check-in",
        json={"id_verification": {**ID, "attested": False}},
    )
    assert refused.status_code in (409, 422), refused.text
    assert (await hotel.reservation(rid))["status"] == "confirmed"


# -- hostile input ---------------------------------------------------------------------------------


async def test_out_of_order_periods_at_the_ends_of_the_calendar(desk_on_each_db: Desk) -> None:
    desk = desk_on_each_db
    hotel = desk.hotel
    rooms = await hotel.client.get("/api/v1/rooms", params={"limit": 1})
    room_id = rooms.json()["items"][0]["id"]
    answers = {}
    for first, last in [
        ("0001-01-01", "9999-12-31"),
        (hotel_today().isoformat(), "9999-12-31"),
        ("9999-12-30", "9999-12-31"),
    ]:
        answers[(first, last)] = await _status(
            desk,
            "POST",
            "/api/v1/out-of-order-periods",
            json={"room_id": room_id, "from_date": first, "to_date": last, "reason": "x"},
        )
    assert all(s in (201, 422) for s in answers.values()), answers
    for url, params in [
        ("/api/v1/availability", {"check_in": hotel.stay[0], "check_out": hotel.stay[1]}),
        ("/api/v1/ari", {"from": hotel.stay[0], "to": hotel.stay[1]}),
        ("/api/v1/ari", {"from": "9999-12-01", "to": "9999-12-31"}),
        ("/api/v1/availability", {"check_in": "9999-12-30", "check_out": "9999-12-31"}),
        ("/api/v1/analytics/occupancy", {"from": "9999-12-01", "to": "9999-12-31"}),
        ("/api/v1/analytics/occupancy", {"from": "0001-01-01", "to": "0001-01-31"}),
        ("/api/v1/analytics/pickup", {"from": "9999-12-01", "to": "9999-12-31"}),
        ("/api/v1/analytics/day", {"date": "9999-12-31"}),
        ("/api/v1/analytics/stay-patterns", {"from": "9999-12-01", "to": "9999-12-31"}),
    ]:
        status = await _status(desk, "GET", url, params=params)
        assert status in (200, 400, 404, 422), (url, params, status)


async def test_quotes_at_the_ends_of_the_calendar_are_4xx(desk: Desk) -> None:
    for first, last in [
        ("9999-12-30", "9999-12-31"),
        ("0001-01-01", "0001-01-02"),
        ("2026-01-01", "9999-12-31"),
    ]:
        body = {"room_type_code": "KNG", "check_in": first, "check_out": last, "guests": 1}
        status = await _status(desk, "POST", "/api/v1/quotes", json=body)
        assert 400 <= status < 500, (first, last, status)
        booking = desk.hotel.booking(check_in=first, check_out=last)
        status = await _status(desk, "POST", "/api/v1/reservations", json=booking)
        assert 400 <= status < 500, (first, last, status)


async def test_a_quote_writes_nothing(desk_on_each_db: Desk) -> None:
    desk = desk_on_each_db
    hotel = desk.hotel
    await hotel.add_room_type("QQ", rooms=1)

    async def counts() -> dict[str, int]:
        found = {}
        async with desk.sessions() as session:
            # This service's tables and the shared ones (other services' models may be loaded
            # in the same test process: their tables are not in this database).
            for table in [*owned_tables("reservation_service"), *owned_tables(COMMON_OWNER)]:
                n = (await session.exec(select(func.count()).select_from(table))).one()
                found[table.name] = n
        return found

    # Issue 21: the new room type's availability.changed is published first (its worker's
    # writes are not the quote's).
    await eventually(counts, lambda found: found["ari_changes"] == 0)
    before = await counts()
    for code in ("QQ", "KNG"):
        body = {"room_type_code": code, "check_in": hotel.stay[0], "check_out": hotel.stay[1]}
        answer = await hotel.client.post("/api/v1/quotes", json=body | {"guests": 1})
        assert answer.status_code == 200, answer.text
    search = await hotel.client.get(
        "/api/v1/availability", params={"check_in": hotel.stay[0], "check_out": hotel.stay[1]}
    )
    assert search.status_code == 200
    assert await counts() == before


# -- several rooms in the sweeps -------------------------------------------------------------------


def _family(desk: Desk, **stay: str) -> dict[str, Any]:
    body = desk.hotel.booking(
        rooms=[
            {"room_type_code": "FAM", "adults": 2},
            {"room_type_code": "KNG", "adults": 2},
            {"room_type_code": "KNG", "adults": 1},
        ],
        **stay,
    )
    del body["room_type_code"], body["guests"]
    return body


async def _held(desk: Desk) -> dict[tuple[int, Any], int]:
    async with desk.sessions() as session:
        rows = (await session.exec(select(InventoryNight))).all()
    return {(n.room_type_id, n.night): n.held for n in rows if n.held}


async def test_a_no_show_of_several_rooms_releases_every_room(desk_on_each_db: Desk) -> None:
    desk = desk_on_each_db
    hotel = desk.hotel
    await hotel.add_room_type("FAM", rooms=2, capacity=4)
    today = hotel_today()
    stay = {"check_in": today.isoformat(), "check_out": (today + timedelta(days=3)).isoformat()}
    created = await hotel.client.post("/api/v1/reservations", json=_family(desk, **stay))
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    assert (await hotel.confirm(rid)).status_code == 200
    held_before = await _held(desk)
    assert sum(held_before.values()) == 9  # 3 rooms x 3 nights

    tomorrow_cutoff = datetime.combine(
        today + timedelta(days=1),
        time(SETTINGS.no_show_cutoff_hour, 1),
        ZoneInfo("Asia/Shanghai"),
    )
    assert await workers.mark_no_shows(desk.sessions, SETTINGS, tomorrow_cutoff) == 1
    assert (await hotel.reservation(rid))["status"] == "no_show"
    # The first night stays held for every room (it was kept for the guests); the rest is free.
    held = await _held(desk)
    assert sorted(held.values()) == [1, 2], held  # FAM 1 and KNG 2, on the first night only
    assert {night for _, night in held} == {today}


async def test_a_guarantee_expiry_of_several_rooms_releases_every_room(
    desk_on_each_db: Desk, monkeypatch: Any
) -> None:
    desk = desk_on_each_db
    hotel = desk.hotel
    changes_support.plan_terms(
        monkeypatch, guarantee=pricing.Guarantee(kind="deposit", deposit_percent=30, due_hours=2)
    )
    await hotel.add_room_type("FAM", rooms=2, capacity=4)
    created = await hotel.client.post("/api/v1/reservations", json=_family(desk))
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    confirmed = await hotel.confirm(rid)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["guarantee_due_at"] is not None
    later = utcnow() + timedelta(hours=3)
    assert await workers.cancel_unguaranteed(desk.sessions, later) == 1
    assert (await hotel.reservation(rid))["status"] == "cancelled"
    assert await _held(desk) == {}
    [event] = await desk.events("reservation.cancelled")
    assert event.payload.get("lines") and len(event.payload["lines"]) == 3


# -- intake ----------------------------------------------------------------------------------------


async def test_book_now_retried_with_its_key_after_a_crash(
    desk_on_each_db: Desk, monkeypatch: Any
) -> None:
    """A book-now that failed with a 500 half-way (after the insert, in the confirmation) wrote
    nothing and stored no answer: the retry with the same Idempotency-Key books and confirms."""
    desk = desk_on_each_db
    hotel = desk.hotel
    await hotel.add_room_type("NOW", rooms=1)
    confirm = lifecycle.confirm
    crashes = [1]

    async def crashing(*args: Any, **kwargs: Any) -> Any:
        booking = await confirm(*args, **kwargs)
        if crashes:
            crashes.pop()
            raise RuntimeError("the process died here")
        return booking

    monkeypatch.setattr(lifecycle, "confirm", crashing)
    body = hotel.booking(room_type_code="NOW", external_id="CRASH-1")
    headers = as_(OTA) | {"Idempotency-Key": "book-now-crash-1"}
    url = "/api/v1/reservations?confirm=true"
    try:
        first = await hotel.client.post(url, json=body, headers=headers)
        assert first.status_code == 500
    except Exception:
        pass
    assert await _held(desk) == {}
    again = await hotel.client.post(url, json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.json()["status"] == "confirmed"
    assert await hotel.available("NOW") == 0
    created = [e for e in await desk.events() if e.type == "reservation.created"]
    assert len(created) == 1


async def test_one_external_id_from_two_keys_of_a_channel_at_once(desk_on_each_db: Desk) -> None:
    desk = desk_on_each_db
    hotel = desk.hotel
    body = hotel.booking(external_id="SHARED-9")
    answers = await asyncio.gather(
        *(
            hotel.client.post("/api/v1/reservations", json=body, headers=as_(p))
            for p in (OTA, OTA_OTHER_KEY) * 4
        )
    )
    codes = Counter(a.status_code for a in answers)
    assert codes[201] == 1 and set(codes) <= {200, 201, 409}, [a.text for a in answers]
    ids = {a.json()["id"] for a in answers if a.status_code in (200, 201)}
    assert len(ids) == 1
    for a in answers:
        if a.status_code == 409:
            assert a.json()["code"] == "external_id_taken"


async def test_a_modification_honours_the_restrictions_like_a_booking(desk: Desk) -> None:
    hotel = desk.hotel
    booking = await desk.booked(**desk.days(0, 3))
    plan = await hotel.client.post(
        "/api/v1/rate-plans", json={"room_type_code": "KNG", "code": "BASE", "name": "Base"}
    )
    assert plan.status_code == 201, plan.text
    new_arrival = desk.days(1, 4)
    night = {"start": new_arrival["check_in"], "end": desk.days(2, 3)["check_in"]}
    pushed = await hotel.client.put(
        f"/api/v1/rate-plans/{plan.json()['id']}/restrictions",
        json={"ranges": [night | {"closed_to_arrival": True, "min_stay": 5}]},
    )
    assert pushed.status_code == 200, pushed.text
    quoted = await hotel.client.post(
        "/api/v1/quotes", json={"room_type_code": "KNG", "guests": 2, **new_arrival}
    )
    assert quoted.status_code == 409, quoted.text
    moved = await desk.patch(booking["id"], new_arrival)
    assert moved.status_code == 409 and moved.json()["code"] == "stay_restricted", moved.text
    await held_equals_stays(desk)


# -- the folio under concurrency -------------------------------------------------------------------


async def test_concurrent_charges_payments_and_check_out(desk_on_each_db: Desk) -> None:
    desk = desk_on_each_db
    hotel = desk.hotel
    today = hotel_today()
    booking = await desk.booked(
        check_in=today.isoformat(), check_out=(today + timedelta(days=1)).isoformat()
    )
    rid = booking["id"]
    assert (await hotel.client.post(f"/api/v1/reservations/{rid}/assign-room")).status_code == 200
    checked = await hotel.client.post(
        f"/api/v1/reservations/{rid}/check-in",
        json={"id_verification": ID, "deposit": {"amount": 0, "method": "cash"}},
    )
    assert checked.status_code == 200, checked.text
    base = f"/api/v1/reservations/{rid}/folio"
    calls = [
        *(
            hotel.client.post(f"{base}/charges", json={"category": "minibar", "amount": 700})
            for _ in range(6)
        ),
        *(
            hotel.client.post(f"{base}/payments", json={"amount": 500, "method": "cash"})
            for _ in range(6)
        ),
    ]
    answers = await asyncio.gather(*calls)
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    folio = (await hotel.client.get(base)).json()
    assert folio["balance"] == sum(x["amount"] for x in folio["lines"])
    assert folio["balance"] == 6 * 700 - 6 * 500
    out = await hotel.client.post(f"/api/v1/reservations/{rid}/check-out")
    assert out.status_code == 409 and out.json()["code"] == "folio_unsettled", out.text
    owed = out.json().get("balance") or out.json().get("balance_amount")
    assert owed, out.json()
    paid, out = await asyncio.gather(
        hotel.client.post(f"{base}/payments", json={"amount": owed, "method": "cash"}),
        hotel.client.post(f"/api/v1/reservations/{rid}/check-out"),
    )
    assert paid.status_code == 201, paid.text
    assert out.status_code in (200, 409), out.text
    folio = (await hotel.client.get(base)).json()
    assert folio["balance"] == sum(x["amount"] for x in folio["lines"])
    if out.status_code == 200:
        assert folio["balance"] == 0


async def test_a_pickup_change_of_several_rooms_keeps_them_in_the_answer(desk: Desk) -> None:
    hotel = desk.hotel
    await hotel.add_room_type("FAM", rooms=2, capacity=4)
    created = await hotel.client.post("/api/v1/reservations", json=_family(desk))
    assert created.status_code == 201, created.text
    booking = created.json()
    transfer = {"arrival_time": f"{hotel.stay[0]}T18:30:00+08:00", "pickup_place": "Pudong T2"}
    answer = await desk.patch(booking["id"], {"transfer": transfer})
    assert answer.status_code == 200, answer.text
    assert answer.json()["room_count"] == 3
    assert answer.json()["lines"] == booking["lines"]
    assert answer.json()["total_amount"] == booking["total_amount"]


async def test_hostile_bodies_are_clean_4xx_and_write_nothing(desk_on_each_db: Desk) -> None:
    desk = desk_on_each_db
    hotel = desk.hotel
    booking = await desk.booked()
    rid = booking["id"]
    nul = "a\x00b"
    cases: list[tuple[str, str, Any]] = [
        ("POST", "/api/v1/reservations", hotel.booking(guest={"name": nul, "email": "a@b.co"})),
        ("POST", "/api/v1/reservations", hotel.booking(special_requests=nul)),
        ("POST", "/api/v1/reservations", hotel.booking(children=[-1], adults=1, guests=None)),
        ("POST", "/api/v1/reservations", hotel.booking(children=[True], adults=1, guests=None)),
        ("POST", "/api/v1/reservations", hotel.booking(guests=INT32)),
        ("POST", "/api/v1/reservations", hotel.booking(rooms=[{"room_type_code": "KNG"}] * 5000)),
        ("POST", "/api/v1/reservations", hotel.booking(requests=[{"code": "crib"}] * 5000)),
        (
            "POST",
            "/api/v1/reservations",
            hotel.booking(guest={"name": "x", "email": "a@b.co", "language": nul}),
        ),
        ("POST", "/api/v1/reservations", hotel.booking(room_type_code=nul)),
        ("POST", "/api/v1/reservations", hotel.booking(rate_plan_code="X" * 10_000)),
        ("POST", "/api/v1/reservations", hotel.booking(check_in="2026-02-30")),
        ("POST", "/api/v1/reservations", [1, 2, 3]),
        ("POST", f"/api/v1/reservations/{rid}/cancel", {"reason": nul}),
        ("PATCH", f"/api/v1/reservations/{rid}", {"guests": INT32}),
        ("PATCH", f"/api/v1/reservations/{rid}", {"rate_plan_code": nul}),
        ("PATCH", f"/api/v1/reservations/{rid}", {"room_type_code": "ZZZ"}),
        ("PATCH", f"/api/v1/reservations/{rid}", {"check_out": "9999-12-31"}),
        ("PATCH", f"/api/v1/reservations/{rid}", {"check_in": "0001-01-01"}),
        ("PATCH", f"/api/v1/reservations/{rid}", {"rate_plan_code": "NOPE"}),
        ("PATCH", f"/api/v1/reservations/{rid}", {"status": "checked_in"}),
        ("PATCH", f"/api/v1/reservations/{rid}", {"total_amount": 1}),
        ("POST", f"/api/v1/reservations/{rid}/assign-room", {"room_id": INT32}),
        ("POST", f"/api/v1/reservations/{rid}/assign-room", {"room_id": -1}),
        ("POST", f"/api/v1/reservations/{rid}/assign-room", {"vip_level": 99}),
        (
            "POST",
            f"/api/v1/reservations/{rid}/folio/payments",
            {"amount": 100, "method": "cash", "currency": nul},
        ),
        (
            "POST",
            f"/api/v1/reservations/{rid}/folio/payments",
            {"amount": 100, "method": "cash", "provider": nul},
        ),
        (
            "POST",
            f"/api/v1/reservations/{rid}/folio/payments",
            {"amount": 100, "method": "cash", "reference": nul},
        ),
        ("POST", f"/api/v1/reservations/{rid}/folio/payments", {"amount": 1.5, "method": "cash"}),
        (
            "POST",
            "/api/v1/quotes",
            {
                "room_type_code": "KNG",
                "check_in": hotel.stay[0],
                "check_out": hotel.stay[1],
                "guests": INT32,
            },
        ),
        (
            "POST",
            "/api/v1/quotes",
            {
                "room_type_code": "KNG",
                "check_in": hotel.stay[0],
                "check_out": hotel.stay[1],
                "guests": 1,
                "property_id": INT32,
            },
        ),
        ("POST", "/api/v1/rate-plans", {"room_type_code": "KNG", "code": "M", "name": nul}),
        (
            "POST",
            "/api/v1/rate-plans",
            {
                "room_type_code": "KNG",
                "code": "M",
                "name": "m",
                "parent_code": "BASE",
                "discount_bp": INT32,
            },
        ),
        (
            "POST",
            "/api/v1/rate-plans",
            {"room_type_code": "KNG", "code": "M", "name": "m", "weekday_amount": INT32},
        ),
        (
            "POST",
            "/api/v1/rate-plans",
            {
                "room_type_code": "KNG",
                "code": "M",
                "name": "m",
                "seasons": [{"start": "2027-01-01", "end": "2027-02-01", "weekday_amount": 1}]
                * 1000,
            },
        ),
        ("PATCH", "/api/v1/properties/1", {"tax_rate_bp": INT32}),
        ("PATCH", "/api/v1/properties/1", {"tax_rate_bp": -1}),
        ("GET", "/api/v1/reservations/a%00b/history", None),
        ("GET", "/api/v1/reservations/a%00b", None),
        ("POST", "/api/v1/reservations/a%00b/cancel", None),
        ("GET", f"/api/v1/reservations/{'x' * 5000}/history", None),
        ("POST", f"/api/v1/reservations/{'x' * 5000}/confirm", None),
    ]
    answers = {}
    for method, url, body in cases:
        kwargs = {"json": body} if body is not None else {}
        answers[(method, url[:60], str(body)[:80])] = await _status(desk, method, url, **kwargs)
    bad = {k: v for k, v in answers.items() if not 400 <= v < 500}
    assert bad == {}
    assert [r["id"] for r in await hotel.reservations()] == [rid]
    after = await hotel.reservation(rid)
    assert after == booking
    assert [h["action"] for h in await desk.history(rid)] == ["created", "confirmed"]
    await held_equals_stays(desk)
