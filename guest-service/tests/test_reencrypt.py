"""Personal data stays readable through a key rotation: a new key goes first in the ring, the
re-encryption job re-seals every sealed value under it, the old key leaves the ring, and every
profile still reads and is still found. Contacts from before encryption (migration f19a) are
sealed and hashed at start-up. On SQLite and PostgreSQL."""

import base64
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from guest_service import crypto
from guest_service.config import Settings
from guest_service.main import create_app
from hotel_common.db import drop_database
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import deliver, eventually, running, scratch_url
from sqlalchemy import text

from .conftest import booking

LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
NEW_KEY = "k2:" + base64.urlsafe_b64encode(b"a-second-key-for-the-rotation-32").decode()
PROFILE = {
    "name": "Wang Fang",
    "email": "wang.fang@example.com",
    "phone": "+8613800138000",
    "birth_date": "1988-03-14",
    "address": "88 Century Avenue, Shanghai",
    "document_type": "passport",
    "document_number": "E12345678",
}
SEALED = {
    "guest_contacts": ["value"],
    "guests": ["birth_date", "address", "document_number"],
}


@pytest.fixture(autouse=True)
def keep_the_ring() -> Iterator[None]:
    """The ring is process-wide: leave the one the other tests expect."""
    before = crypto.ring()
    yield
    crypto.install(before)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    database = scratch_url(request.param, tmp_path, "guest_keys")
    yield database
    if request.param == "postgresql":
        await drop_database(database)


def settings(url: str, **changes: Any) -> Settings:
    return Settings(database_url=url, retry_delays=[0.01, 0.05], log_json=False, **changes)


async def stored(app: Any) -> list[str]:
    """Every sealed value as the database holds it."""
    values = []
    async with app.state.runtime.engine.connect() as conn:
        for table, columns in SEALED.items():
            for column in columns:
                rows = await conn.execute(text(f"SELECT {column} FROM {table}"))
                values += [v for (v,) in rows if v is not None]
    return values


async def test_a_rotated_key_leaves_the_ring_and_every_profile_still_reads(url: str) -> None:
    app = create_app(settings(url), broker=InMemoryBroker())
    async with running(app) as client:
        created = await client.post("/api/v1/guests", json=PROFILE)
        assert created.status_code == 201, created.text
        gid = created.json()["id"]
        assert all(v.startswith("enc1:dev1:") for v in await stored(app))

    rotating = settings(url, pii_keys=f"{NEW_KEY},{crypto.DEV_KEYS}")
    app = create_app(rotating, broker=InMemoryBroker())
    async with running(app) as client:
        # The worker's start-up pass may have done some of it already: what counts is the end.
        report = (await client.post("/api/v1/guests/re-encryption")).json()
        assert report["left"] == 0
        assert set(report["resealed"]) <= {
            "guest_contacts.value",
            "guests.birth_date",
            "guests.address",
            "guests.document_number",
        }
        values = await stored(app)
        assert len(values) == 5 and all(v.startswith("enc1:k2:") for v in values)
        again = (await client.post("/api/v1/guests/re-encryption")).json()
        assert again["resealed"] == {} and again["left"] == 0

    app = create_app(settings(url, pii_keys=NEW_KEY), broker=InMemoryBroker())  # old key gone
    async with running(app) as client:
        shown = (await client.get(f"/api/v1/guests/{gid}")).json()
        assert (shown["email"], shown["phone"], shown["birth_date"], shown["address"]) == (
            PROFILE["email"],
            PROFILE["phone"],
            PROFILE["birth_date"],
            PROFILE["address"],
        )
        document = (await client.get(f"/api/v1/guests/{gid}/document")).json()
        assert document["document_number"] == "E12345678"
        found = await client.get("/api/v1/guests", params={"email": "wang.fang@example.com"})
        assert [g["id"] for g in found.json()["items"]] == [gid]
        by_document = await client.get("/api/v1/guests", params={"document": "E12345678"})
        assert [g["id"] for g in by_document.json()["items"]] == [gid]


async def test_plaintext_contacts_from_before_encryption_are_sealed_at_start_up(
    url: str,
) -> None:
    app = create_app(settings(url), broker=InMemoryBroker())
    async with running(app), app.state.runtime.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO guests (id, name, source, status, tags, preferences, vip_level,"
                " version, created_at, updated_at) VALUES ('old-1', 'Li Wei', 'booking',"
                " 'active', '[]', '{}', 0, 1, :now, :now)"
            ),
            {"now": LONG_AGO},
        )
        await conn.execute(
            text(
                "INSERT INTO guest_contacts (id, guest_id, kind, value, value_hash,"
                " is_primary, source, created_at) VALUES"
                " ('c-1', 'old-1', 'email', 'li.wei@example.com', 'legacy', true,"
                " 'migration', :now),"
                " ('c-2', 'old-1', 'phone', '+8613800138000', 'legacy', true,"
                " 'migration', :now)"
            ),
            {"now": LONG_AGO},
        )

    broker = InMemoryBroker()
    app = create_app(settings(url), broker=broker)
    async with running(app) as client:
        values = await stored(app)
        assert len(values) == 2 and all(v.startswith("enc1:dev1:") for v in values)
        found = await client.get("/api/v1/guests", params={"email": "LI.WEI@example.com"})
        assert [g["id"] for g in found.json()["items"]] == ["old-1"]
        # A booking under the old address joins the old profile.
        later = booking(email="li.wei@example.com", phone=None)
        deliver(broker, later, "reservation-service")

        async def stays() -> list[str]:
            shown = (await client.get("/api/v1/guests/old-1")).json()
            return [s["reservation_id"] for s in shown["stays"]]

        assert await eventually(stays) == [later.reservation_id]


async def test_one_unreadable_value_does_not_stop_the_rotation_of_the_others(url: str) -> None:
    """A value that no key of the ring opens (tampered, or sealed under a key dropped too
    early) is left as it is and counted in `left`; every other value is re-sealed."""
    app = create_app(settings(url), broker=InMemoryBroker())
    async with running(app) as client:
        first = await client.post("/api/v1/guests", json=PROFILE)
        assert first.status_code == 201, first.text
        other = {**PROFILE, "email": "zhou.min@example.com", "document_number": "E87654321"}
        second = await client.post("/api/v1/guests", json=other)
        assert second.status_code == 201, second.text
        async with app.state.runtime.engine.begin() as conn:
            (address,) = (
                await conn.execute(
                    text("SELECT address FROM guests WHERE id = :id"), {"id": first.json()["id"]}
                )
            ).one()
            tampered = address[:-4] + ("AAAA" if not address.endswith("AAAA") else "BBBB")
            await conn.execute(
                text("UPDATE guests SET address = :a WHERE id = :id"),
                {"a": tampered, "id": first.json()["id"]},
            )

    rotating = settings(url, pii_keys=f"{NEW_KEY},{crypto.DEV_KEYS}")
    app = create_app(rotating, broker=InMemoryBroker())
    async with running(app) as client:
        answer = await client.post("/api/v1/guests/re-encryption")
        assert answer.status_code == 200, answer.text
        assert answer.json()["left"] == 1
        values = await stored(app)
        assert len(values) == 10
        assert [v for v in values if not v.startswith("enc1:k2:")] == [tampered]
