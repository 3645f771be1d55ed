"""Issue 21: a partner's own room type and rate plan codes, mapped to the hotel's per property.

Staff put a partner's mapping; the partner then books, quotes and modifies with its codes; an
unmapped code is refused naming it, with nothing written; a partner without a mapping uses the
hotel's codes as before."""

import asyncio
from typing import Any

import pytest
from hotel_common.events.envelope import Envelope
from hotel_common.principal import ApiScope, Kind, Principal, Role
from hotel_common.settings import DEV_INTERNAL_SECRET
from hotel_common.testing import Probe, assert_problem, principal_headers

MAPPINGS = "/api/v1/partner-mappings"
PARTNER_A = Principal(
    id="partner:7",
    kind=Kind.PARTNER,
    channel="ota_a",
    scopes=frozenset({ApiScope.RESERVATIONS_READ, ApiScope.RESERVATIONS_WRITE}),
)
PARTNER_B = Principal(
    id="partner:8",
    kind=Kind.PARTNER,
    channel="ota_b",
    scopes=frozenset({ApiScope.RESERVATIONS_READ, ApiScope.RESERVATIONS_WRITE}),
)
MAPPING = {
    "room_types": {"DBL-SEA": "KNG", "twn.std": "std"},
    "rate_plans": {"RO": "BASE", "NRF-14": "NR"},
}


def staff(*roles: Role, properties: frozenset[int] | None = None) -> Principal:
    return Principal(
        id=f"staff:{'-'.join(roles)}",
        kind=Kind.STAFF,
        roles=frozenset(roles),
        properties=properties,
    )


def rooms(hotel: Any, *lines: dict[str, Any]) -> dict[str, Any]:
    """A booking of several rooms (no top-level room type or party)."""
    body: dict[str, Any] = hotel.booking(rooms=list(lines))
    del body["room_type_code"], body["guests"]
    return body


def as_(principal: Principal) -> dict[str, str]:
    return principal_headers(principal, DEV_INTERNAL_SECRET)


async def mapped(hotel: Any, partner: str = "7", body: dict[str, Any] | None = None) -> Any:
    """The demo hotel with a non-refundable plan on KNG, and partner `partner` mapped."""
    plan = await hotel.client.post(
        "/api/v1/rate-plans",
        json={
            "room_type_code": "KNG",
            "code": "NR",
            "name": "Non-refundable",
            "parent_code": "BASE",
            "discount_bp": 1000,
        },
    )
    assert plan.status_code in (201, 409), plan.text
    put = await hotel.client.put(f"{MAPPINGS}/{partner}/properties/1", json=body or MAPPING)
    assert put.status_code == 200, put.text
    return put.json()


