"""The stay through the API: room assignment and suggestions, check-in, the folio, check-out."""

import asyncio
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import Probe, assert_problem, principal_headers
from reservation_service import stay

from .conftest import Hotel, hotel_today

STAY_EVENTS = {"reservation.checked_in", "reservation.checked_out"}
ID = {"document_type": "passport", "issuing_country": "CN", "last4": "1234", "attested": True}


def tonight(nights: int = 2, start: int = 0) -> dict[str, str]:
    first = hotel_today() + timedelta(days=start)
    return {
        "check_in": first.isoformat(),
        "check_out": (first + timedelta(days=nights)).isoformat(),
    }


async def confirmed(hotel: Hotel, **overrides: Any) -> dict[str, Any]:
    created = await hotel.book(**{**tonight(), **overrides})
    answer = await hotel.confirm(created["id"])
    assert answer.status_code == 200, answer.text
    return answer.json()


def url(reservation_id: str, verb: str) -> str:
    return f"/api/v1/reservations/{reservation_id}/{verb}"


async def assign(hotel: Hotel, reservation_id: str, **body: Any):
    return await hotel.client.post(url(reservation_id, "assign-room"), json=body or None)


async def rooms(hotel: Hotel, code: str) -> dict[str, dict[str, Any]]:
    answer = await hotel.client.get("/api/v1/rooms", params={"room_type_code": code, "limit": 100})
    assert answer.status_code == 200, answer.text
    return {r["number"]: r for r in answer.json()["items"]}


async def check_in(hotel: Hotel, reservation_id: str, **body: Any):
    return await hotel.client.post(
        url(reservation_id, "check-in"), json={"id_verification": ID, **body}
    )


async def folio(hotel: Hotel, reservation_id: str) -> dict[str, Any]:
    answer = await hotel.client.get(url(reservation_id, "folio"))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["balance"] == sum(line["amount"] for line in body["lines"])
    return body


async def in_house(hotel: Hotel, deposit: int = 50000, **overrides: Any) -> dict[str, Any]:
    booking = await confirmed(hotel, **overrides)
    assert (await assign(hotel, booking["id"])).status_code == 200
    answer = await check_in(hotel, booking["id"], deposit={"amount": deposit, "method": "cash"})
    assert answer.status_code == 200, answer.text
    return answer.json()


# -- room assignment -------------------------------------------------------------------------------


async def test_suggestions_put_the_rooms_that_meet_the_requests_first(hotel):
    booking = await confirmed(hotel, special_requests="Non-smoking room on a high floor, please")

    answer = await hotel.client.get(url(booking["id"], "room-suggestions"))

    assert answer.status_code == 200, answer.text
    found = answer.json()["items"]
    by_number = {s["number"]: s for s in found}
    kng = await rooms(hotel, "KNG")
    assert set(by_number) == set(kng)  # every KNG room is free
    plain = {"non-smoking"}  # (accessible rooms are kept for guests who ask for one)
    floors = [s["floor"] for s in found if set(s["features"]) == plain]
    assert len(floors) > 2 and floors == sorted(floors, reverse=True)  # higher floors first
    smoking = [s["number"] for s in found if "non-smoking" not in s["features"]]
    assert smoking and found[-len(smoking) :] == [by_number[n] for n in smoking]
    assert "non_smoking" in found[0]["reasons"] and "high_floor" in found[0]["reasons"]
    scores = [s["score"] for s in found]
    assert scores == sorted(scores, reverse=True)


async def test_an_accessible_room_goes_to_who_asks_and_is_kept_from_who_does_not(hotel):
    plain = await confirmed(hotel)
    asks = await confirmed(hotel, special_requests="Wheelchair accessible room")

    first_plain = (await hotel.client.get(url(plain["id"], "room-suggestions"))).json()["items"]
    first_asks = (await hotel.client.get(url(asks["id"], "room-suggestions"))).json()["items"]

    assert "accessible" not in first_plain[0]["features"]
    assert "accessible" in first_asks[0]["features"]


