"""The profile's share of the guest's lifecycle, walked as the rights and merging code walk it
(lifecycle.parts()): export holds every field and contact; erase leaves a row that names
nobody; merge moves contacts and fills blanks, and unmerge puts both profiles back."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from guest_service import lifecycle
from guest_service.main import create_app
from hotel_common.db import SessionFactory, transaction
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import running

from .conftest import sqlite_settings


@dataclass
class Desk:
    client: httpx.AsyncClient
    sessions: SessionFactory

    async def create(self, **body: Any) -> str:
        response = await self.client.post("/api/v1/guests", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def show(self, guest_id: str) -> dict[str, Any]:
        body: dict[str, Any] = (await self.client.get(f"/api/v1/guests/{guest_id}")).json()
        return body

    async def find(self, **params: Any) -> list[str]:
        found = (await self.client.get("/api/v1/guests", params=params)).json()["items"]
        return [g["id"] for g in found]


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    app = create_app(sqlite_settings(tmp_path), broker=InMemoryBroker())
    async with running(app) as client:
        yield Desk(client, app.state.runtime.sessions)


def profile_part() -> lifecycle.GuestPart:
    return next(p for p in lifecycle.parts() if p.name == "profile")


WANG = {
    "name": "Wang Fang",
    "email": "wang.fang@example.com",
    "phone": "+8613800138000",
    "birth_date": "1988-03-14",
    "nationality": "CN",
    "address": "88 Century Avenue",
    "document_type": "passport",
    "document_number": "E12345678",
    "tags": ["business"],
    "preferences": {"pillow": "firm"},
    "notes": "Green tea.",
}


async def test_export_holds_every_field_and_contact(desk: Desk) -> None:
    gid = await desk.create(**WANG)
    async with transaction(desk.sessions) as session:
        exported = await profile_part().export(session, gid)

    assert {k: exported["fields"][k] for k in WANG if k not in ("email", "phone")} == {
        k: v for k, v in WANG.items() if k not in ("email", "phone")
    }
    assert "document_hash" not in exported["fields"]
    assert [(c["kind"], c["value"]) for c in exported["contacts"]] == [
        ("email", "wang.fang@example.com"),
        ("phone", "+8613800138000"),
    ]


async def test_erase_leaves_a_row_that_names_nobody(desk: Desk) -> None:
    gid = await desk.create(**WANG, company="Lujiazui Trading", vip_level=3)
    async with transaction(desk.sessions) as session:
        await profile_part().erase(session, gid)

    shown = await desk.show(gid)
    assert shown["name"] == "Erased guest" and shown["status"] == "erased"
    assert shown["contacts"] == [] and (shown["email"], shown["phone"]) == (None, None)
    for field in ("birth_date", "nationality", "address", "company", "document_number", "notes"):
        assert shown[field] is None, field
    assert (shown["tags"], shown["preferences"], shown["vip_level"]) == ([], {}, 0)
    assert await desk.find(email="wang.fang@example.com") == []
    assert await desk.find(document="E12345678") == []
    changed = await desk.client.patch(f"/api/v1/guests/{gid}", json={"name": "Back"})
    assert changed.status_code == 409 and changed.json()["code"] == "guest_not_active"
    # The email is free again: a new profile may take it.
    assert await desk.create(name="Wang Fang", email="wang.fang@example.com")


async def test_merge_moves_contacts_and_fills_blanks_and_unmerge_undoes_it(desk: Desk) -> None:
    survivor = await desk.create(name="Wang Fang", email="wang.fang@example.com", vip_level=1)
    absorbed = await desk.create(
        **{k: v for k, v in WANG.items() if k != "email"},
        email="fang.wang@work.example.com",
        vip_level=3,
    )
    before = {gid: await desk.show(gid) for gid in (survivor, absorbed)}

    async with transaction(desk.sessions) as session:
        memo = await profile_part().merge(session, survivor, absorbed)

    merged = await desk.show(survivor)
    assert [(c["kind"], c["value"], c["is_primary"]) for c in merged["contacts"]] == [
        ("email", "wang.fang@example.com", True),
        ("phone", "+8613800138000", True),  # the survivor had no phone: it is shown
        ("email", "fang.wang@work.example.com", False),
    ]
    assert (merged["birth_date"], merged["address"], merged["vip_level"]) == (
        "1988-03-14",
        "88 Century Avenue",
        3,
    )
    assert merged["tags"] == ["business"] and merged["preferences"] == {"pillow": "firm"}
    assert set(await desk.find(document="E12345678")) == {survivor, absorbed}
    assert "88 Century" not in str(memo) and "E1234" not in str(memo)  # ids and names only

    async with transaction(desk.sessions) as session:
        await profile_part().unmerge(session, survivor, absorbed, memo)

    for gid in (survivor, absorbed):
        after = await desk.show(gid)
        assert {k: v for k, v in after.items() if k != "updated_at"} == {
            k: v for k, v in before[gid].items() if k != "updated_at"
        }


async def test_unmerge_keeps_what_staff_changed_since(desk: Desk) -> None:
    survivor = await desk.create(name="Wang Fang", email="wang.fang@example.com")
    absorbed = await desk.create(name="Wang Fang", phone="+8613800138000", company="Old Co")
    async with transaction(desk.sessions) as session:
        memo = await profile_part().merge(session, survivor, absorbed)
    await desk.client.patch(f"/api/v1/guests/{survivor}", json={"company": "New Co"})

    async with transaction(desk.sessions) as session:
        await profile_part().unmerge(session, survivor, absorbed, memo)

    assert (await desk.show(survivor))["company"] == "New Co"
