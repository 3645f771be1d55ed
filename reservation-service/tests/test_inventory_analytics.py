"""Issue 17, analytics: occupancy, ADR, RevPAR, the day's movements, pickup, channel mix,
cancellation and no-show rates, lead time and length of stay, computed by SQL on SQLite and
on PostgreSQL; expected figures are derived from what the API says about the bookings."""

from datetime import date, timedelta
from typing import Any

from hotel_common.principal import Role
from hotel_common.testing import assert_problem

from .conftest import Hotel, hotel_today
from .test_inventory import ELSEWHERE, HOUSEKEEPING, days, rooms_of, staff

FRONT_DESK = staff(Role.FRONT_DESK)


async def get(hotel: Hotel, what: str, **params: Any) -> dict[str, Any]:
    response = await hotel.client.get(
        f"/api/v1/analytics/{what}", params=params, headers=FRONT_DESK
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def all_rooms(hotel: Hotel) -> int:
    count, params = 0, {"limit": 200}
    while True:
        page = (await hotel.client.get("/api/v1/rooms", params=params)).json()
        count += len(page["items"])
        if not page["next_cursor"]:
            return count
        params["cursor"] = page["next_cursor"]


def window(hotel: Hotel, first: int, last: int) -> dict[str, str]:
    stay = days(hotel, first, last)
    return {"from": stay["check_in"], "to": stay["check_out"]}


async def test_the_dashboards_figures_follow_the_bookings(hotel_on_each_db: Hotel) -> None:
    hotel = hotel_on_each_db
    await hotel.add_room_type("AN", rooms=2)
    # A: nights 0-2; B: night 1, cancelled after confirming; C: nights 2-3; D: only requested.
    a = await hotel.book(room_type_code="AN", guests=2, **days(hotel, 0, 3))
    b = await hotel.book(room_type_code="AN", **days(hotel, 1, 2))
    c = await hotel.book(room_type_code="AN", guests=1, **days(hotel, 2, 4))
    await hotel.book(room_type_code="AN", **days(hotel, 0, 1))
    for booking in (a, b, c):
        assert (await hotel.confirm(booking["id"])).status_code == 200
    assert (await hotel.cancel(b["id"])).status_code == 200
    room_id = (await rooms_of(hotel, "AN"))[0]["id"]
    out = await hotel.client.post(
        "/api/v1/out-of-order-periods",
        json={
            **{"room_id": room_id, "reason": "paint"},
            **dict(zip(("from_date", "to_date"), days(hotel, 3, 4).values(), strict=True)),
        },
    )
    assert out.status_code == 201, out.text
    a, c = await hotel.reservation(a["id"]), await hotel.reservation(c["id"])
    rooms = await all_rooms(hotel)

    # Occupancy, ADR, RevPAR per night and for the period.
    occupancy = await get(hotel, "occupancy", **window(hotel, 0, 4))
    price = {0: a["nightly_amounts"][0], 1: a["nightly_amounts"][1]}
    price[2] = a["nightly_amounts"][2] + c["nightly_amounts"][0]
    price[3] = c["nightly_amounts"][1]
    sold = {0: 1, 1: 1, 2: 2, 3: 1}
    for i, night in enumerate(occupancy["nights"]):
        available = rooms - (1 if i == 3 else 0)
        assert night["night"] == days(hotel, i, i + 1)["check_in"]
        assert (night["rooms_available"], night["rooms_sold"]) == (available, sold[i])
        assert night["room_revenue"] == price[i]
        assert night["occupancy"] == round(sold[i] / available, 4)
        assert night["adr"] == round(price[i] / sold[i])
        assert abs(night["revpar"] - price[i] / available) <= 0.5
    period = occupancy["period"]
    assert period["rooms_sold"] == 5 and period["room_revenue"] == sum(price.values())
    assert period["rooms_available"] == 4 * rooms - 1
    assert period["adr"] == round(sum(price.values()) / 5)
    assert occupancy["currency"] == a["currency"]

    # The day of night 2: C arrives, B's departure does not count (cancelled), A and C stay.
    day = await get(hotel, "day", date=days(hotel, 2, 3)["check_in"])
    assert day["arrivals"] == {"expected": 1, "arrived": 0, "no_show": 0}
    assert day["departures"] == {"expected": 0, "departed": 0}
    assert day["in_house"] == {"rooms": 2, "guests": a["guests"] + c["guests"], "checked_in": 0}
    leaving = await get(hotel, "day", date=days(hotel, 3, 4)["check_in"])
    assert leaving["departures"]["expected"] == 1  # A

    # Pickup: everything was booked today (property time).
    pickup = await get(hotel, "pickup", **window(hotel, 0, 4))
    assert pickup["days"] == [
        {
            "booked_on": hotel_today().isoformat(),
            "bookings": 4,
            "sold": 2,
            "cancelled": 1,
            "room_nights": 5,
            "room_revenue": sum(price.values()),
        }
    ]
    assert (await get(hotel, "pickup", **window(hotel, 20, 30)))["days"] == []

    # Channel mix: the one channel these bookings were made on.
    mix = await get(hotel, "channel-mix", **window(hotel, 0, 4))
    assert mix["channels"] == [
        {
            "channel": a["channel"],
            "bookings": 2,
            "room_nights": 5,
            "room_revenue": sum(price.values()),
            "share": 1.0,
        }
    ]

    # Cancellations: 3 confirmed, 1 cancelled, no no-show; the request is not counted.
    cancellations = await get(hotel, "cancellations", **window(hotel, 0, 4))
    assert cancellations | {"property_id": 0} == {
        "property_id": 0,
        "confirmed_bookings": 3,
        "cancelled": 1,
        "no_show": 0,
        "cancellation_rate": round(1 / 3, 4),
        "no_show_rate": 0.0,
        "requests_cancelled": 0,
        "requests_expired": 0,
    }

    # Lead time and length of stay of A (3 nights) and C (2 nights).
    patterns = await get(hotel, "stay-patterns", **window(hotel, 0, 4))
    leads = [(date.fromisoformat(r["check_in"]) - hotel_today()).days for r in (a, c)]
    assert patterns["bookings"] == 2
    assert patterns["average_length_of_stay"] == 2.5
    assert patterns["average_lead_time_days"] == sum(leads) / 2
    assert patterns["length_of_stay"] == [
        {"nights": 2, "bookings": 1},
        {"nights": 3, "bookings": 1},
    ]
    by_bucket = {b["from_days"]: b["bookings"] for b in patterns["lead_time"]}
    assert sum(by_bucket.values()) == 2 and by_bucket[8] == 2  # 10 and 12 days ahead


async def test_analytics_are_for_the_propertys_desk_and_a_bounded_range(hotel: Hotel) -> None:
    params = window(hotel, 0, 2)
    url = "/api/v1/analytics/occupancy"
    assert_problem(
        await hotel.client.get(url, params=params, headers=HOUSEKEEPING), 403, "forbidden"
    )
    assert_problem(await hotel.client.get(url, params=params, headers=ELSEWHERE), 403, "forbidden")
    backwards = {"from": params["to"], "to": params["from"]}
    assert_problem(await hotel.client.get(url, params=backwards), 422, "to_not_after_from")
    start = date.fromisoformat(params["from"])
    long = {"from": params["from"], "to": (start + timedelta(days=400)).isoformat()}
    assert_problem(await hotel.client.get(url, params=long), 422, "range_too_long")
    assert_problem(
        await hotel.client.get(url, params={**params, "property_id": 999}), 422, "unknown_property"
    )
    empty = await get(hotel, "channel-mix", **window(hotel, 100, 101))
    assert empty["channels"] == []
    rates = await get(hotel, "cancellations", **window(hotel, 100, 101))
    assert (rates["cancellation_rate"], rates["no_show_rate"]) == (0.0, 0.0)
    patterns = await get(hotel, "stay-patterns", **window(hotel, 100, 101))
    assert patterns["bookings"] == 0 and patterns["average_length_of_stay"] == 0.0