async def test_staff_put_a_mapping_and_the_partner_reads_its_own_only(hotel):
    made = await mapped(hotel)
    assert made["room_types"] == {"DBL-SEA": "KNG", "TWN.STD": "STD"}  # case-insensitive
    assert made["rate_plans"] == {"RO": "BASE", "NRF-14": "NR"}
    assert (made["partner_id"], made["property_id"], made["version"]) == ("7", 1, 1)
    await mapped(hotel, partner="8", body={"room_types": {"K": "KNG"}})

    # The same mapping again is no change: same version.
    again = await hotel.client.put(f"{MAPPINGS}/7/properties/1", json=MAPPING)
    assert again.json()["version"] == 1

    everyone = await hotel.client.get(MAPPINGS)
    assert {m["partner_id"] for m in everyone.json()["items"]} == {"7", "8"}
    only_8 = await hotel.client.get(MAPPINGS, params={"partner_id": "8"})
    assert [m["partner_id"] for m in only_8.json()["items"]] == ["8"]

    own = await hotel.client.get(MAPPINGS, headers=as_(PARTNER_A))
    assert [m["partner_id"] for m in own.json()["items"]] == ["7"]
    others = await hotel.client.get(MAPPINGS, params={"partner_id": "8"}, headers=as_(PARTNER_A))
    assert others.json()["items"] == []

    # A manager elsewhere neither changes nor sees this property's mappings.
    elsewhere = staff(Role.MANAGER, properties=frozenset({999}))
    refused = await hotel.client.put(
        f"{MAPPINGS}/7/properties/1", json=MAPPING, headers=as_(elsewhere)
    )
    assert_problem(refused, 403, "forbidden")
    gone = await hotel.client.delete(f"{MAPPINGS}/7/properties/1", headers=as_(elsewhere))
    assert_problem(gone, 403, "forbidden")
    listed = await hotel.client.get(MAPPINGS, headers=as_(elsewhere))
    assert listed.json()["items"] == []
    here = staff(Role.MANAGER, properties=frozenset({1}))
    ok = await hotel.client.put(
        f"{MAPPINGS}/7/properties/1", json={"room_types": {"DBL-SEA": "KNG"}}, headers=as_(here)
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2

    # Partners and desk staff other than managers do not change mappings.
    for who in (PARTNER_A, staff(Role.FRONT_DESK), staff(Role.RESERVATIONS)):
        put = await hotel.client.put(f"{MAPPINGS}/7/properties/1", json=MAPPING, headers=as_(who))
        assert_problem(put, 403, "forbidden")
    for who in (staff(Role.HOUSEKEEPING), staff(Role.MARKETING)):
        assert_problem(await hotel.client.get(MAPPINGS, headers=as_(who)), 403, "forbidden")

    missing = await hotel.client.put(f"{MAPPINGS}/7/properties/42", json=MAPPING)
    assert_problem(missing, 404, "property_not_found")


async def test_an_unknown_hotel_code_is_refused_naming_it(hotel):
    body = {"room_types": {"DBL-SEA": "KNG", "PENT": "PENTHOUSE"}, "rate_plans": {"X": "NOPE"}}
    refused = await hotel.client.put(f"{MAPPINGS}/7/properties/1", json=body)
    problem = assert_problem(refused, 422, "unknown_hotel_code")
    assert "PENTHOUSE" in problem["detail"] and "NOPE" in problem["detail"]
    assert {e["field"] for e in problem["errors"]} == {
        "body.room_types.PENT",
        "body.rate_plans.X",
    }
    assert (await hotel.client.get(MAPPINGS)).json()["items"] == []
    assert "partner.mapping_changed" not in {e.type for e in await hotel.published()}


async def test_every_change_announces_the_whole_mapping_with_its_version(hotel, broker):
    probe = Probe(broker, {"partner.mapping_changed"})
    await mapped(hotel)
    await hotel.client.put(f"{MAPPINGS}/7/properties/1", json=MAPPING)  # no change
    deleted = await hotel.client.delete(f"{MAPPINGS}/7/properties/1")
    assert deleted.status_code == 204
    await hotel.client.delete(f"{MAPPINGS}/7/properties/1")  # none left: no change
    await hotel.published()
    events: list[Envelope] = probe.events("partner.mapping_changed")
    assert [e.aggregate_version for e in events] == [1, 2]
    first, last = (e.payload for e in events)
    assert first == {
        "mapping_key": "7:1",
        "partner_id": "7",
        "property_id": 1,
        "room_types": {"DBL-SEA": "KNG", "TWN.STD": "STD"},
        "rate_plans": {"RO": "BASE", "NRF-14": "NR"},
    }
    assert (last["room_types"], last["rate_plans"]) == ({}, {})
    assert (await hotel.client.get(MAPPINGS)).json()["items"] == []
    # Put back: the version goes on growing.
    again = await mapped(hotel)
    assert again["version"] == 3


async def test_a_mapped_partner_books_quotes_and_modifies_with_its_codes(hotel_on_each_db):
    hotel = hotel_on_each_db
    await mapped(hotel)
    partner = as_(PARTNER_A)
    quote = await hotel.client.post(
        "/api/v1/quotes",
        json={
            "room_type_code": "dbl-sea",
            "rate_plan_code": "NRF-14",
            "check_in": hotel.stay[0],
            "check_out": hotel.stay[1],
            "adults": 2,
        },
        headers=partner,
    )
    assert quote.status_code == 200, quote.text
    assert (quote.json()["room_type_code"], quote.json()["rate_plan_code"]) == ("KNG", "NR")

    made = await hotel.client.post(
        "/api/v1/reservations",
        json=hotel.booking(room_type_code="DBL-SEA", rate_plan_code="NRF-14"),
        headers=partner,
    )
    assert made.status_code == 201, made.text
    booking = made.json()
    assert (booking["room_type_code"], booking["rate_plan_code"]) == ("KNG", "NR")
    assert booking["total_amount"] == quote.json()["total_amount"]

    several = await hotel.client.post(
        "/api/v1/reservations",
        json=rooms(
            hotel,
            {"room_type_code": "DBL-SEA", "rate_plan_code": "RO", "adults": 2},
            {"room_type_code": "TWN.STD", "adults": 1},
        ),
        headers=partner,
    )
    assert several.status_code == 201, several.text
    assert [
        (line["room_type_code"], line["rate_plan_code"]) for line in several.json()["lines"]
    ] == [
        ("KNG", "BASE"),
        ("STD", "BASE"),
    ]

    moved = await hotel.client.patch(
        f"/api/v1/reservations/{booking['id']}",
        json={"room_type_code": "TWN.STD", "rate_plan_code": "RO"},
        headers=partner,
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["room_type_code"], moved.json()["rate_plan_code"]) == ("STD", "BASE")

    # The hotel's own codes are not the partner's: refused once it has a mapping there.
    hotel_code = await hotel.client.post(
        "/api/v1/reservations", json=hotel.booking(room_type_code="KNG"), headers=partner
    )
    assert_problem(hotel_code, 422, "unmapped_code")


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"room_type_code": "DBL-GARDEN"}, "body.room_type_code", "DBL-GARDEN"),
        (
            {"room_type_code": "DBL-SEA", "rate_plan_code": "FLEX"},
            "body.rate_plan_code",
            "FLEX",
        ),
        (
            {
                "rooms": [
                    {"room_type_code": "DBL-SEA", "adults": 1},
                    {"room_type_code": "SUITE-9", "adults": 1},
                ]
            },
            "body.rooms.1.room_type_code",
            "SUITE-9",
        ),
    ],
)
async def test_an_unmapped_code_is_refused_naming_it_and_nothing_is_written(
    hotel, overrides, field, code
):
    await mapped(hotel)
    lines = overrides.pop("rooms", None)
    body = rooms(hotel, *lines) if lines else hotel.booking(**overrides)
    refused = await hotel.client.post("/api/v1/reservations", json=body, headers=as_(PARTNER_A))
    problem = assert_problem(refused, 422, "unmapped_code")
    assert code in problem["detail"] and field in problem["detail"]
    assert "property 1" in problem["detail"]
    assert problem["errors"][0]["field"] == field
    assert await hotel.reservations() == []

    quote = await hotel.client.post(
        "/api/v1/quotes",
        json={
            "room_type_code": "DBL-GARDEN",
            "check_in": hotel.stay[0],
            "check_out": hotel.stay[1],
        },
        headers=as_(PARTNER_A),
    )
    assert_problem(quote, 422, "unmapped_code")


