"""Issue 18 on the booking side, through the API on SQLite and PostgreSQL: the arrival pickup's
needs, a departure drop-off asked for on booking and on modification (checked, stored, shown
and sent in reservation.confirmed / reservation.modified), and rate plans that include
transfers, which the events announce as `transfers_included`."""

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hotel_common.testing import assert_problem

from . import changes_support
from .changes_support import Desk

desk_on_each_db = changes_support.desk_on_each_db  # the fixture, for this module's tests

ZONE = ZoneInfo("Asia/Shanghai")
NEEDS = {
    "transport": "international_flight",
    "child_seats": 1,
    "wheelchair": True,
    "language": "en",
    "sign_name": "MR LI WEI",
    "notes": "Two large golf bags",
    "share_ok": False,
}


def at(day: str, hour: int, minute: int = 0) -> str:
    local = datetime.combine(date.fromisoformat(day), datetime.min.time(), ZONE)
    return (local + timedelta(hours=hour, minutes=minute)).isoformat()


async def plan(desk: Desk, code: str, **body: Any) -> dict[str, Any]:
    made = await desk.hotel.client.post(
        "/api/v1/rate-plans",
        json={"room_type_code": "KNG", "code": code, "name": f"Plan {code}", **body},
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def trip(desk: Desk) -> tuple[dict[str, Any], dict[str, Any]]:
    check_in, check_out = desk.hotel.stay
    transfer = {
        "arrival_time": at(check_in, 14, 5),
        "pickup_place": "Pudong T2",
        "flight_number": "MU 5101",
        **NEEDS,
    }
    departure = {
        "departure_time": at(check_out, 16),
        "dropoff_place": "Hongqiao T2",
        "flight_number": "mu5102",
        "luggage": 2,
        "transport": "domestic_flight",
        "sign_name": "LI WEI",
    }
    return transfer, departure


async def test_a_plan_with_transfers_a_pickup_with_needs_and_a_departure_reach_the_events(
    desk_on_each_db: Desk,
) -> None:
    desk = desk_on_each_db
    incl = await plan(desk, "INCL", includes_transfers=True)
    assert incl["includes_transfers"] is True
    plain = await plan(desk, "PLAIN")
    assert plain["includes_transfers"] is False
    off = await desk.hotel.client.patch(
        f"/api/v1/rate-plans/{incl['id']}", json={"includes_transfers": False}
    )
    assert off.json()["includes_transfers"] is False
    back = await desk.hotel.client.patch(
        f"/api/v1/rate-plans/{incl['id']}", json={"includes_transfers": True, "name": "All in"}
    )
    assert back.json()["includes_transfers"] is True
    shown = await desk.hotel.client.get(f"/api/v1/rate-plans/{incl['id']}")
    assert shown.json()["includes_transfers"] is True

    transfer, departure = trip(desk)
    booking = await desk.booked(rate_plan_code="INCL", transfer=transfer, departure=departure)
    assert booking["transfers_included"] is True
    assert {k: booking["transfer"][k] for k in NEEDS} == NEEDS
    assert booking["transfer"]["flight_number"] == "MU5101"
    shown_departure = booking["departure"]
    assert shown_departure["flight_number"] == "MU5102"
    assert shown_departure["passengers"] == 2  # the booking's guests
    assert shown_departure["luggage"] == 2 and shown_departure["transport"] == "domestic_flight"
    assert shown_departure["sign_name"] == "LI WEI" and shown_departure["child_seats"] is None
    read = await desk.hotel.reservation(booking["id"])
    assert read["departure"] == shown_departure and read["transfers_included"] is True

    (confirmed,) = await desk.events("reservation.confirmed")
    payload = confirmed.payload
    assert payload["transfers_included"] is True
    assert {k: payload["transfer"][k] for k in NEEDS} == NEEDS
    sent = payload["departure"]
    assert sent["flight_number"] == "MU5102" and sent["dropoff_place"] == "Hongqiao T2"
    assert datetime.fromisoformat(sent["departure_time"]) == datetime.fromisoformat(
        departure["departure_time"]
    )
    assert (sent["passengers"], sent["luggage"], sent["child_seats"]) == (2, 2, 0)

    # Modification: a later departure, then the plan changed to one without transfers.
    moved = await desk.patch(
        booking["id"], {"departure": {**departure, "departure_time": at(desk.hotel.stay[1], 20)}}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["departure"]["departure_time"].startswith(desk.hotel.stay[1])
    replanned = await desk.patch(booking["id"], {"rate_plan_code": "PLAIN"})
    assert replanned.status_code == 200, replanned.text
    assert replanned.json()["transfers_included"] is False
    removed = await desk.patch(booking["id"], {"departure": None})
    assert removed.status_code == 200 and removed.json()["departure"] is None

    first, second, third = await desk.events("reservation.modified")
    assert first.payload["transfers_included"] is True
    assert first.payload["changes"]["departure"]["to"]["departure_time"].startswith(
        desk.hotel.stay[1]
    )
    assert datetime.fromisoformat(first.payload["departure"]["departure_time"]).hour == 12  # UTC
    assert second.payload["transfers_included"] is False  # the change took it away
    assert second.payload["departure"]["flight_number"] == "MU5102"
    assert "transfers_included" not in third.payload  # not included, nothing changed about it
    assert "departure" not in third.payload
    assert third.payload["changes"]["departure"]["to"] is None


async def test_a_booking_without_the_new_fields_is_announced_as_before(
    desk_on_each_db: Desk,
) -> None:
    desk = desk_on_each_db
    check_in, _ = desk.hotel.stay
    transfer = {"arrival_time": at(check_in, 14), "pickup_place": "Pudong T2"}
    booking = await desk.booked(transfer=transfer)
    assert booking["departure"] is None and booking["transfers_included"] is False
    assert all(booking["transfer"][k] is None for k in NEEDS)
    (confirmed,) = await desk.events("reservation.confirmed")
    assert "departure" not in confirmed.payload
    assert "transfers_included" not in confirmed.payload
    assert set(confirmed.payload["transfer"]) == {
        "flight_number",
        "arrival_time",
        "pickup_place",
        "passengers",
        "luggage",
    }
    # A departure added later, by modification.
    _, departure = trip(desk)
    added = await desk.patch(booking["id"], {"departure": departure})
    assert added.status_code == 200, added.text
    (modified,) = await desk.events("reservation.modified")
    assert modified.payload["departure"]["dropoff_place"] == "Hongqiao T2"
    assert modified.payload["changes"]["departure"]["from"] is None


async def test_bad_departures_and_needs_are_refused_and_nothing_is_written(
    desk_on_each_db: Desk,
) -> None:
    desk = desk_on_each_db
    hotel = desk.hotel
    _, departure = trip(desk)
    check_in, check_out = hotel.stay

    async def refused(body: dict[str, Any]) -> Any:
        return await hotel.client.post("/api/v1/reservations", json=hotel.booking(**body))

    past = await refused({"departure": {**departure, "departure_time": "2020-01-01T10:00:00Z"}})
    assert_problem(past, 422, "departure_in_past")
    early = await refused({"departure": {**departure, "departure_time": at(check_in, 10)}})
    assert_problem(early, 422, "departure_outside_stay")
    crowd = await refused({"departure": {**departure, "passengers": 3}})
    assert_problem(crowd, 422, "too_many_passengers")
    for bad in (
        {"transport": "boat"},
        {"child_seats": -1},
        {"sign_name": "x" * 61},
        {"language": "not a tag!"},
        {"fare": 10},
    ):
        answer = await refused({"departure": {**departure, **bad}})
        assert answer.status_code == 422, (bad, answer.text)
    bad_needs = await refused(
        {
            "transfer": {
                "arrival_time": at(check_in, 14),
                "pickup_place": "Pudong T2",
                "wheelchair": "maybe",
            }
        }
    )
    assert bad_needs.status_code == 422
    assert await hotel.reservations() == []

    booking = await desk.booked(departure=departure)
    shorter = await desk.patch(
        booking["id"],
        {"check_out": (date.fromisoformat(check_out) - timedelta(days=1)).isoformat()},
    )
    assert_problem(shorter, 422, "departure_outside_stay")  # the kept drop-off no longer fits
    fewer = await desk.patch(booking["id"], {"guests": 1})
    assert_problem(fewer, 422, "too_many_passengers")
    assert (await hotel.reservation(booking["id"]))["departure"] == booking["departure"]
