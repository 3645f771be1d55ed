"""The profile's fields as the front desk records them: names in two scripts, gender, birth date,
nationality, address, company, ID document, VIP level, tags, preferences, notes, referrer. Each
validated (bad input: 422, nothing written); the document found by number, whatever its
spacing; a merged or erased profile is not changed."""

from datetime import date, timedelta
from typing import Any

import pytest
from hotel_common.testing import assert_problem

from .conftest import GuestService

NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()
WANG = {
    "name": "Wang Fang",
    "native_name": "王芳",
    "latin_name": "WANG FANG",
    "gender": "female",
    "birth_date": "1988-03-14",
    "nationality": "cn",
    "email": "wang.fang@example.com",
    "phone": "+86 138 0013 8000",
    "language": "zh-Hans",
    "address": "88 Century Avenue\nPudong, Shanghai",
    "company": "Lujiazui Trading Co.",
    "document_type": "national_id",
    "document_number": "3101 0119 8803 14123X",
    "document_expiry": NEXT_YEAR,
    "vip_level": 2,
    "tags": ["Business", "business", "late-arrival"],
    "preferences": {
        "room": "quiet, away from the lift",
        "floor": "high",
        "pillow": "firm",
        "dietary": ["no_pork", "no_pork"],
        "transfer_vehicle": "business",
    },
    "notes": "Allergic to feathers.\nPrefers green tea.",
}


async def test_the_desk_records_every_field_of_the_profile(service: GuestService) -> None:
    created = await service.create(**WANG)

    shown = await service.guest(created["id"])
    assert {k: shown[k] for k in WANG} == WANG | {
        "phone": "+8613800138000",
        "document_number": "**************123X",  # the last four characters only
        "nationality": "CN",
        "tags": ["business", "late-arrival"],
        "preferences": WANG["preferences"] | {"dietary": ["no_pork"]},
    }
    found = await service.find(document="310101-198803-14123x")
    assert [g["id"] for g in found] == [created["id"]]
    narrowed = await service.find(document="31010119880314123X", document_type="passport")
    assert narrowed == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"nationality": "XX"}, "body.nationality"),
        ({"nationality": "CHN"}, "body.nationality"),
        ({"birth_date": (date.today() + timedelta(days=2)).isoformat()}, "body.birth_date"),
        ({"birth_date": "1850-01-01"}, "body.birth_date"),
        ({"gender": "unknown"}, "body.gender"),
        (
            {"document_expiry": (date.today() - timedelta(days=1)).isoformat()},
            "body.document_expiry",
        ),
        ({"document_number": "12"}, "body.document_number"),
        ({"document_type": "library_card"}, "body.document_type"),
        ({"vip_level": 6}, "body.vip_level"),
        ({"vip_level": -1}, "body.vip_level"),
        ({"tags": [f"t{i}" for i in range(31)]}, "body.tags"),
        ({"tags": [""]}, "body.tags.0"),
        ({"preferences": {"pillow": "rock"}}, "body.preferences.pillow"),
        ({"preferences": {"minibar": "empty"}}, "body.preferences.minibar"),
        ({"preferences": {"transfer_vehicle": "helicopter"}}, "body.preferences.transfer_vehicle"),
        ({"preferences": {"dietary": ["carnivore"]}}, "body.preferences.dietary.0"),
        ({"name": "Wang\u0000Fang"}, "body.name"),
        ({"notes": "x" * 4001}, "body.notes"),
    ],
)
async def test_a_bad_field_is_refused_and_nothing_is_written(
    service: GuestService, change: dict[str, Any], field: str
) -> None:
    response = await service.client.post("/api/v1/guests", json=WANG | change)

    problem = assert_problem(response, 422, "validation_error")
    assert field in [e["field"] for e in problem["errors"]], problem
    assert await service.find() == []


async def test_a_document_number_needs_its_type(service: GuestService) -> None:
    body = {k: v for k, v in WANG.items() if k != "document_type"}
    response = await service.client.post("/api/v1/guests", json=body)
    assert_problem(response, 422, "validation_error")
    assert await service.find() == []


async def test_the_referrer_is_an_active_profile(service: GuestService) -> None:
    referrer = await service.create(name="Li Wei", email="li.wei@example.com")

    unknown = await service.client.post("/api/v1/guests", json=WANG | {"referrer_id": "nobody"})
    assert_problem(unknown, 422, "referrer_not_found")
    assert [g["id"] for g in await service.find()] == [referrer["id"]]

    referred = await service.create(**WANG, referrer_id=referrer["id"])
    assert referred["referrer_id"] == referrer["id"]
    itself = await service.client.patch(
        f"/api/v1/guests/{referred['id']}", json={"referrer_id": referred["id"]}
    )
    assert_problem(itself, 422, "referrer_is_self")


async def test_changes_apply_what_was_sent_and_null_clears(service: GuestService) -> None:
    guest = await service.create(**WANG)

    response = await service.client.patch(
        f"/api/v1/guests/{guest['id']}",
        json={
            "company": None,
            "tags": ["vip"],
            "preferences": {"pillow": "soft"},
            "document_type": "passport",
            "document_number": "E 1234 5678",
        },
    )

    assert response.status_code == 200, response.text
    shown = await service.guest(guest["id"])
    assert shown["company"] is None and shown["tags"] == ["vip"]
    assert shown["preferences"] == {"pillow": "soft"}
    assert shown["address"] == WANG["address"]  # not sent, not changed
    # The document is found by its new number only.
    assert [g["id"] for g in await service.find(document="E12345678")] == [guest["id"]]
    assert await service.find(document="31010119880314123X") == []

    cleared = await service.client.patch(
        f"/api/v1/guests/{guest['id']}", json={"document_type": None}
    )
    assert cleared.status_code == 200
    assert (cleared.json()["document_number"], cleared.json()["document_expiry"]) == (None, None)
    assert await service.find(document="E12345678") == []


async def test_a_document_filter_that_is_no_number_finds_nothing(service: GuestService) -> None:
    await service.create(**WANG)
    assert await service.find(document="??") == []
