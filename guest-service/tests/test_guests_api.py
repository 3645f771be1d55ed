"""The front desk's profile API: create, change, find, page; bad input writes nothing."""

from pathlib import Path
from typing import Any

import pytest
from guest_service.main import create_app
from hotel_common.events.memory import InMemoryBroker
from hotel_common.pagination import encode_cursor
from hotel_common.testing import assert_problem, running

from .conftest import GuestService, sqlite_settings

EMILY = {"name": "Emily Carter", "email": "emily.carter@example.com", "phone": "+447700900123"}


async def test_front_desk_creates_a_normalised_profile(service: GuestService) -> None:
    created = await service.create(
        name="  Emily Carter ",
        email=" Emily.Carter@Example.com",
        phone="+44 (7700) 900-123",
        language="en",
    )

    contacts = created.pop("contacts")
    assert created | {"id": "", "created_at": "", "updated_at": ""} == {
        "id": "",
        "name": "Emily Carter",
        "email": "emily.carter@example.com",
        "phone": "+447700900123",
        "language": "en",
        "native_name": None,
        "latin_name": None,
        "gender": None,
        "birth_date": None,
        "nationality": None,
        "address": None,
        "company": None,
        "document_type": None,
        "document_number": None,
        "document_expiry": None,
        "vip_level": 0,
        "tags": [],
        "preferences": {},
        "notes": None,
        "referrer_id": None,
        "source": "front_desk",
        "status": "active",
        "merged_into_id": None,
        "version": 1,
        "created_at": "",
        "updated_at": "",
    }
    assert [(c["kind"], c["value"], c["is_primary"]) for c in contacts] == [
        ("email", "emily.carter@example.com", True),
        ("phone", "+447700900123", True),
    ]
    assert (await service.guest(created["id"]))["stays"] == []
    assert [g["id"] for g in await service.find(email="EMILY.CARTER@example.com")] == [
        created["id"]
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**EMILY, "email": "not-an-email"}, "body.email"),
        ({**EMILY, "phone": "12ab34567"}, "body.phone"),
        ({**EMILY, "phone": "123"}, "body.phone"),
        ({**EMILY, "phone": "+1234567890123456"}, "body.phone"),
        ({**EMILY, "language": "not a language"}, "body.language"),
        ({**EMILY, "loyalty_tier": "gold"}, "body.loyalty_tier"),
        ({**EMILY, "name": "   "}, "body.name"),
        ({"email": "emily.carter@example.com"}, "body.name"),
        ({"name": "No Contact"}, "body"),
        ({**EMILY, "source": "booking"}, "body.source"),
    ],
)
async def test_bad_profile_input_is_rejected_and_nothing_is_written(
    service: GuestService, body: dict[str, Any], field: str
) -> None:
    response = await service.client.post("/api/v1/guests", json=body)

    problem = assert_problem(response, 422, "validation_error")
    assert field in [e["field"] for e in problem["errors"]]
    assert await service.find() == []


async def test_an_email_already_on_a_profile_is_a_conflict_a_phone_is_shared(
    service: GuestService,
) -> None:
    existing = await service.create(**EMILY)

    same_email = await service.client.post(
        "/api/v1/guests", json={"name": "E. Carter", "email": "EMILY.carter@example.com"}
    )
    # An agency's call-centre number may be on many guests' bookings: a phone names no one.
    same_phone = await service.client.post(
        "/api/v1/guests",
        json={"name": "Other Person", "email": "other@example.com", "phone": "0044 7700 900 123"},
    )

    assert assert_problem(same_email, 409, "guest_exists")["guest_id"] == existing["id"]
    assert same_phone.status_code == 201, same_phone.text
    assert {g["id"] for g in await service.find(phone="+447700900123")} == {
        existing["id"],
        same_phone.json()["id"],
    }


async def test_a_retried_create_with_the_same_idempotency_key_creates_one_profile(
    service: GuestService,
) -> None:
    headers = {"Idempotency-Key": "desk-7-0001"}
    first = await service.client.post("/api/v1/guests", json=EMILY, headers=headers)
    again = await service.client.post("/api/v1/guests", json=EMILY, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert len(await service.find()) == 1


async def test_a_guest_changes_name_phone_and_language(service: GuestService) -> None:
    guest = await service.create(**EMILY, language="en")

    response = await service.client.patch(
        f"/api/v1/guests/{guest['id']}",
        json={"name": "Emily Carter-Li", "phone": "+86 138 1111 2222", "language": "zh-Hans"},
    )

    assert response.status_code == 200, response.text
    shown = await service.guest(guest["id"])
    assert (shown["name"], shown["phone"], shown["language"]) == (
        "Emily Carter-Li",
        "+8613811112222",
        "zh-Hans",
    )
    assert shown["email"] == EMILY["email"]
    assert shown["updated_at"] > guest["updated_at"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"phone": "call me"}, 422, "validation_error"),
        ({"language": "de_DE_x!"}, 422, "validation_error"),
        ({"name": None}, 422, "validation_error"),
        ({"name": ""}, 422, "validation_error"),
        ({"email": "new@example.com"}, 422, "validation_error"),
        ({"vip_level": None}, 422, "validation_error"),
        ({"birth_date": "2999-01-01"}, 422, "validation_error"),
        ({"referrer_id": "nobody"}, 422, "referrer_not_found"),
        ({"document_number": "E1234567"}, 422, "document_type_required"),
    ],
)
async def test_a_bad_change_is_rejected_and_changes_nothing(
    service: GuestService, body: dict[str, Any], status: int, code: str
) -> None:
    guest = await service.create(**EMILY, language="en")

    response = await service.client.patch(f"/api/v1/guests/{guest['id']}", json=body)

    assert_problem(response, status, code)
    shown = await service.guest(guest["id"])
    assert {k: shown[k] for k in guest} == guest


