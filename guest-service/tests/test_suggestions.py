"""Profiles the front desk writes are reviewed for duplicates: the same ID document, the same
name and birth date, or one phone under one name suggest a merge; anything else does not."""

from pathlib import Path

from guest_service import suggestions
from guest_service.main import create_app
from guest_service.models import Guest
from hotel_common.db import transaction
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import running

from .conftest import GuestService, sqlite_settings


async def test_review_suggests_what_points_at_one_person(tmp_path: Path) -> None:
    app = create_app(sqlite_settings(tmp_path), broker=InMemoryBroker())
    async with running(app) as client:
        service = GuestService(client, InMemoryBroker())
        lin = await service.create(name="Lin Mei", email="lin@example.com", phone="+8613900139000")
        same_phone = await service.create(name="LIN mei", phone="+86 139 0013 9000")
        other_name = await service.create(name="Wu Tao", phone="+8613900139000")
        document = await service.create(name="L. Mei", email="lm@example.com")
        born = await service.create(name="Lin-Mei", email="born@example.com")
        sessions = app.state.runtime.sessions
        async with transaction(sessions) as session:
            # What the profile's writes compute (keyed hashes of the document, name and date).
            for guest_id, column, value in (
                (lin["id"], "document_hash", "d1"),
                (document["id"], "document_hash", "d1"),
                (lin["id"], "identity_hash", "i1"),
                (born["id"], "identity_hash", "i1"),
            ):
                guest = await session.get(Guest, guest_id)
                assert guest is not None
                setattr(guest, column, value)
            await session.flush()
            assert await suggestions.review(session, lin["id"]) == 3
            assert await suggestions.review(session, lin["id"]) == 3  # again: the same rows

        found = {
            frozenset(g["id"] for g in s["guests"]): (s["reasons"], s["score"])
            for s in await service.suggestions()
        }
        assert found == {
            frozenset({lin["id"], document["id"]}): (["same_document"], 60),
            frozenset({lin["id"], born["id"]}): (["same_name_and_birth_date"], 50),
            frozenset({lin["id"], same_phone["id"]}): (["same_phone", "same_name"], 45),
        }
        assert other_name["id"] not in {i for pair in found for i in pair}
