"""The access policy through the API, acting as each identity: desk staff read and change
profiles in full, marketing reads them with email and phone masked, a signed-in guest reads
only their own (`/me`, by email else phone), everyone else is refused. On SQLite, and on
PostgreSQL for the queries."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from guest_service.config import Settings
from guest_service.main import create_app
from hotel_common.db import drop_database
from hotel_common.events.memory import InMemoryBroker
from hotel_common.principal import ApiScope, Kind, Principal, Role
from hotel_common.testing import deliver, eventually, principal_headers, running, scratch_url

from .conftest import booking


def staff(*roles: Role) -> Principal:
    return Principal(id="staff:s", kind=Kind.STAFF, roles=frozenset(roles))


ANONYMOUS = Principal(id="anonymous", kind=Kind.ANONYMOUS)
PARTNER = Principal(
    id="partner:a", kind=Kind.PARTNER, scopes=frozenset({ApiScope.RESERVATIONS_READ})
)
HOLDER = Principal(id="booking:r1", kind=Kind.BOOKING, reservation_id="r1")
DESK = (Role.FRONT_DESK, Role.RESERVATIONS, Role.MANAGER, Role.ADMIN)
OTHERS = (Role.HOUSEKEEPING, Role.DISPATCHER, Role.DRIVER)


@dataclass
class World:
    client: httpx.AsyncClient
    broker: InMemoryBroker
    ada: dict[str, Any]  # email and phone
    bo: dict[str, Any]  # phone only

    async def call(self, method: str, path: str, who: Principal, **kwargs: Any) -> Any:
        return await self.client.request(method, path, headers=principal_headers(who), **kwargs)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    url = scratch_url(request.param, tmp_path, "guest_access")
    settings = Settings(database_url=url, retry_delays=[0.01, 0.05], log_json=False)
    broker = InMemoryBroker()
    try:
        async with running(create_app(settings, broker=broker)) as client:
            ada = await client.post(
                "/api/v1/guests",
                json={"name": "Ada Wong", "email": "ada@example.com", "phone": "+8613700137000"},
            )
            bo = await client.post(
                "/api/v1/guests", json={"name": "Bo Li", "phone": "+85291234567"}
            )
            assert ada.status_code == bo.status_code == 201
            yield World(client, broker, ada.json(), bo.json())
    finally:
        if request.param == "postgresql":
            await drop_database(url)


async def test_desk_staff_read_profiles_in_full(world: World) -> None:
    for role in DESK:
        listed = await world.call("GET", "/api/v1/guests", staff(role))
        assert listed.status_code == 200
        emails = {g["email"] for g in listed.json()["items"]}
        assert emails == {"ada@example.com", None}, role
        one = await world.call("GET", f"/api/v1/guests/{world.ada['id']}", staff(role))
        assert one.json()["phone"] == "+8613700137000"


async def test_marketing_reads_profiles_with_contacts_masked(world: World) -> None:
    marketing = staff(Role.MARKETING)
    listed = await world.call("GET", "/api/v1/guests", marketing)
    assert listed.status_code == 200
    by_name = {g["name"]: g for g in listed.json()["items"]}
    assert by_name["Ada Wong"]["email"] == "ad*************"
    assert by_name["Ada Wong"]["phone"] == "+8************"
    assert by_name["Bo Li"]["email"] is None
    one = await world.call("GET", f"/api/v1/guests/{world.ada['id']}", marketing)
    assert one.status_code == 200
    assert "ada@example.com" not in one.text and "13700137000" not in one.text
    # Found by the address they typed, still masked.
    found = await world.call(
        "GET", "/api/v1/guests", marketing, params={"email": "ada@example.com"}
    )
    assert [g["email"] for g in found.json()["items"]] == ["ad*************"]
    # And marketing changes nothing.
    change = await world.call(
        "PATCH", f"/api/v1/guests/{world.ada['id']}", marketing, json={"name": "X"}
    )
    assert change.status_code == 403


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (ANONYMOUS, 401),
        (PARTNER, 403),
        (HOLDER, 403),
        (Principal(id="guest:a", kind=Kind.GUEST, email="ada@example.com"), 403),
        *[(staff(role), 403) for role in OTHERS],
    ],
)
async def test_others_are_refused_profiles(world: World, who: Principal, status: int) -> None:
    gid = world.ada["id"]
    calls = [
        ("GET", "/api/v1/guests", {}),
        ("GET", f"/api/v1/guests/{gid}", {}),
        ("POST", "/api/v1/guests", {"json": {"name": "Eve", "email": "eve@example.com"}}),
        ("PATCH", f"/api/v1/guests/{gid}", {"json": {"name": "Eve"}}),
    ]
    for method, path, kwargs in calls:
        response = await world.call(method, path, who, **kwargs)
        assert response.status_code == status, (method, path, response.text)
    unchanged = await world.client.get(f"/api/v1/guests/{gid}")
    assert unchanged.json()["name"] == "Ada Wong"
    assert (await world.client.get("/api/v1/guests", params={"name": "Eve"})).json()["items"] == []


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.RESERVATIONS, Role.MANAGER])
async def test_desk_staff_create_and_change_profiles(world: World, role: Role) -> None:
    created = await world.call(
        "POST", "/api/v1/guests", staff(role), json={"name": "Eve", "email": "eve@example.com"}
    )
    assert created.status_code == 201
    changed = await world.call(
        "PATCH", f"/api/v1/guests/{created.json()['id']}", staff(role), json={"language": "en"}
    )
    assert changed.status_code == 200 and changed.json()["language"] == "en"


async def test_a_guest_reads_their_own_profile_by_email_else_phone(world: World) -> None:
    by_email = Principal(id="guest:a", kind=Kind.GUEST, email="ada@example.com")
    mine = await world.call("GET", "/api/v1/guests/me", by_email)
    assert mine.status_code == 200
    assert mine.json()["id"] == world.ada["id"] and mine.json()["email"] == "ada@example.com"
    assert mine.json()["stays"] == []

    by_phone = Principal(id="guest:b", kind=Kind.GUEST, phone="+85291234567")
    mine = await world.call("GET", "/api/v1/guests/me", by_phone)
    assert mine.status_code == 200 and mine.json()["id"] == world.bo["id"]

    # The email decides when both are known, even if the phone is someone else's.
    both = Principal(id="guest:x", kind=Kind.GUEST, email="ada@example.com", phone="+85291234567")
    assert (await world.call("GET", "/api/v1/guests/me", both)).json()["id"] == world.ada["id"]

    nobody = Principal(id="guest:n", kind=Kind.GUEST, email="nobody@example.com")
    missing = await world.call("GET", "/api/v1/guests/me", nobody)
    assert missing.status_code == 404 and missing.json()["code"] == "guest_not_found"


async def test_me_is_for_signed_in_guests_only(world: World) -> None:
    for who, status in [(ANONYMOUS, 401), (HOLDER, 403), (PARTNER, 403), (staff(Role.ADMIN), 403)]:
        response = await world.call("GET", "/api/v1/guests/me", who)
        assert response.status_code == status, who


async def test_me_shows_the_stays_booked_under_the_address(world: World) -> None:
    stay = booking(email="ada@example.com", phone=None, name="Ada Wong")
    other = booking(email="bo.li@example.com", phone="+85291234567", name="Bo Li")
    deliver(world.broker, stay, "reservation-service")
    deliver(world.broker, other, "reservation-service")
    guest = Principal(id="guest:a", kind=Kind.GUEST, email="ada@example.com")

    async def stays() -> list[str]:
        response = await world.call("GET", "/api/v1/guests/me", guest)
        return [s["reservation_id"] for s in response.json()["stays"]]

    assert await eventually(stays) == [stay.reservation_id]


# -- issue 19: personal data by role -----------------------------------------------------------
async def _with_document(world: World) -> str:
    changed = await world.client.patch(
        f"/api/v1/guests/{world.ada['id']}",
        json={
            "birth_date": "1990-07-01",
            "address": "1 Harbour Road, Wan Chai",
            "document_type": "passport",
            "document_number": "K12345678",
        },
    )
    assert changed.status_code == 200, changed.text
    return str(world.ada["id"])


def _words(body: Any) -> list[str]:
    """Every value of a profile but its ids and timestamps: a random uuid or a timestamp's
    microseconds hold "1990" or "5678" in about one response of three hundred."""
    if isinstance(body, dict):
        return [
            word
            for key, value in body.items()
            if key != "id" and not key.endswith(("_id", "_at"))
            for word in _words(value)
        ]
    if isinstance(body, list):
        return [word for value in body for word in _words(value)]
    return [str(body)]


async def test_marketing_sees_no_birth_date_address_or_document(world: World) -> None:
    gid = await _with_document(world)
    marketing = staff(Role.MARKETING)

    response = await world.call("GET", f"/api/v1/guests/{gid}", marketing)
    one = response.json()
    assert (one["birth_date"], one["document_number"]) == (None, None)
    assert one["address"] == "1 " + "*" * 22
    assert {c["value"] for c in one["contacts"]} == {"ad*************", "+8************"}
    said = " ".join(_words(one))
    assert "1990" not in said and "5678" not in said and "Harbour" not in said
    listed = await world.call("GET", f"/api/v1/guests/{gid}/contacts", marketing)
    assert [c["value"] for c in listed.json()] == ["ad*************", "+8************"]
    by_document = await world.call(
        "GET", "/api/v1/guests", marketing, params={"document": "K12345678"}
    )
    assert by_document.status_code == 403
    desk = (await world.call("GET", f"/api/v1/guests/{gid}", staff(Role.RESERVATIONS))).json()
    assert (desk["birth_date"], desk["document_number"]) == ("1990-07-01", "*****5678")


async def test_the_full_document_is_for_front_desk_and_managers_each_read_audited(
    world: World,
) -> None:
    gid = await _with_document(world)
    desk = Principal(id="staff:7", kind=Kind.STAFF, roles=frozenset({Role.FRONT_DESK}))

    read = await world.call("GET", f"/api/v1/guests/{gid}/document", desk)
    assert read.status_code == 200, read.text
    assert read.json() | {"read_id": ""} == {
        "guest_id": gid,
        "document_type": "passport",
        "document_number": "K12345678",
        "document_expiry": None,
        "read_id": "",
    }
    for role in (Role.RESERVATIONS, Role.MARKETING, Role.HOUSEKEEPING):
        refused = await world.call("GET", f"/api/v1/guests/{gid}/document", staff(role))
        assert refused.status_code == 403, role
    guest = Principal(id="guest:a", kind=Kind.GUEST, email="ada@example.com")
    assert (await world.call("GET", f"/api/v1/guests/{gid}/document", guest)).status_code == 403

    audit = await world.call("GET", "/api/v1/guests/pii-reads", staff(Role.MANAGER))
    assert audit.status_code == 200
    assert [
        (r["id"], r["guest_id"], r["reader"], r["roles"], r["field"]) for r in audit.json()["items"]
    ] == [(read.json()["read_id"], gid, "staff:7", ["front_desk"], "document")]
    for role in (Role.FRONT_DESK, Role.MARKETING):
        denied = await world.call("GET", "/api/v1/guests/pii-reads", staff(role))
        assert denied.status_code == 403


async def test_contacts_are_changed_by_desk_staff_only(world: World) -> None:
    gid = world.ada["id"]
    body = {"kind": "phone", "value": "+8613700137099"}
    for who, status in [
        (staff(Role.MARKETING), 403),
        (ANONYMOUS, 401),
        (Principal(id="guest:a", kind=Kind.GUEST, email="ada@example.com"), 403),
    ]:
        response = await world.call("POST", f"/api/v1/guests/{gid}/contacts", who, json=body)
        assert response.status_code == status, who
    added = await world.call(
        "POST", f"/api/v1/guests/{gid}/contacts", staff(Role.RESERVATIONS), json=body
    )
    assert added.status_code == 201
    assert len((await world.client.get(f"/api/v1/guests/{gid}/contacts")).json()) == 3


async def test_re_encryption_is_the_admins(world: World) -> None:
    for role in (Role.MANAGER, Role.FRONT_DESK):
        response = await world.call("POST", "/api/v1/guests/re-encryption", staff(role))
        assert response.status_code == 403
    done = await world.call("POST", "/api/v1/guests/re-encryption", staff(Role.ADMIN))
    assert done.status_code == 200 and done.json()["left"] == 0
