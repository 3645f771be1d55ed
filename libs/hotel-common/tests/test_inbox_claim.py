"""The inbox's one-statement claim (lock, check, insert): twins apply an event once, a key the
handler had before counts, a failed handler leaves the event unclaimed (SQLite and PostgreSQL)."""

import asyncio
from collections import Counter
from typing import ClassVar

import pytest
from hotel_common import db
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.events.inbox import ProcessedEvent, idempotent
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession


class ThingChanged(IntegrationEvent):
    event_type: ClassVar[str] = "toy.thing_changed"
    aggregate: ClassVar[tuple[str, str] | None] = ("thing", "thing_id")
    thing_id: str


class Unrelated(IntegrationEvent):
    event_type: ClassVar[str] = "toy.unrelated"
    n: int


@pytest.mark.parametrize("contract", [ThingChanged, Unrelated])
async def test_twins_delivered_at_once_apply_the_event_once(
    sessions: db.SessionFactory, contract: type[IntegrationEvent]
) -> None:
    applied: Counter[str] = Counter()

    async def handler(session: AsyncSession, event: IntegrationEvent) -> None:
        await asyncio.sleep(0.02)  # hold the transaction while the twins arrive
        applied[event.event_id] += 1

    run = idempotent(sessions, contract, handler, name="toy.apply")
    event = ThingChanged(thing_id="t-1") if contract is ThingChanged else Unrelated(n=1)
    envelope = Envelope.wrap(event, "t")
    await asyncio.gather(*(run(envelope) for _ in range(5)))
    await run(envelope)  # and once more, later
    assert applied == {envelope.id: 1}
    async with sessions() as session:
        rows = (await session.exec(select(ProcessedEvent))).all()
    assert [(r.event_id, r.handler, r.event_type) for r in rows] == [
        (
            envelope.id,
            "toy.apply",
            "toy.thing_changed" if contract is ThingChanged else "toy.unrelated",
        )
    ]


async def test_an_event_recorded_under_a_former_key_is_not_applied_again(
    sessions: db.SessionFactory,
) -> None:
    applied: list[str] = []

    async def handler(session: AsyncSession, event: ThingChanged) -> None:
        applied.append(event.event_id)

    old = Envelope.wrap(ThingChanged(thing_id="t-1"), "t")
    new = Envelope.wrap(ThingChanged(thing_id="t-1"), "t")
    await idempotent(sessions, ThingChanged, handler, name="toy.old_name")(old)
    renamed = idempotent(sessions, ThingChanged, handler, "toy.new", formerly=["toy.old_name"])
    await renamed(old)
    await renamed(new)
    assert applied == [old.id, new.id]


async def test_a_failed_handler_leaves_the_event_unclaimed_for_its_retry(
    sessions: db.SessionFactory,
) -> None:
    tries: list[str] = []

    async def handler(session: AsyncSession, event: ThingChanged) -> None:
        tries.append(event.event_id)
        if len(tries) == 1:
            raise RuntimeError("not this time")

    run = idempotent(sessions, ThingChanged, handler, name="toy.flaky")
    envelope = Envelope.wrap(ThingChanged(thing_id="t-1"), "t")
    with pytest.raises(RuntimeError):
        await run(envelope)
    await run(envelope)
    await run(envelope)
    assert tries == [envelope.id, envelope.id]


async def test_an_event_its_subscription_does_not_want_is_acknowledged_with_no_database_work(
    sessions: db.SessionFactory,
) -> None:
    applied: list[str] = []
    opened: list[int] = []

    def counting() -> AsyncSession:
        opened.append(1)
        return sessions()

    async def handler(session: AsyncSession, event: ThingChanged) -> None:
        applied.append(event.thing_id)

    run = idempotent(
        counting,  # type: ignore[arg-type]
        ThingChanged,
        handler,
        name="toy.wanted",
        wanted=lambda event: event.thing_id != "nothing-to-do",
    )
    skipped = Envelope.wrap(ThingChanged(thing_id="nothing-to-do"), "t")
    await run(skipped)
    await run(skipped)  # a redelivery: asked again, skipped again
    assert applied == [] and opened == []

    kept = Envelope.wrap(ThingChanged(thing_id="t-1"), "t")
    await run(kept)
    await run(kept)  # as before: once
    assert applied == ["t-1"]
    async with sessions() as session:
        rows = (await session.exec(select(ProcessedEvent))).all()
    assert [(r.event_id, r.handler) for r in rows] == [(kept.id, "toy.wanted")]
