"""Taking booking requests: pricing, validation, idempotent retries, finding them again."""

import re
from datetime import date, timedelta

import pytest

PROBLEM = "application/problem+json"


async def test_a_request_is_priced_numbered_and_can_be_read_back(hotel):
    response = await hotel.client.post(
        "/api/v1/reservations",
        json=hotel.booking(
            room_type_code="bus",
            special_requests="High floor, away from the lift",
            transfer={
                "flight_number": "mu 5101",
                "arrival_time": f"{hotel.stay[0]}T18:30:00+08:00",
                "pickup_place": "Shanghai Pudong International Airport T1",
                "luggage": 3,
            },
        ),
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/api/v1/reservations/{created['id']}"
    assert re.fullmatch(r"HV[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}", created["confirmation_number"])
    assert created["status"] == "requested"
    assert (created["room_type_code"], created["nights"], created["guests"]) == ("BUS", 3, 2)
    assert (created["nightly_amount"], created["total_amount"], created["currency"]) == (
        68800,
        3 * 68800,
        "CNY",
    )
    assert created["guest"] == {
        "name": "Li Wei",
        "email": "li.wei@example.com",
        "phone": "+8613800138000",
        "language": "zh-Hans",
    }
    assert created["transfer"] == {
        "flight_number": "MU5101",
        "arrival_time": f"{hotel.stay[0]}T10:30:00Z",
        "pickup_place": "Shanghai Pudong International Airport T1",
        "passengers": 2,  # defaults to the booking's guests
        "luggage": 3,
        # issue 18: the party's needs, none asked
        **dict.fromkeys(
            ("transport", "child_seats", "wheelchair", "language", "sign_name", "notes"), None
        ),
        "share_ok": None,
    }
    assert created["departure"] is None and created["transfers_included"] is False
    assert created["channel"] == "front_desk"  # TEST_ADMIN: staff, booking at the desk
    assert created["confirmed_at"] is None

    token = created.pop("access_token")  # shown in the create answer only
    assert token.startswith("bk_")
    assert await hotel.reservation(created["id"]) == created


async def test_unknown_booking_is_404_problem(hotel):
    response = await hotel.client.get("/api/v1/reservations/no-such-id")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "reservation_not_found"
    for action in ("confirm", "cancel"):
        response = await hotel.client.post(f"/api/v1/reservations/no-such-id/{action}")
        assert response.status_code == 404


def _past(hotel) -> str:
    return (date.fromisoformat(hotel.stay[0]) - timedelta(days=11)).isoformat()


def _days_after_check_in(hotel, days: int) -> str:
    return (date.fromisoformat(hotel.stay[0]) + timedelta(days=days)).isoformat()


BAD_INPUTS = {
    "unknown room type": (
        lambda h: {"room_type_code": "PENT"},
        "unknown_room_type",
        "body.room_type_code",
    ),
    "too many guests": (
        lambda h: {"room_type_code": "KNG", "guests": 3},
        "too_many_guests",
        "body.guests",
    ),
    "check-out before check-in": (
        lambda h: {"check_out": h.stay[0], "check_in": h.stay[1]},
        "check_out_not_after_check_in",
        "body.check_out",
    ),
    "zero nights": (
        lambda h: {"check_out": h.stay[0]},
        "check_out_not_after_check_in",
        "body.check_out",
    ),
    "stay over 30 nights": (
        lambda h: {"check_out": _days_after_check_in(h, 31)},
        "stay_too_long",
        "body.check_out",
    ),
    "arrival in the past": (lambda h: {"check_in": _past(h)}, "check_in_in_past", "body.check_in"),
    "malformed email": (
        lambda h: {"guest": {**h.booking()["guest"], "email": "li.wei-at-example"}},
        "validation_error",
        "body.guest.email",
    ),
    "malformed phone": (
        lambda h: {"guest": {**h.booking()["guest"], "phone": "138 0013"}},
        "validation_error",
        "body.guest.phone",
    ),
    "malformed language": (
        lambda h: {"guest": {**h.booking()["guest"], "language": "english please"}},
        "validation_error",
        "body.guest.language",
    ),
    "fields the API does not know": (
        lambda h: {"ota_reservation_id": "BKG-1", "rate_plan": "BAR", "children": 1},
        "validation_error",
        "body.ota_reservation_id",
    ),
    "unknown guest field": (
        lambda h: {"guest": {**h.booking()["guest"], "loyalty_number": "X"}},
        "validation_error",
        "body.guest.loyalty_number",
    ),
    "missing guest": (lambda h: {"guest": None}, "validation_error", "body.guest"),
    "zero guests": (lambda h: {"guests": 0}, "validation_error", "body.guests"),
    "transfer without arrival time": (
        lambda h: {"transfer": {"pickup_place": "PVG T2"}},
        "validation_error",
        "body.transfer.arrival_time",
    ),
    "transfer arrival time without offset": (
        lambda h: {"transfer": {"pickup_place": "PVG T2", "arrival_time": "2030-05-01T18:30:00"}},
        "validation_error",
        "body.transfer.arrival_time",
    ),
    "more passengers than guests": (
        lambda h: {
            "transfer": {
                "pickup_place": "PVG T2",
                "arrival_time": f"{h.stay[0]}T18:30:00+08:00",
                "passengers": 3,
            }
        },
        "too_many_passengers",
        "body.transfer.passengers",
    ),
    "negative luggage": (
        lambda h: {
            "transfer": {
                "pickup_place": "PVG T2",
                "arrival_time": "2030-05-01T18:30:00+08:00",
                "luggage": -1,
            }
        },
        "validation_error",
        "body.transfer.luggage",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
async def test_bad_requests_are_problems_and_write_nothing(hotel, case):
    overrides, code, field = case
    body = hotel.booking(**overrides(hotel))
    body = {k: v for k, v in body.items() if v is not None}
    response = await hotel.client.post("/api/v1/reservations", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == code
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await hotel.reservations() == []


async def test_a_body_that_is_not_json_is_a_problem(hotel):
    response = await hotel.client.post(
        "/api/v1/reservations", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert await hotel.reservations() == []


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_booking(hotel):
    body, headers = hotel.booking(), {"Idempotency-Key": "ota-booking-42"}
    first = await hotel.client.post("/api/v1/reservations", json=body, headers=headers)
    again = await hotel.client.post("/api/v1/reservations", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert [b["id"] for b in await hotel.reservations()] == [first.json()["id"]]

    other_body = hotel.booking(guests=1)
    reused = await hotel.client.post("/api/v1/reservations", json=other_body, headers=headers)
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    assert len(await hotel.reservations()) == 1


async def test_bookings_are_listed_newest_first_with_filters_and_paging(hotel):
    later = _days_after_check_in(hotel, 20)
    made = [
        await hotel.book(),
        await hotel.book(
            guest={"name": "Anna Chen", "email": "anna@example.com", "language": "en"}
        ),
        await hotel.book(check_in=later, check_out=_days_after_check_in(hotel, 22)),
    ]
    await hotel.confirm(made[0]["id"])

    listed = await hotel.reservations()
    assert [b["id"] for b in listed] == [b["id"] for b in reversed(made)]

    pages, params = [], {"limit": 2}
    while True:
        page = (await hotel.client.get("/api/v1/reservations", params=params)).json()
        pages.append([b["id"] for b in page["items"]])
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert pages == [[made[2]["id"], made[1]["id"]], [made[0]["id"]]]

    def ids(found):
        return {b["id"] for b in found}

    assert ids(await hotel.reservations(status="confirmed")) == {made[0]["id"]}
    assert ids(await hotel.reservations(email="ANNA@example.com")) == {made[1]["id"]}
    number = made[2]["confirmation_number"]
    assert ids(await hotel.reservations(confirmation_number=number.lower())) == {made[2]["id"]}
    assert ids(await hotel.reservations(check_in_from=later)) == {made[2]["id"]}
    assert ids(await hotel.reservations(check_in_to=hotel.stay[0])) == {
        made[0]["id"],
        made[1]["id"],
    }


async def test_unknown_query_parameters_are_refused_naming_them(hotel):
    await hotel.book()
    for path, params in [
        ("/api/v1/reservations", {"channel": "ota", "check_out_from": "2030-01-01"}),
        ("/api/v1/availability", {"room_type": "KNG"}),
        ("/api/v1/rooms", {"floor": "2"}),
    ]:
        response = await hotel.client.get(path, params=params)
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == PROBLEM
        named = {e["field"] for e in response.json()["errors"]}
        assert named >= {f"query.{name}" for name in params}
    refused = await hotel.client.post(
        "/api/v1/reservations", params={"dry_run": "1"}, json=hotel.booking()
    )
    assert refused.status_code == 422
    assert len(await hotel.reservations()) == 1  # nothing written on a 422


async def test_a_cursor_is_bound_to_its_list_and_filters(hotel):
    for _ in range(3):
        await hotel.book()
    first = await hotel.client.get(
        "/api/v1/reservations", params={"limit": 1, "status": "requested"}
    )
    cursor = first.json()["next_cursor"]
    assert cursor is not None
    second = await hotel.client.get(
        "/api/v1/reservations", params={"limit": 1, "status": "requested", "cursor": cursor}
    )
    assert second.status_code == 200
    assert second.json()["items"][0]["id"] != first.json()["items"][0]["id"]
    for path, params in [
        ("/api/v1/reservations", {}),
        ("/api/v1/reservations", {"status": "confirmed"}),
        ("/api/v1/rooms", {}),
        ("/api/v1/properties", {}),
    ]:
        response = await hotel.client.get(path, params={**params, "cursor": cursor})
        assert response.status_code == 400, (path, params)
        assert response.json()["code"] == "invalid_cursor"
