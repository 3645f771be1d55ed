"""The guest's rights in guest-service: an export of every part as one document, and an erasure
that walks every part, publishes `guest.erased` once with what other services need, reaches
profiles merged into the erased one, and - once its event is out - leaves no copy of the
guest's email or phone in any column of guest-service's own database. On SQLite and
PostgreSQL (two erasures at once publish one event)."""

import asyncio
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from guest_service.config import Settings
from guest_service.main import create_app
from hotel_common.db import drop_database
from hotel_common.events.memory import InMemoryBroker
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import (
    Probe,
    assert_problem,
    columns_holding,
    eventually,
    principal_headers,
    running,
)

from .conftest import GuestService, booking, sqlite_settings

BASE = "/api/v1/guests"
ERASED = "guest.erased"
EMAIL, PHONE = "lin.mei@example.com", "+8613900139000"
CONFIRM = {"confirm": True}


def headers(principal: Principal) -> dict[str, str]:
    return principal_headers(principal)  # the dev internal secret, as the fixture's app


def staff(*roles: Role) -> dict[str, str]:
    return headers(Principal(id="staff:3", kind=Kind.STAFF, roles=frozenset(roles)))


def signed_in(email: str) -> dict[str, str]:
    return headers(Principal(id=f"guest:{email}", kind=Kind.GUEST, email=email))


async def booked_guest(service: GuestService) -> tuple[dict[str, Any], str]:
    """Lin Mei, known from a booking (one stay), with a consent on record."""
    stay = booking(email=EMAIL, phone=PHONE, name="Lin Mei")
    service.deliver(stay)
    profile = await service.profile_with_stays(EMAIL, 1)
    said = await service.client.post(
        f"{BASE}/{profile['id']}/consents",
        json={"channel": "email", "purpose": "marketing", "granted": True, "source": "booking"},
    )
    assert said.status_code == 201, said.text
    return profile, stay.reservation_id


async def test_a_manager_exports_everything_held_as_one_document(service: GuestService) -> None:
    profile, _ = await booked_guest(service)
    export = await service.client.get(f"{BASE}/{profile['id']}/export", headers=staff(Role.MANAGER))
    assert export.status_code == 200, export.text
    document = export.json()
    assert document["guest_id"] == profile["id"]
    consents = document["parts"]["privacy"]["consents"]
    assert [(c["channel"], c["purpose"], c["source"]) for c in consents] == [
        ("email", "marketing", "booking")
    ]
    mine = await service.client.get(f"{BASE}/me/export", headers=signed_in(EMAIL))
    assert mine.status_code == 200, mine.text
    assert mine.json()["parts"] == document["parts"]
    for role in (Role.FRONT_DESK, Role.MARKETING, Role.RESERVATIONS):
        assert_problem(
            await service.client.get(f"{BASE}/{profile['id']}/export", headers=staff(role)),
            403,
            "forbidden",
        )


async def test_an_erasure_publishes_once_what_other_services_need_and_leaves_no_copy_here(
    service: GuestService, tmp_path: Path
) -> None:
    probe = Probe(service.broker, {ERASED})
    profile, reservation_id = await booked_guest(service)
    url = f"{BASE}/{profile['id']}/erasure"

    erased = await service.client.post(url, json=CONFIRM, headers=staff(Role.MANAGER))
    assert erased.status_code == 200, erased.text
    assert erased.json()["profiles"] == [profile["id"]]
    assert erased.json()["reservation_ids"] == [reservation_id]

    (event,) = await eventually(lambda: probe.events(ERASED), until=bool)
    assert event.payload["guest_id"] == profile["id"]
    assert event.payload["reservation_ids"] == [reservation_id]
    assert (event.payload["emails"], event.payload["phones"]) == ([EMAIL], [PHONE])
    assert "Lin Mei" in event.payload["names"]

    again = await service.client.post(url, json=CONFIRM, headers=staff(Role.MANAGER))
    assert_problem(again, 409, "guest_erased")
    assert await service.find(email=EMAIL) == []
    consents = (await service.client.get(f"{BASE}/{profile['id']}/consents")).json()
    assert consents["items"] == []

    # Once guest-service has its own event back, no column holds the email or the phone.
    database = f"sqlite+aiosqlite:///{tmp_path}/x.db"
    await eventually(lambda: columns_holding(database, EMAIL, PHONE), until=lambda f: not f)
    await asyncio.sleep(0.2)  # a stray second event would have arrived by now
    assert len(probe.events(ERASED)) == 1


