"""Adversarial review (issue 14): hostile input at reservation-service's public API.

Each test states what the API should answer to a hostile or careless client.
"""

import asyncio
import base64
import json
from typing import Any

from hotel_common.testing import assert_problem

from .conftest import Hotel

HUGE = 10**20  # beyond any integer column (int32 on PostgreSQL, int64 on SQLite)


def _forge(scope: str, *position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([scope, *position]).encode()).decode().rstrip("=")


def _opened(cursor: str) -> list[Any]:
    opened: list[Any] = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return opened


async def _status(hotel: Hotel, method: str, url: str, **kwargs: Any) -> int:
    """The answer's status; an exception escaping the app is the 500 a client would get."""
    try:
        response = await hotel.client.request(method, url, **kwargs)
    except Exception:
        return 500
    return response.status_code


async def test_huge_integers_are_refused_not_500(hotel_on_each_db: Hotel) -> None:
    """A whole number the database cannot store is a 422 naming its field, before any write."""
    hotel = hotel_on_each_db
    room_type = {"code": "HUG", "name": "Huge", "capacity": 2, "bed_type": "queen"}
    answers = {
        "room type base_amount": await _status(
            hotel, "POST", "/api/v1/room-types", json={**room_type, "base_amount": HUGE}
        ),
        "booking property_id": await _status(
            hotel, "POST", "/api/v1/reservations", json=hotel.booking(property_id=HUGE)
        ),
        "rooms ?property_id": await _status(
            hotel, "GET", "/api/v1/rooms", params={"property_id": HUGE}
        ),
    }
    assert answers == dict.fromkeys(answers, 422)
    types = await hotel.client.get("/api/v1/room-types")
    assert "HUG" not in {t["code"] for t in types.json()["items"]}


async def test_forged_cursor_positions_are_400_not_500(hotel_on_each_db: Hotel) -> None:
    """A forged position 'only lists from there' (DECISIONS, issue 14): one the database
    cannot even compare must be 400 invalid_cursor, never a 500."""
    hotel = hotel_on_each_db
    for _ in range(2):
        await hotel.book()
    page = await hotel.client.get("/api/v1/reservations", params={"limit": 1})
    scope, _stamp, ident = _opened(page.json()["next_cursor"])
    rooms = await hotel.client.get("/api/v1/rooms", params={"limit": 1})
    room_scope = _opened(rooms.json()["next_cursor"])[0]
    forged = {
        "instant past year 9999 in UTC": (
            "/api/v1/reservations",
            _forge(scope, "9999-12-31T23:00:00-05:00", ident),
        ),
        "instant before year 1 in UTC": (
            "/api/v1/reservations",
            _forge(scope, "0001-01-01T00:00:00+05:00", ident),
        ),
        "NUL in a text position": (
            "/api/v1/reservations",
            _forge(scope, "2030-01-01T00:00:00+00:00", "a\u0000b"),
        ),
        "integer beyond the column": ("/api/v1/rooms", _forge(room_scope, HUGE)),
    }
    answers = {
        label: await _status(hotel, "GET", url, params={"limit": 1, "cursor": cursor})
        for label, (url, cursor) in forged.items()
    }
    assert answers == dict.fromkeys(forged, 400)


async def test_a_repeated_scalar_query_parameter_is_refused(hotel: Hotel) -> None:
    """Strict input: a second value of a one-value filter is not silently dropped."""
    response = await hotel.client.get(
        "/api/v1/reservations", params=[("status", "confirmed"), ("status", "cancelled")]
    )
    assert_problem(response, 422, "validation_error")
    assert "query.status" in response.text


async def test_a_language_tag_is_ascii(hotel: Hotel) -> None:
    """U+017F (long s) and U+0130 (capital I with dot) match [a-z]
    under re.IGNORECASE; a BCP-47 tag is ASCII only."""
    for language in ("\u017fv", "\u0130t", "en-\u017fe"):
        guest = {"name": "Li Wei", "email": "li.wei@example.com", "language": language}
        response = await hotel.client.post("/api/v1/reservations", json=hotel.booking(guest=guest))
        assert_problem(response, 422, "validation_error")
    assert await hotel.reservations() == []


async def test_one_key_two_bodies_at_once(hotel_on_each_db: Hotel) -> None:
    """Two clients send one Idempotency-Key with different bodies at the same moment: one
    booking is made, the other request is told the key was used for another request."""
    hotel = hotel_on_each_db
    headers = {"Idempotency-Key": "shared-key-1"}
    bodies = [hotel.booking(guests=1), hotel.booking(guests=2)]
    answers = await asyncio.gather(
        *(hotel.client.post("/api/v1/reservations", json=b, headers=headers) for b in bodies)
    )
    assert sorted(a.status_code for a in answers) == [201, 422], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 422)
    assert_problem(refused, 422, "idempotency_key_reused")
    assert len(await hotel.reservations()) == 1


async def test_retry_after_a_500_runs_for_real(hotel_on_each_db: Hotel) -> None:
    """The first attempt fails with a 500 (an integer the database refuses); the retry under
    the same key, with the same body, is not answered from a stored 500 and writes nothing."""
    hotel = hotel_on_each_db
    headers = {"Idempotency-Key": "retry-after-500"}
    body = hotel.booking(property_id=HUGE)
    for _ in range(2):
        status = await _status(hotel, "POST", "/api/v1/reservations", json=body, headers=headers)
        assert status in (422, 500)
    assert await hotel.reservations() == []
    # The key was not kept by the failed attempts: a corrected request needs a new key only
    # if an answer was stored; a 5xx stores none, so the same key now books.
    if status == 500:
        fixed = await hotel.client.post(
            "/api/v1/reservations", json=hotel.booking(), headers=headers
        )
        assert fixed.status_code == 201, fixed.text


async def test_a_key_reused_on_another_endpoint_is_another_key(hotel_on_each_db: Hotel) -> None:
    """Keys are scoped by caller, method and path: the confirm runs, the booking is not
    created twice, and a retry of each replays its own answer."""
    hotel = hotel_on_each_db
    headers = {"Idempotency-Key": "cross-endpoint"}
    made = await hotel.client.post("/api/v1/reservations", json=hotel.booking(), headers=headers)
    assert made.status_code == 201, made.text
    confirm = await hotel.client.post(
        f"/api/v1/reservations/{made.json()['id']}/confirm", headers=headers
    )
    assert confirm.status_code == 200, confirm.text
    assert (await hotel.reservation(made.json()["id"]))["status"] == "confirmed"
    again = await hotel.client.post("/api/v1/reservations", json=hotel.booking(), headers=headers)
    assert (
        again.headers["idempotent-replayed"] == "true" and again.json()["id"] == made.json()["id"]
    )
    assert len(await hotel.reservations()) == 1