async def test_assigning_picks_the_best_suggestion_records_it_and_repeats_idempotently(hotel):
    booking = await confirmed(hotel, special_requests="high floor")
    best = (await hotel.client.get(url(booking["id"], "room-suggestions"))).json()["items"][0]

    first = await assign(hotel, booking["id"])
    again = await assign(hotel, booking["id"], room_id=best["room_id"])

    assert first.status_code == again.status_code == 200, first.text
    assert first.json()["room_number"] == best["number"] == again.json()["room_number"]
    assert first.json()["starts_on"] == booking["check_in"]
    assert first.json()["ends_on"] == booking["check_out"]
    lines = (await hotel.client.get(url(booking["id"], "history"))).json()
    assigned = [x for x in lines if x["action"] == "room_assigned"]
    assert len(assigned) == 1
    assert assigned[0]["changes"] == {"room_number": {"from": None, "to": best["number"]}}


async def test_another_room_replaces_the_assignment_and_frees_the_first(hotel):
    one = await confirmed(hotel)
    other = await confirmed(hotel)
    kng = await rooms(hotel, "KNG")
    first, second = kng["901"]["id"], kng["801"]["id"]

    assert (await assign(hotel, one["id"], room_id=first)).status_code == 200
    assert (await assign(hotel, one["id"], room_id=second)).status_code == 200
    answer = await assign(hotel, other["id"], room_id=first)

    assert answer.status_code == 200, answer.text
    history = (await hotel.client.get(url(one["id"], "history"))).json()
    moves = [x["changes"]["room_number"] for x in history if x["action"] == "room_assigned"]
    assert moves == [{"from": None, "to": "901"}, {"from": "901", "to": "801"}]


async def test_a_room_is_not_assigned_to_overlapping_stays_but_is_to_the_next_one(
    hotel_on_each_db,
):
    hotel = hotel_on_each_db
    kng = await rooms(hotel, "KNG")
    room = kng["901"]["id"]
    first = await confirmed(hotel, **tonight(nights=3))
    overlapping = await confirmed(hotel, **tonight(nights=2, start=2))
    after = await confirmed(hotel, **tonight(nights=2, start=3))

    assert (await assign(hotel, first["id"], room_id=room)).status_code == 200
    refused = await assign(hotel, overlapping["id"], room_id=room)
    assert_problem(refused, 409, "room_unavailable")
    assert (await assign(hotel, after["id"], room_id=room)).status_code == 200
    suggested = (await hotel.client.get(url(overlapping["id"], "room-suggestions"))).json()
    assert "901" not in {s["number"] for s in suggested["items"]}

    # Cancelled, the first stay no longer holds the room.
    assert (await hotel.cancel(first["id"])).status_code == 200
    retried = await assign(hotel, overlapping["id"], room_id=room)
    assert retried.status_code == 409  # still overlaps `after` (night start+3)
    earlier = await confirmed(hotel, **tonight(nights=2))
    assert (await assign(hotel, earlier["id"], room_id=room)).status_code == 200


async def test_two_concurrent_assignments_of_one_room_to_overlapping_stays_one_wins(
    hotel_on_each_db,
):
    hotel = hotel_on_each_db
    room = (await rooms(hotel, "KNG"))["701"]["id"]
    for keyed in (False, True, False):  # rounds: the database decides the race every time
        racers = [await confirmed(hotel, **tonight(nights=2, start=s)) for s in (1, 2, 1, 2)]

        # With an Idempotency-Key the request runs in one transaction with its stored answer:
        # the loser's refused insert must still leave a clean 409 (stored, replayable).
        answers = await asyncio.gather(
            *(
                hotel.client.post(
                    url(r["id"], "assign-room"),
                    json={"room_id": room},
                    headers={"Idempotency-Key": uuid.uuid4().hex} if keyed else {},
                )
                for r in racers
            )
        )

        codes = sorted(a.status_code for a in answers)
        assert codes == [200, 409, 409, 409], [a.text for a in answers]
        for a in answers:
            if a.status_code == 409:
                assert a.json()["code"] == "room_unavailable"
        # The winner's room is then free again: cancel it for the next round.
        [winner] = [r for r, a in zip(racers, answers, strict=True) if a.status_code == 200]
        assert (await hotel.cancel(winner["id"])).status_code == 200
        for r in racers:
            if r is not winner:
                await hotel.cancel(r["id"])


