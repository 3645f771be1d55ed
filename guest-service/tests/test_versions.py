"""versions.next_version: the one way a guest's version moves on (SQLite here; the race of two
transactions on PostgreSQL is in test_concurrency_postgres)."""

from collections.abc import Callable
from pathlib import Path

from guest_service import matching, versions
from guest_service.main import create_app
from guest_service.models import Guest
from hotel_common.contracts.reservations import ReservationConfirmed
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import running
from sqlmodel import col, update

from .conftest import sqlite_settings


async def test_a_stale_profile_in_the_session_neither_loses_nor_overwrites_a_version(
    tmp_path: Path, make_booking: Callable[..., ReservationConfirmed]
) -> None:
    async with running(app := create_app(sqlite_settings(tmp_path), broker=InMemoryBroker())):
        sessions = app.state.runtime.sessions
        async with sessions() as session, session.begin():
            guest_id = await matching.link_booking(session, make_booking())
        async with sessions() as session, session.begin():
            stale = await session.get(Guest, guest_id)
            assert stale is not None and stale.version == 1
            # The row moves on behind the loaded profile's back (as another replica would).
            behind = update(Guest).where(col(Guest.id) == guest_id).values(version=5)
            await session.exec(behind.execution_options(synchronize_session=False))
            assert stale.version == 1
            assert await versions.next_version(session, guest_id) == 6
            assert stale.version == 6
            stale.notes = "prefers a quiet room"  # a later flush writes this, not a version
            session.add(stale)
        async with sessions() as session:
            stored = await session.get(Guest, guest_id)
        assert stored is not None and (stored.version, stored.notes) == (6, "prefers a quiet room")
