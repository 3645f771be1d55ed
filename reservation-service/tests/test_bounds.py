"""Bounds of a booking request (issue 13, point 14): the pickup's arrival is tied to the stay and
far enough ahead for dispatch, check-in is within the booking horizon, text carries no control
characters, and a booking whose check-in date is over cannot be confirmed."""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hotel_common.testing import running
from reservation_service import stays
from reservation_service.config import Settings
from reservation_service.main import create_app

PROBLEM = "application/problem+json"
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the demo hotel's time zone


def hotel_today() -> date:
    return datetime.now(SHANGHAI).date()


def transfer(arrival: datetime) -> dict[str, Any]:
    return {"arrival_time": arrival.isoformat(), "pickup_place": "Pudong Airport T1"}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local instant at the hotel."""
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def refused_arrivals() -> dict[str, tuple[Any, str]]:
    """name: (booking overrides, expected code); computed at call time from the hotel's today."""
    today, now = hotel_today(), datetime.now(SHANGHAI)
    far = today + timedelta(days=40)
    far_stay = {"check_in": far.isoformat(), "check_out": (far + timedelta(days=3)).isoformat()}
    today_stay = {
        "check_in": today.isoformat(),
        "check_out": (today + timedelta(days=2)).isoformat(),
    }
    return {
        "20 days before check-in": (
            {**far_stay, "transfer": transfer(at(far - timedelta(days=20), 10))},
            "arrival_outside_stay",
        ),
        "two days before check-in": (
            {**far_stay, "transfer": transfer(at(far - timedelta(days=1), 0) - timedelta(hours=1))},
            "arrival_outside_stay",
        ),
        "on the check-out day": (
            {**far_stay, "transfer": transfer(at(far + timedelta(days=3), 10))},
            "arrival_outside_stay",
        ),
        "yesterday": (
            {**today_stay, "transfer": transfer(now - timedelta(days=1))},
            "arrival_in_past",
        ),
        "an hour ago": (
            {**today_stay, "transfer": transfer(now - timedelta(hours=1))},
            "arrival_in_past",
        ),
        "inside the 60-minute lead": (
            {**today_stay, "transfer": transfer(now + timedelta(minutes=30))},
            "arrival_too_soon",
        ),
        "check-in past the horizon": (
            {
                "check_in": (today + timedelta(days=551)).isoformat(),
                "check_out": (today + timedelta(days=553)).isoformat(),
            },
            "check_in_too_far",
        ),
    }


async def test_out_of_bounds_arrivals_and_check_ins_are_422_and_write_nothing(hotel_on_each_db):
    hotel = hotel_on_each_db
    cases = refused_arrivals()
    for name, (overrides, code) in cases.items():
        response = await hotel.client.post("/api/v1/reservations", json=hotel.booking(**overrides))
        assert response.status_code == 422, (name, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["code"] == code, name
        field = "body.check_in" if code == "check_in_too_far" else "body.transfer.arrival_time"
        assert [e["field"] for e in response.json()["errors"]] == [field], name
    assert await hotel.reservations() == []


async def test_arrivals_around_check_in_and_the_last_day_of_the_horizon_are_accepted(hotel):
    far = hotel_today() + timedelta(days=40)
    stay = {"check_in": far.isoformat(), "check_out": (far + timedelta(days=2)).isoformat()}
    accepted = [
        at(far - timedelta(days=1), 0),  # the day before check-in, from its first minute
        at(far, 14),
        at(far + timedelta(days=1), 5, 59),  # a red-eye landing after midnight
    ]
    for arrival in accepted:
        created = await hotel.book(**stay, transfer=transfer(arrival))
        assert datetime.fromisoformat(created["transfer"]["arrival_time"]) == arrival
    last = hotel_today() + timedelta(days=550)
    await hotel.book(check_in=last.isoformat(), check_out=(last + timedelta(days=1)).isoformat())
    # The availability query applies the same horizon.
    beyond = await hotel.client.get(
        "/api/v1/availability",
        params={
            "check_in": (last + timedelta(days=1)).isoformat(),
            "check_out": (last + timedelta(days=2)).isoformat(),
        },
    )
    assert beyond.status_code == 422 and beyond.json()["code"] == "check_in_too_far"
    assert len(await hotel.reservations()) == 4


async def test_limits_come_from_the_settings(sqlite_url, broker):
    settings = Settings(
        database_url=sqlite_url,
        log_json=False,
        seed_demo=True,
        transfer_min_lead_minutes=10,
        max_booking_horizon_days=30,
    )
    today = hotel_today()

    def booking(check_in: date, **extra: Any) -> dict[str, Any]:
        return {
            "guest": {"name": "Li Wei", "email": "li.wei@example.com"},
            "room_type_code": "KNG",
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=1)).isoformat(),
            "guests": 1,
            **extra,
        }

    async with running(create_app(settings, broker=broker)) as client:
        soon = datetime.now(SHANGHAI) + timedelta(minutes=30)
        accepted = await client.post(
            "/api/v1/reservations", json=booking(today, transfer=transfer(soon))
        )
        assert accepted.status_code == 201, accepted.text
        refused = await client.post(
            "/api/v1/reservations", json=booking(today + timedelta(days=31))
        )
        assert refused.status_code == 422 and refused.json()["code"] == "check_in_too_far"