async def test_only_confirmed_bookings_get_a_room_of_their_own_type(hotel):
    requested = await hotel.book(**tonight())
    booking = await confirmed(hotel)
    std = next(iter((await rooms(hotel, "STD")).values()))

    assert_problem(await assign(hotel, requested["id"]), 409, "not_assignable")
    wrong = await assign(hotel, booking["id"], room_id=std["id"])
    assert_problem(wrong, 422, "room_not_for_booking")
    unknown = await assign(hotel, booking["id"], room_id=999999)
    assert_problem(unknown, 422, "room_not_for_booking")
    extra = await hotel.client.post(url(booking["id"], "assign-room"), json={"floor": 9})
    assert extra.status_code == 422
    assert_problem(await assign(hotel, "no-such-booking"), 404, "reservation_not_found")


async def test_no_free_room_left_is_a_409(hotel):
    await hotel.add_room_type("SGL", rooms=1)
    one = await confirmed(hotel, room_type_code="SGL")
    assert (await assign(hotel, one["id"])).status_code == 200
    other = await hotel.book(room_type_code="SGL", **tonight(nights=1, start=1))
    await hotel.cancel(one["id"])  # frees the inventory; the stale assignment is swept
    assert (await hotel.confirm(other["id"])).status_code == 200
    assert (await assign(hotel, other["id"])).status_code == 200
    third = await hotel.book(room_type_code="SGL", **tonight(nights=1, start=3))
    assert (await hotel.confirm(third["id"])).status_code == 200
    assert (await assign(hotel, third["id"])).status_code == 200  # not overlapping: same room


# -- check-in --------------------------------------------------------------------------------------


async def test_check_in_needs_an_assigned_ready_room_and_an_attested_id(hotel, broker):
    probe = Probe(broker, STAY_EVENTS)
    await hotel.client.post(
        "/api/v1/rooms",
        json={
            "number": "DIRTY1",
            "floor": 4,
            "room_type_code": "KNG",
            "housekeeping_status": "dirty",
        },
    )
    booking = await confirmed(hotel)

    assert_problem(await check_in(hotel, booking["id"]), 409, "room_not_assigned")
    dirty = (await rooms(hotel, "KNG"))["DIRTY1"]["id"]
    assert (await assign(hotel, booking["id"], room_id=dirty)).status_code == 200
    assert_problem(await check_in(hotel, booking["id"]), 409, "room_not_ready")
    clean = (await rooms(hotel, "KNG"))["801"]["id"]
    assert (await assign(hotel, booking["id"], room_id=clean)).status_code == 200
    not_attested = await hotel.client.post(
        url(booking["id"], "check-in"), json={"id_verification": {**ID, "attested": False}}
    )
    assert_problem(not_attested, 422, "id_not_verified")
    whole_number = await hotel.client.post(
        url(booking["id"], "check-in"), json={"id_verification": {**ID, "last4": "E1234567"}}
    )
    assert whole_number.status_code == 422  # nothing of the document beyond 4 characters

    answer = await check_in(hotel, booking["id"], deposit={"amount": 30000, "method": "cash"})
    again = await check_in(hotel, booking["id"])

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "checked_in" and answer.json()["room_number"] == "801"
    assert answer.json()["deposit_amount"] == 30000
    assert again.status_code == 200 and again.json()["room_number"] == "801"
    lines = (await folio(hotel, booking["id"]))["lines"]
    assert [(x["kind"], x["amount"], x["method"]) for x in lines] == [("deposit", -30000, "cash")]
    await hotel.published()
    [event] = probe.events("reservation.checked_in")
    assert event.payload["room_number"] == "801"
    assert event.payload["reservation_id"] == booking["id"]
    history = (await hotel.client.get(url(booking["id"], "history"))).json()
    assert history[-1]["action"] == "checked_in"
    assert event.aggregate_version == history[-1]["version"]


async def test_check_in_takes_the_configured_deposit_by_default(hotel):
    booking = await confirmed(hotel)
    await assign(hotel, booking["id"])

    answer = await check_in(hotel, booking["id"])

    assert answer.json()["deposit_amount"] == 50000  # Settings.check_in_deposit_amount
    assert (await folio(hotel, booking["id"]))["deposit_amount"] == 50000