async def test_an_unmapped_code_in_a_modification_changes_nothing(hotel):
    await mapped(hotel)
    made = await hotel.client.post(
        "/api/v1/reservations",
        json=hotel.booking(room_type_code="DBL-SEA"),
        headers=as_(PARTNER_A),
    )
    assert made.status_code == 201, made.text
    refused = await hotel.client.patch(
        f"/api/v1/reservations/{made.json()['id']}",
        json={"room_type_code": "KNG", "guests": 1},
        headers=as_(PARTNER_A),
    )
    problem = assert_problem(refused, 422, "unmapped_code")
    assert "KNG" in problem["detail"]
    after = await hotel.reservation(made.json()["id"])
    assert (after["room_type_code"], after["guests"]) == ("KNG", 2)
    # Staff modify the partner's booking with the hotel's codes: no mapping is theirs.
    staff_move = await hotel.client.patch(
        f"/api/v1/reservations/{made.json()['id']}", json={"room_type_code": "STD"}
    )
    assert staff_move.status_code == 200, staff_move.text


async def test_a_partner_without_a_mapping_there_uses_the_hotel_codes(hotel):
    await mapped(hotel)  # partner 7's; partner 8 has none
    made = await hotel.client.post(
        "/api/v1/reservations", json=hotel.booking(room_type_code="KNG"), headers=as_(PARTNER_B)
    )
    assert made.status_code == 201, made.text
    assert made.json()["room_type_code"] == "KNG"
    # A code the hotel does not have is the catalog's refusal, as before.
    unknown = await hotel.client.post(
        "/api/v1/reservations", json=hotel.booking(room_type_code="DBL-SEA"), headers=as_(PARTNER_B)
    )
    assert_problem(unknown, 422, "unknown_room_type")
    # Once the mapping is gone, partner 7 uses the hotel's codes again.
    await hotel.client.delete(f"{MAPPINGS}/7/properties/1")
    again = await hotel.client.post(
        "/api/v1/reservations", json=hotel.booking(room_type_code="KNG"), headers=as_(PARTNER_A)
    )
    assert again.status_code == 201, again.text


async def test_puts_racing_for_one_mapping_serialize(hotel_on_each_db):
    """Two replicas (or a retried PUT) at once: each applies whole, one after the other; the
    versions do not fork and nothing answers 500."""
    hotel = hotel_on_each_db
    bodies = [
        {"room_types": {f"R{i}": "KNG", f"S{i}": "STD"}, "rate_plans": {f"P{i}": "BASE"}}
        for i in range(4)
    ]
    answers = await asyncio.gather(
        *(hotel.client.put(f"{MAPPINGS}/9/properties/1", json=body) for body in bodies)
    )
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert sorted(a.json()["version"] for a in answers) == [1, 2, 3, 4]
    [kept] = (await hotel.client.get(MAPPINGS, params={"partner_id": "9"})).json()["items"]
    last = max(answers, key=lambda a: a.json()["version"]).json()
    assert (kept["room_types"], kept["rate_plans"], kept["version"]) == (
        last["room_types"],
        last["rate_plans"],
        4,
    )
