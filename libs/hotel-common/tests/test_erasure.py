"""`erasure.scrub`: a forgotten guest's values leave the outbox (published or waiting) and the
stored Idempotency-Key answers, other rows untouched, on SQLite and PostgreSQL."""

from collections.abc import AsyncIterator
from typing import ClassVar

import pytest
from hotel_common.db import (
    SessionFactory,
    create_engine,
    create_session_factory,
    drop_database,
    ensure_database,
    transaction,
)
from hotel_common.erasure import REDACTED, scrub
from hotel_common.events.envelope import IntegrationEvent
from hotel_common.events.outbox import SOURCE_INFO, OutboxMessage, add_event
from hotel_common.idempotency import IdempotencyRecord
from hotel_common.time import utcnow
from sqlmodel import SQLModel, col, select


class Booked(IntegrationEvent):
    event_type: ClassVar[str] = "test.booked"
    name: str
    email: str
    notes: list[str] = []


@pytest.fixture(params=["sqlite", "postgresql"])
async def sessions(
    request: pytest.FixtureRequest, sqlite_url: str, pg_url: str
) -> AsyncIterator[SessionFactory]:
    url = sqlite_url if request.param == "sqlite" else pg_url
    await ensure_database(url)
    engine = create_engine(url)
    tables = [OutboxMessage.__table__, IdempotencyRecord.__table__]  # type: ignore[attr-defined]
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all, tables=tables)
    yield create_session_factory(engine, **{SOURCE_INFO: "test"})
    await engine.dispose()
    await drop_database(url)


async def test_scrub_redacts_the_values_in_outbox_rows_and_stored_answers_only(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        add_event(session, Booked(name="王芳", email="wang.fang@example.com", notes=["VIP 王芳"]))
        add_event(session, Booked(name="Li Wei", email="li.wei@example.com"))
        session.add(
            IdempotencyRecord(
                key="k1",
                fingerprint="f",
                status_code=201,
                headers="[]",
                body='{"guest":{"name":"王芳","email":"Wang.Fang@example.com"},"total":100}',
            )
        )
        session.add(IdempotencyRecord(key="k2", fingerprint="f", status_code=201, body="{}"))
    async with transaction(sessions) as session:
        published = (await session.exec(select(OutboxMessage))).all()
        published[0].published_at = utcnow()  # a published row and a waiting one

    async with transaction(sessions) as session:
        counts = await scrub(session, ["wang.fang@example.com", "王芳", "Li"])

    assert counts == {"outbox": 1, "idempotency_keys": 1}
    async with sessions() as session:
        first, second = (
            await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.seq)))
        ).all()
        stored = {r.key: r.body for r in (await session.exec(select(IdempotencyRecord))).all()}
    assert first.envelope["payload"] == {
        "name": REDACTED,
        "email": REDACTED,
        "notes": [f"VIP {REDACTED}"],
    }
    assert first.envelope["type"] == "test.booked"  # still an event of its kind, same id
    # "Li" is too short to be scrubbed: it would hit unrelated words.
    assert second.envelope["payload"]["email"] == "li.wei@example.com"
    assert stored["k1"] is not None and "王芳" not in stored["k1"]
    assert "wang.fang" not in stored["k1"].lower() and '"total":100' in stored["k1"]
    assert stored["k2"] == "{}"


async def test_scrub_with_nothing_to_find_changes_nothing(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        add_event(session, Booked(name="Li Wei", email="li.wei@example.com"))
    async with transaction(sessions) as session:
        assert await scrub(session, ["nobody@example.com", ""]) == {
            "outbox": 0,
            "idempotency_keys": 0,
        }
