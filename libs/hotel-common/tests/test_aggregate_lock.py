"""Handlers of one aggregate never overlap; handlers of different aggregates still run side by
side (PostgreSQL); envelopes carry the aggregate and its version."""

import asyncio
from collections import Counter
from typing import ClassVar

import pytest
from hotel_common import db
from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.events.inbox import idempotent
from sqlmodel.ext.asyncio.session import AsyncSession


class ThingChanged(IntegrationEvent):
    event_type: ClassVar[str] = "toy.thing_changed"
    aggregate: ClassVar[tuple[str, str] | None] = ("thing", "thing_id")
    thing_id: str


class Unrelated(IntegrationEvent):
    event_type: ClassVar[str] = "toy.unrelated"
    n: int


def changed(thing_id: str, version: int, *, legacy: bool = False) -> Envelope:
    envelope = Envelope.wrap(ThingChanged(thing_id=thing_id, aggregate_version=version), "t")
    if legacy:  # made before envelopes named their aggregate: the contract finds it
        envelope = envelope.model_copy(update={"aggregate_type": None, "aggregate_id": None})
    return envelope


def test_the_envelope_carries_the_aggregate_and_its_version_not_the_payload() -> None:
    envelope = changed("t-1", 7)
    assert (envelope.aggregate_type, envelope.aggregate_id, envelope.aggregate_version) == (
        "thing",
        "t-1",
        7,
    )
    assert envelope.payload == {"thing_id": "t-1"}
    assert ThingChanged.from_envelope(envelope).aggregate_version == 7
    plain = Envelope.wrap(Unrelated(n=1), "t")
    assert (plain.aggregate_type, plain.aggregate_id, plain.aggregate_version) == (None,) * 3
    old = Envelope.model_validate({"type": "toy.thing_changed", "source": "t", "payload": {}})
    assert old.aggregate_version is None  # envelopes from before the fields still read


async def test_handlers_of_one_aggregate_never_overlap(sessions: db.SessionFactory) -> None:
    running: Counter[str] = Counter()
    most: Counter[str] = Counter()

    async def handler(_session: AsyncSession, event: ThingChanged) -> None:
        thing = event.thing_id
        running[thing] += 1
        most[thing] = max(most[thing], running[thing])
        await asyncio.sleep(0.01)  # room for a second handler to enter, were it let in
        running[thing] -= 1

    handle = idempotent(sessions, ThingChanged, handler, "toy.count_things")
    envelopes = [changed(t, v, legacy=v % 2 == 0) for v in range(8) for t in ("a", "b")]
    await asyncio.gather(*(handle(e) for e in envelopes))

    assert most == {"a": 1, "b": 1}


@pytest.mark.infra
@pytest.mark.parametrize("sessions", ["postgresql"], indirect=True)
async def test_handlers_of_different_aggregates_run_at_once(sessions: db.SessionFactory) -> None:
    met = asyncio.Barrier(3)

    async def handler(_session: AsyncSession, _event: ThingChanged) -> None:
        # Returns only once all three are inside their transactions, each holding its lock.
        await asyncio.wait_for(met.wait(), timeout=10)

    handle = idempotent(sessions, ThingChanged, handler, "toy.meet")
    await asyncio.gather(*(handle(changed(t, 1)) for t in ("a", "b", "c")))