CONTROL_NAMES = ["A\u0000B", "A\u0007B", "A\u009bB", "A\nB", "A\u2028B"]


async def test_control_characters_in_text_and_query_are_422_on_each_database(hotel_on_each_db):
    hotel = hotel_on_each_db
    for name in CONTROL_NAMES:
        guest = {**hotel.booking()["guest"], "name": name}
        response = await hotel.client.post("/api/v1/reservations", json=hotel.booking(guest=guest))
        assert response.status_code == 422, (name, response.text)
        assert response.headers["content-type"] == PROBLEM
        [error] = response.json()["errors"]
        assert (error["field"], error["type"]) == ("body.guest.name", "control_characters")
    for field, value in [("special_requests", "quiet\u0000room")]:
        response = await hotel.client.post(
            "/api/v1/reservations", json=hotel.booking(**{field: value})
        )
        assert response.status_code == 422, (field, response.text)
        assert response.json()["errors"][0]["field"] == f"body.{field}"
    assert await hotel.reservations() == []

    for url in [
        "/api/v1/reservations?email=a%00b@example.com",
        "/api/v1/reservations?confirmation_number=HV%07",
        "/api/v1/reservations/abc%00def",
        "/api/v1/availability?check_in=2030-01-01%00&check_out=2030-01-02",
    ]:
        response = await hotel.client.get(url)
        assert response.status_code == 422, (url, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["errors"][0]["type"] == "control_characters"
        assert response.headers["x-request-id"]
    response = await hotel.client.get("/api/v1/reservations?email=a%00b@example.com")
    assert response.json()["errors"][0]["field"] == "query.email"


async def test_a_multi_line_special_request_is_kept_with_its_line_breaks(hotel):
    created = await hotel.book(
        special_requests="  High floor\r\nQuiet room\n\tAway from the lift  ",
        guest={**hotel.booking()["guest"], "name": "  Zoë  "},
    )
    assert created["special_requests"] == "High floor\nQuiet room\n\tAway from the lift"
    assert created["guest"]["name"] == "Zoë"
    assert (await hotel.reservation(created["id"]))["special_requests"] == (
        "High floor\nQuiet room\n\tAway from the lift"
    )


async def test_a_booking_whose_check_in_date_has_passed_cannot_be_confirmed(
    hotel_on_each_db, monkeypatch: pytest.MonkeyPatch
):
    hotel = hotel_on_each_db
    today = hotel_today()
    stay = {"check_in": today.isoformat(), "check_out": (today + timedelta(days=2)).isoformat()}
    late = await hotel.book(**stay)
    on_time = await hotel.book(**stay)
    assert (await hotel.confirm(on_time["id"])).status_code == 200

    # The next day at the hotel.
    monkeypatch.setattr(stays, "today_at", lambda timezone: today + timedelta(days=1))
    refused = await hotel.confirm(late["id"])
    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["code"] == "check_in_passed"
    assert (await hotel.reservation(late["id"]))["status"] == "requested"
    # Confirming a booking confirmed in time still answers it unchanged.
    assert (await hotel.confirm(on_time["id"])).status_code == 200
    events = await hotel.published()
    assert [e.payload["reservation_id"] for e in events] == [on_time["id"]]