async def test_check_in_is_refused_before_the_day_and_for_a_cancelled_booking(hotel):
    later = await hotel.book(**tonight(start=5))
    await hotel.confirm(later["id"])
    assert (await assign(hotel, later["id"])).status_code == 200
    assert_problem(await check_in(hotel, later["id"]), 409, "check_in_too_early")

    cancelled = await confirmed(hotel)
    await hotel.cancel(cancelled["id"])
    assert_problem(await check_in(hotel, cancelled["id"]), 409, "invalid_transition")
    requested = await hotel.book(**tonight())
    assert_problem(await check_in(hotel, requested["id"]), 409, "invalid_transition")


# -- folio -----------------------------------------------------------------------------------------


async def test_the_folio_balance_is_the_sum_of_its_lines(hotel):
    guest = await in_house(hotel, deposit=20000)
    rid = guest["id"]

    minibar = await hotel.client.post(
        url(rid, "folio/charges"), json={"category": "minibar", "amount": 6800}
    )
    late = await hotel.client.post(url(rid, "folio/charges"), json={"category": "late_check_out"})
    paid = await hotel.client.post(
        url(rid, "folio/payments"),
        json={"amount": 5000, "method": "card_terminal", "reference": "T-991"},
    )

    assert minibar.status_code == late.status_code == paid.status_code == 201, late.text
    body = await folio(hotel, rid)
    last_night = guest["nightly_amounts"][-1]
    assert [(x["kind"], x["category"], x["amount"]) for x in body["lines"]] == [
        ("deposit", None, -20000),
        ("extra", "minibar", 6800),
        ("extra", "late_check_out", last_night * 50 // 100),
        ("payment", None, -5000),
    ]
    assert body["charges_amount"] == 6800 + last_night // 2
    assert body["paid_amount"] == 25000
    assert body["lines"][-1]["provider"] == "offline"
    assert body["lines"][-1]["provider_reference"] == "T-991"


async def test_the_folio_refuses_bad_postings(hotel):
    booking = await confirmed(hotel)
    rid = booking["id"]
    not_in = await hotel.client.post(
        url(rid, "folio/charges"), json={"category": "minibar", "amount": 100}
    )
    assert_problem(not_in, 409, "folio_closed")
    prepaid = await hotel.client.post(
        url(rid, "folio/payments"), json={"amount": 100, "method": "cash"}
    )
    assert prepaid.status_code == 201  # a prepayment before arrival
    guest = await in_house(hotel)
    gid = guest["id"]
    for body, code in [
        ({"category": "minibar"}, "amount_required"),
        ({"category": "minibar", "amount": 0}, "validation_error"),
        ({"category": "spa", "amount": 100}, "validation_error"),
    ]:
        assert_problem(await hotel.client.post(url(gid, "folio/charges"), json=body), 422, code)
    for body, code in [
        ({"amount": 100, "method": "cash", "currency": "USD"}, "currency_mismatch"),
        ({"amount": 100, "method": "cash", "provider": "stripe"}, "unknown_payment_provider"),
        ({"amount": -5, "method": "cash"}, "validation_error"),
        ({"amount": 100, "method": "cheque"}, "validation_error"),
    ]:
        assert_problem(await hotel.client.post(url(gid, "folio/payments"), json=body), 422, code)
    assert [x["kind"] for x in (await folio(hotel, gid))["lines"]] == ["deposit"]


# -- check-out -------------------------------------------------------------------------------------


async def test_check_out_settles_the_folio_refunds_the_deposit_and_dirties_the_room(
    hotel_on_each_db, broker, monkeypatch
):
    hotel = hotel_on_each_db
    probe = Probe(broker, STAY_EVENTS)
    guest = await in_house(hotel, deposit=50000, **tonight(nights=2))
    rid = guest["id"]
    await hotel.client.post(url(rid, "folio/charges"), json={"category": "minibar", "amount": 6800})
    stay_total = guest["total_amount"]
    # The guest leaves on the booked day, before the check-out time.
    leave_at(monkeypatch, date.fromisoformat(guest["check_out"]), 10)

    owed = await hotel.client.post(url(rid, "check-out"))

    problem = assert_problem(owed, 409, "folio_unsettled")
    due = stay_total + 6800 - 50000
    assert problem["balance"] == due and problem["currency"] == guest["currency"]
    assert (await folio(hotel, rid))["charges_amount"] == 6800  # nothing written
    # Pays more than owed: the rest comes back with the deposit.
    pay = await hotel.client.post(
        url(rid, "folio/payments"), json={"amount": due + 1000, "method": "cash"}
    )
    assert pay.status_code == 201

    answer = await hotel.client.post(url(rid, "check-out"))
    again = await hotel.client.post(url(rid, "check-out"))

    assert answer.status_code == 200, answer.text
    out = answer.json()
    assert out["status"] == "checked_out" and out["nights_stayed"] == 2
    assert out["amount_spent"] == stay_total + 6800
    assert out["refunded_amount"] == 1000
    assert again.status_code == 200 and again.json()["amount_spent"] == out["amount_spent"]
    body = await folio(hotel, rid)
    assert body["balance"] == 0
    rooms_nights = [x["night"] for x in body["lines"] if x["kind"] == "room"]
    assert rooms_nights == [
        guest["check_in"],
        (date.fromisoformat(guest["check_in"]) + timedelta(days=1)).isoformat(),
    ]
    assert sum(x["amount"] for x in body["lines"] if x["kind"] in ("room", "tax")) == stay_total
    assert guest["room_number"] in {
        n for n, r in (await rooms(hotel, "KNG")).items() if r["housekeeping_status"] == "dirty"
    }
    await hotel.published()
    [event] = probe.events("reservation.checked_out")
    assert (event.payload["nights"], event.payload["amount_spent"]) == (2, stay_total + 6800)
    assert event.payload["check_out"] == guest["check_out"]
    history = (await hotel.client.get(url(rid, "history"))).json()
    assert history[-1]["action"] == "checked_out"
    assert event.aggregate_version == history[-1]["version"]
    after = await hotel.client.post(
        url(rid, "folio/charges"), json={"category": "minibar", "amount": 1}
    )
    assert_problem(after, 409, "folio_closed")


async def test_an_early_departure_charges_the_nights_stayed_and_frees_the_rest(hotel):
    await hotel.add_room_type("ERL", rooms=1)
    guest = await in_house(hotel, deposit=100000, room_type_code="ERL", **tonight(nights=3))
    rid = guest["id"]
    tomorrow = (hotel_today() + timedelta(days=1)).isoformat()
    in_three = (hotel_today() + timedelta(days=3)).isoformat()
    assert await hotel.available("ERL", tomorrow, in_three) == 0

    answer = await hotel.client.post(url(rid, "check-out"))  # leaving today: one night

    assert answer.status_code == 200, answer.text
    out = answer.json()
    assert out["nights_stayed"] == 1 and out["check_out"] == tomorrow
    assert out["nightly_amounts"] == guest["nightly_amounts"][:1]
    assert out["amount_spent"] == out["total_amount"]
    assert out["refunded_amount"] == 100000 - out["total_amount"]
    assert await hotel.available("ERL", tomorrow, in_three) == 1
    history = (await hotel.client.get(url(rid, "history"))).json()
    assert history[-1]["changes"]["check_out"] == {"from": guest["check_out"], "to": tomorrow}
    nxt = await confirmed(hotel, room_type_code="ERL", **tonight(nights=2, start=1))
    assert (await assign(hotel, nxt["id"])).status_code == 200  # the room is free again


async def test_a_late_check_out_is_charged_by_the_property_rule(hotel, monkeypatch):
    guest = await in_house(hotel, deposit=0, **tonight(nights=1))
    rid = guest["id"]
    leave_at(monkeypatch, date.fromisoformat(guest["check_out"]), 15)  # check-out time is 12:00

    owed = assert_problem(await hotel.client.post(url(rid, "check-out")), 409, "folio_unsettled")

    fee = guest["nightly_amounts"][-1] // 2
    assert owed["balance"] == guest["total_amount"] + fee
    await hotel.client.post(
        url(rid, "folio/payments"), json={"amount": owed["balance"], "method": "card_terminal"}
    )
    out = await hotel.client.post(url(rid, "check-out"))
    assert out.status_code == 200, out.text
    assert out.json()["amount_spent"] == guest["total_amount"] + fee
    categories = [x["category"] for x in (await folio(hotel, rid))["lines"] if x["kind"] == "extra"]
    assert categories == ["late_check_out"]


async def test_check_out_of_a_booking_not_checked_in_is_refused(hotel):
    booking = await confirmed(hotel)
    assert_problem(
        await hotel.client.post(url(booking["id"], "check-out")), 409, "invalid_transition"
    )


# -- who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.HOUSEKEEPING, Role.MARKETING])
async def test_front_desk_work_is_for_desk_staff(hotel, role):
    booking = await confirmed(hotel)
    headers = principal_headers(Principal(id="staff:9", kind=Kind.STAFF, roles=frozenset({role})))
    for path, body in [
        ("assign-room", None),
        ("check-in", {"id_verification": ID}),
        ("check-out", None),
        ("folio/payments", {"amount": 100, "method": "cash"}),
    ]:
        answer = await hotel.client.post(url(booking["id"], path), json=body, headers=headers)
        assert_problem(answer, 403, "forbidden")
    got = await hotel.client.get(url(booking["id"], "room-suggestions"), headers=headers)
    assert got.status_code == 403


async def test_desk_staff_of_another_property_do_not_reach_the_booking(hotel):
    booking = await confirmed(hotel)
    other = Principal(
        id="staff:5",
        kind=Kind.STAFF,
        roles=frozenset({Role.FRONT_DESK}),
        properties=frozenset({999}),
    )
    headers = principal_headers(other)
    answer = await hotel.client.post(url(booking["id"], "assign-room"), headers=headers)
    assert_problem(answer, 404, "reservation_not_found")
    assert (await hotel.client.get(url(booking["id"], "folio"), headers=headers)).status_code == 404


async def test_the_booking_holder_reads_its_folio(hotel):
    booking = await confirmed(hotel)
    holder = Principal(id="booking:x", kind=Kind.BOOKING, reservation_id=booking["id"])
    headers = principal_headers(holder)
    answer = await hotel.client.get(url(booking["id"], "folio"), headers=headers)
    assert answer.status_code == 200, answer.text
    refused = await hotel.client.post(
        url(booking["id"], "folio/payments"), headers=headers, json={"amount": 1, "method": "cash"}
    )
    assert refused.status_code == 403


# -- helpers ---------------------------------------------------------------------------------------


def leave_at(monkeypatch: pytest.MonkeyPatch, day: date, hour: int) -> None:
    """Move the property's clock (as check-out reads it) to `day` at `hour`."""

    def now(timezone: str) -> datetime:
        from zoneinfo import ZoneInfo

        return datetime(day.year, day.month, day.day, hour, 0, tzinfo=ZoneInfo(timezone))

    monkeypatch.setattr(stay, "local_now", now)


async def test_a_room_out_of_order_on_a_night_of_the_stay_is_neither_suggested_nor_assigned(hotel):
    booking = await confirmed(hotel, **tonight(nights=3))
    kings = await rooms(hotel, "KNG")
    broken = next(iter(kings.values()))
    second_night = hotel_today() + timedelta(days=1)
    period = await hotel.client.post(
        "/api/v1/out-of-order-periods",
        json={
            "room_id": broken["id"],
            "from_date": second_night.isoformat(),
            "to_date": (second_night + timedelta(days=1)).isoformat(),
            "reason": "Leaking pipe",
        },
    )
    assert period.status_code == 201, period.text

    suggested = await hotel.client.get(url(booking["id"], "room-suggestions"))
    named = await assign(hotel, booking["id"], room_id=broken["id"])

    assert suggested.status_code == 200, suggested.text
    assert broken["number"] not in {s["number"] for s in suggested.json()["items"]}
    assert_problem(named, 409, "room_out_of_order")
    best = await assign(hotel, booking["id"])
    assert best.status_code == 200, best.text
    assert best.json()["room_number"] != broken["number"]


async def test_typed_requests_steer_the_suggestions_like_the_free_text(hotel):
    typed = await confirmed(hotel, requests=[{"code": "accessible"}, {"code": "high_floor"}])

    found = (await hotel.client.get(url(typed["id"], "room-suggestions"))).json()["items"]

    assert "accessible" in found[0]["features"]
    assert "accessible" in found[0]["reasons"]