async def test_erasing_a_survivor_erases_the_profiles_merged_into_it(
    service: GuestService, tmp_path: Path
) -> None:
    probe = Probe(service.broker, {ERASED})
    survivor = await service.create(name="Lin Mei", email=EMAIL)
    absorbed = await service.create(name="LIN MEI", email="mei.lin@example.org", phone=PHONE)
    with sqlite3.connect(tmp_path / "x.db") as db:  # as merging leaves them
        db.execute(
            "UPDATE guests SET status = 'merged', merged_into_id = ? WHERE id = ?",
            (survivor["id"], absorbed["id"]),
        )

    assert_problem(
        await service.client.post(f"{BASE}/{absorbed['id']}/erasure", json=CONFIRM),
        409,
        "guest_merged",
    )
    erased = await service.client.post(f"{BASE}/{survivor['id']}/erasure", json=CONFIRM)
    assert erased.status_code == 200, erased.text
    assert erased.json()["profiles"] == [survivor["id"], absorbed["id"]]
    (event,) = await eventually(lambda: probe.events(ERASED), until=bool)
    assert sorted(event.payload["emails"]) == [EMAIL, "mei.lin@example.org"]
    assert event.payload["phones"] == [PHONE]
    with sqlite3.connect(tmp_path / "x.db") as db:
        statuses = dict(db.execute("SELECT id, status FROM guests").fetchall())
    assert statuses == {survivor["id"]: "erased", absorbed["id"]: "erased"}


async def test_the_signed_in_guest_erases_themselves_once_confirmed(service: GuestService) -> None:
    probe = Probe(service.broker, {ERASED})
    profile, _ = await booked_guest(service)
    me = signed_in(EMAIL)

    unconfirmed = await service.client.post(
        f"{BASE}/me/erasure", json={"confirm": False}, headers=me
    )
    assert_problem(unconfirmed, 422, "confirmation_required")
    assert (await service.client.get(f"{BASE}/me", headers=me)).status_code == 200

    erased = await service.client.post(f"{BASE}/me/erasure", json=CONFIRM, headers=me)
    assert erased.status_code == 200, erased.text
    assert erased.json()["guest_id"] == profile["id"]
    assert erased.json()["erased_by"] == f"guest:{EMAIL}"
    assert len(await eventually(lambda: probe.events(ERASED), until=bool)) == 1
    # The profile is gone for them: nothing holds their address any more.
    assert_problem(await service.client.get(f"{BASE}/me", headers=me), 404, "guest_not_found")


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.RESERVATIONS, Role.MARKETING])
async def test_only_managers_erase(service: GuestService, role: Role) -> None:
    probe = Probe(service.broker, {ERASED})
    lin = await service.create(name="Lin Mei", email=EMAIL)
    refused = await service.client.post(
        f"{BASE}/{lin['id']}/erasure", json=CONFIRM, headers=staff(role)
    )
    assert_problem(refused, 403, "forbidden")
    assert [g["id"] for g in await service.find(email=EMAIL)] == [lin["id"]]
    assert probe.events() == []


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)]
)
async def test_two_erasures_at_once_erase_once_and_publish_one_event(
    database: str, tmp_path: Path
) -> None:
    if database == "sqlite":
        settings = sqlite_settings(tmp_path)
    else:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/test_{uuid.uuid4().hex}"
        settings = Settings(database_url=url, retry_delays=[0.01, 0.05], log_json=False)
    broker = InMemoryBroker()
    probe = Probe(broker, {ERASED})
    try:
        async with running(create_app(settings, broker=broker)) as client:
            service = GuestService(client, broker)
            lin = await service.create(name="Lin Mei", email=EMAIL)
            url_ = f"{BASE}/{lin['id']}/erasure"
            answers: list[httpx.Response] = await asyncio.gather(
                *(client.post(url_, json=CONFIRM) for _ in range(4))
            )
            assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
            await eventually(lambda: probe.events(ERASED), until=bool)
            await asyncio.sleep(0.2)
            assert len(probe.events(ERASED)) == 1
    finally:
        if database == "postgresql":
            await drop_database(settings.database_url)