async def test_a_profile_without_email_keeps_its_phone(service: GuestService) -> None:
    guest = await service.create(name="Walk In", phone="+8613700000000")

    response = await service.client.patch(f"/api/v1/guests/{guest['id']}", json={"phone": None})

    assert_problem(response, 422, "contact_required")
    assert (await service.guest(guest["id"]))["phone"] == "+8613700000000"


async def test_an_unknown_guest_is_404(service: GuestService) -> None:
    for response in (
        await service.client.get("/api/v1/guests/nobody"),
        await service.client.patch("/api/v1/guests/nobody", json={"name": "X"}),
    ):
        assert_problem(response, 404, "guest_not_found")


async def test_guests_are_listed_newest_first_in_pages_and_filtered(service: GuestService) -> None:
    names = ["Emily Carter", "Carter Jones", "Li Wei", "Wang Fang", "Sam 100% Real"]
    ids = [
        (await service.create(name=n, email=f"g{i}@example.com", phone=f"+86138000000{i:02d}"))[
            "id"
        ]
        for i, n in enumerate(names)
    ]

    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await service.client.get("/api/v1/guests", params=params)).json()
        assert len(page["items"]) <= 2
        seen += [g["id"] for g in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == ids[::-1]

    assert {g["name"] for g in await service.find(name="cARTER")} == {
        "Emily Carter",
        "Carter Jones",
    }
    assert [g["name"] for g in await service.find(name="0%")] == ["Sam 100% Real"]
    assert await service.find(name="_") == []
    assert [g["id"] for g in await service.find(phone="+86 138-0000-0003")] == [ids[3]]
    assert [g["id"] for g in await service.find(name="li", email="G2@example.com")] == [ids[2]]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"cursor": "not-a-cursor"}, 400, "invalid_cursor"),
        ({"cursor": encode_cursor("2026-01-01T00:00:00|some-id")}, 400, "invalid_cursor"),
        ({"cursor": encode_cursor("yesterday|some-id")}, 400, "invalid_cursor"),
        ({"limit": 0}, 422, "validation_error"),
        ({"limit": 201}, 422, "validation_error"),
    ],
)
async def test_bad_list_parameters_are_problems(
    service: GuestService, params: dict[str, Any], status: int, code: str
) -> None:
    assert_problem(await service.client.get("/api/v1/guests", params=params), status, code)


async def test_a_cursor_is_bound_to_its_filters_and_unknown_filters_are_refused(
    service: GuestService,
) -> None:
    for i in range(3):
        await service.create(name=f"Carter {i}", email=f"c{i}@example.com")
    first = (
        await service.client.get("/api/v1/guests", params={"limit": 1, "name": "carter"})
    ).json()
    cursor = first["next_cursor"]
    same = await service.client.get(
        "/api/v1/guests", params={"name": "carter", "limit": 1, "cursor": cursor}
    )
    assert same.status_code == 200 and same.json()["items"][0]["id"] != first["items"][0]["id"]
    for params in ({}, {"name": "other"}, {"email": "c1@example.com"}):
        other = await service.client.get("/api/v1/guests", params={**params, "cursor": cursor})
        assert_problem(other, 400, "invalid_cursor")

    unknown = await service.client.get("/api/v1/guests", params={"surname": "Carter", "vip": "1"})
    fields = {e["field"] for e in assert_problem(unknown, 422, "validation_error")["errors"]}
    assert fields == {"query.surname", "query.vip"}


async def test_demo_seed_adds_two_known_guests_once(tmp_path: Path) -> None:
    for _ in range(2):  # a restart seeds again
        app = create_app(sqlite_settings(tmp_path, seed_demo=True), broker=InMemoryBroker())
        async with running(app) as client:
            guests = (await client.get("/api/v1/guests")).json()["items"]

    assert sorted(g["language"] for g in guests) == ["en", "zh-Hans"]
    assert {g["email"] for g in guests} == {"wang.fang@example.com", "emily.carter@example.com"}


async def test_demo_seed_adds_the_starting_segments_once(tmp_path: Path) -> None:
    for _ in range(2):  # a restart seeds again
        app = create_app(sqlite_settings(tmp_path, seed_demo=True), broker=InMemoryBroker())
        async with running(app) as client:
            listed = (await client.get("/api/v1/segments")).json()["items"]

    names = sorted(s["name"] for s in listed)
    assert names == ["At risk", "Gold and Diamond members", "Key guests"]
    assert all(s["members"] == 0 for s in listed)  # no stays yet: nobody is valued
