"""Issue 21, live availability: whatever changes availability, prices or restrictions of a room
type reaches the bus as one coalesced `availability.changed` per property, room type and date
range, carrying the ARI as it is now and a sequence that grows per room type (SQLite; two
replicas on one PostgreSQL database)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from hotel_common.db import drop_database
from hotel_common.events.envelope import Envelope
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import Probe, eventually, running
from reservation_service.ari_changes import mark
from reservation_service.main import create_app
from sqlalchemy import text

from .conftest import PG, Hotel, hotel_today, settings_for

CHANGED = "availability.changed"


class Live:
    """The service, its app (for the worker's tables) and a probe on availability.changed."""

    def __init__(self, hotel: Hotel, app: FastAPI, probe: Probe) -> None:
        self.hotel, self.app, self.probe = hotel, app, probe
        self.seen = 0

    async def settle(self) -> list[dict[str, Any]]:
        """Wait until every staged change is published; the messages since the last call."""

        async def staged() -> int:
            async with self.app.state.runtime.sessions() as session:
                return int((await session.exec(text("SELECT count(*) FROM ari_changes"))).one()[0])

        await eventually(staged, lambda n: n == 0)
        await self.hotel.published()
        messages = [e.payload for e in self.probe.events(CHANGED)]
        fresh, self.seen = messages[self.seen :], len(messages)
        return fresh

    def latest(self, code: str) -> dict[date, dict[str, Any]]:
        """Per night, what the highest-sequence message of room type `code` says (the
        consumer's rule): free rooms and each plan's night."""
        nights: dict[date, dict[str, Any]] = {}
        by_sequence = sorted(
            (e.payload for e in self.probe.events(CHANGED) if e.payload["room_type_code"] == code),
            key=lambda p: p["sequence"],
        )
        for message in by_sequence:
            start = date.fromisoformat(message["start"])
            for i, free in enumerate(message["free"]):
                plans = {p["code"]: p["nights"][i] for p in message["rate_plans"]}
                nights[start + timedelta(days=i)] = {"free": free, "plans": plans}
        return nights


async def live_service(app: FastAPI, broker: InMemoryBroker) -> AsyncIterator[Live]:
    probe = Probe(broker, {CHANGED})
    async with running(app) as client:
        yield Live(Hotel(client, broker), app, probe)


@pytest.fixture
async def live(sqlite_url: str, broker: InMemoryBroker) -> AsyncIterator[Live]:
    settings = settings_for(sqlite_url).model_copy(update={"ari_coalesce_seconds": 0.2})
    async for service in live_service(create_app(settings, broker=broker), broker):
        yield service


def stay(first: int, last: int) -> tuple[str, str]:
    start = hotel_today() + timedelta(days=10)
    return (
        (start + timedelta(days=first)).isoformat(),
        (start + timedelta(days=last)).isoformat(),
    )


def night(n: int) -> date:
    return hotel_today() + timedelta(days=10 + n)


async def confirmed(hotel: Hotel, code: str, first: int, last: int) -> str:
    check_in, check_out = stay(first, last)
    booking = await hotel.book(room_type_code=code, check_in=check_in, check_out=check_out)
    response = await hotel.confirm(booking["id"])
    assert response.status_code == 200, response.text
    return str(booking["id"])


async def rooms_of(hotel: Hotel, code: str) -> list[dict[str, Any]]:
    response = await hotel.client.get("/api/v1/rooms", params={"room_type_code": code})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_burst_of_bookings_is_one_message_with_the_rooms_left(
    sqlite_url: str, broker: InMemoryBroker
) -> None:
    settings = settings_for(sqlite_url).model_copy(update={"ari_coalesce_seconds": 1.0})
    async for live in live_service(create_app(settings, broker=broker), broker):
        await live.hotel.add_room_type("AVA", rooms=5)
        setup = await live.settle()
        assert {m["room_type_code"] for m in setup} == {"AVA"}  # the new type and its rooms
        assert min(m["start"] for m in setup) == hotel_today().isoformat()  # no past night

        await asyncio.gather(*(confirmed(live.hotel, "AVA", 0, 3) for _ in range(4)))
        burst = await live.settle()

        assert 1 <= len(burst) <= 2, burst  # one window, or at most the two it straddled
        last = burst[-1]
        assert (last["room_type_code"], last["start"], last["end"]) == ("AVA", *stay(0, 3))
        assert last["free"] == [1, 1, 1]
        assert last["property_id"] == 1 and last["currency"] == "CNY"
        base = {p["code"]: p for p in last["rate_plans"]}["BASE"]
        assert [n["amount"] for n in base["nights"]] == [30000] * 3
        assert [m["sequence"] for m in burst] == sorted(m["sequence"] for m in burst)
        assert burst[0]["sequence"] > setup[-1]["sequence"]


async def test_a_cancellation_frees_its_nights_again(live: Live) -> None:
    await live.hotel.add_room_type("AVB", rooms=2)
    first = await confirmed(live.hotel, "AVB", 0, 2)
    await confirmed(live.hotel, "AVB", 1, 3)
    await live.settle()
    assert [live.latest("AVB")[night(n)]["free"] for n in range(3)] == [1, 0, 1]

    cancelled = await live.hotel.cancel(first, "Plans changed")
    assert cancelled.status_code == 200, cancelled.text
    (message,) = await live.settle()

    assert (message["start"], message["end"]) == stay(0, 2)
    assert message["free"] == [2, 1]


async def test_a_room_out_of_order_takes_nights_away_and_gives_them_back(live: Live) -> None:
    await live.hotel.add_room_type("AVC", rooms=3)
    await live.settle()
    room = (await rooms_of(live.hotel, "AVC"))[0]
    check_in, check_out = stay(4, 6)
    created = await live.hotel.client.post(
        "/api/v1/out-of-order-periods",
        json={"room_id": room["id"], "from_date": check_in, "to_date": check_out, "reason": "Leak"},
    )
    assert created.status_code == 201, created.text
    (taken,) = await live.settle()
    assert (taken["start"], taken["end"], taken["free"]) == (check_in, check_out, [2, 2])

    ended = await live.hotel.client.post(f"/api/v1/out-of-order-periods/{created.json()['id']}/end")
    assert ended.status_code == 200, ended.text
    (back,) = await live.settle()
    assert (back["start"], back["end"], back["free"]) == (check_in, check_out, [3, 3])
    assert back["sequence"] > taken["sequence"]

    # The housekeeping status takes the room out of every night, from today on.
    patched = await live.hotel.client.patch(
        f"/api/v1/rooms/{room['id']}", json={"housekeeping_status": "out_of_order"}
    )
    assert patched.status_code == 200, patched.text
    whole = await live.settle()
    assert whole[0]["start"] == hotel_today().isoformat()
    assert all(set(m["free"]) == {2} for m in whole)
    assert len(whole) == 2  # the booking horizon, split at the longest ARI read


async def test_a_rate_or_restrictions_push_shows_the_new_prices(live: Live) -> None:
    await live.hotel.add_room_type("AVD", rooms=1)
    plan = await live.hotel.client.post(
        "/api/v1/rate-plans", json={"room_type_code": "AVD", "code": "BASE", "name": "Base"}
    )
    assert plan.status_code == 201, plan.text
    await live.settle()
    check_in, check_out = stay(2, 4)
    pushed = await live.hotel.client.put(
        f"/api/v1/rate-plans/{plan.json()['id']}/rates",
        json={"ranges": [{"start": check_in, "end": check_out, "amount": 45600}]},
    )
    assert pushed.status_code == 200, pushed.text
    (message,) = await live.settle()
    assert (message["start"], message["end"]) == (check_in, check_out)
    (base,) = message["rate_plans"]
    assert [n["amount"] for n in base["nights"]] == [45600, 45600]

    closed = await live.hotel.client.put(
        f"/api/v1/rate-plans/{plan.json()['id']}/restrictions",
        json={"ranges": [{"start": check_in, "end": stay(3, 4)[0], "stop_sell": True}]},
    )
    assert closed.status_code == 200, closed.text
    (message,) = await live.settle()
    assert message["start"] == check_in
    assert live.latest("AVD")[night(2)]["plans"]["BASE"]["stop_sell"] is True
    assert live.latest("AVD")[night(3)]["plans"]["BASE"]["stop_sell"] is False


async def test_changes_to_two_room_types_are_two_messages(live: Live) -> None:
    await live.hotel.add_room_type("AVE", rooms=2)
    await live.hotel.add_room_type("AVF", rooms=2)
    await live.settle()
    await asyncio.gather(confirmed(live.hotel, "AVE", 0, 2), confirmed(live.hotel, "AVF", 0, 2))
    messages = await live.settle()
    assert sorted(m["room_type_code"] for m in messages) == ["AVE", "AVF"]
    assert all(m["free"] == [1, 1] for m in messages)


async def test_nothing_is_published_when_nothing_changed(live: Live) -> None:
    await live.hotel.add_room_type("AVG", rooms=2)
    plan = await live.hotel.client.post(
        "/api/v1/rate-plans", json={"room_type_code": "AVG", "code": "BASE", "name": "Base"}
    )
    check_in, check_out = stay(0, 2)
    push = {"ranges": [{"start": check_in, "end": check_out, "amount": 40000}]}
    rates = f"/api/v1/rate-plans/{plan.json()['id']}/rates"
    assert (await live.hotel.client.put(rates, json=push)).status_code == 200
    await live.settle()

    assert (await live.hotel.client.put(rates, json=push)).json()["changed"] == 0
    room = (await rooms_of(live.hotel, "AVG"))[0]
    same = {"housekeeping_status": room["housekeeping_status"]}
    assert (await live.hotel.client.patch(f"/api/v1/rooms/{room['id']}", json=same)).is_success
    dirty = {"housekeeping_status": "dirty"}  # not out of order: every night still sells
    assert (await live.hotel.client.patch(f"/api/v1/rooms/{room['id']}", json=dirty)).is_success
    await live.hotel.available("AVG", check_in, check_out)
    full = await live.hotel.book(room_type_code="KNG", check_in=check_in, check_out=check_out)
    # A booking only requested holds nothing.
    assert full["status"] == "requested"
    await asyncio.sleep(1.0)  # five windows
    assert await live.settle() == []


async def test_a_change_staged_before_midnight_publishes_only_tonight_on(live: Live) -> None:
    await live.hotel.add_room_type("AVH", rooms=2)
    await live.settle()
    async with live.app.state.runtime.sessions() as session:
        room_type_id = (
            await session.exec(text("SELECT id FROM room_types WHERE code = 'AVH'"))
        ).one()[0]
        today = hotel_today()
        await mark(session, room_type_id, today - timedelta(days=3), today + timedelta(days=2))
        await mark(session, room_type_id, today - timedelta(days=9), today - timedelta(days=5))
        await session.commit()
    (message,) = await live.settle()
    assert (message["start"], message["end"]) == (
        today.isoformat(),
        (today + timedelta(days=2)).isoformat(),
    )


# -- two replicas on one PostgreSQL database --------------------------------------------------


@pytest.mark.infra
async def test_two_replicas_publish_each_change_once_in_sequence(
    tmp_path: Path, broker: InMemoryBroker
) -> None:
    url = f"{PG}/test_{uuid.uuid4().hex}"
    probe = Probe(broker, {CHANGED})
    # Small batches: the replicas take turns on the rows.
    fast = {"ari_coalesce_seconds": 0.05, "ari_claim_batch": 2}
    settings = [settings_for(url).model_copy(update=fast | {"seed_demo": s}) for s in (1, 0)]
    apps = [create_app(one, broker=broker) for one in settings]
    try:
        async with running(apps[0]) as a, running(apps[1]) as b:
            live, other = Live(Hotel(a, broker), apps[0], probe), Hotel(b, broker)
            await live.hotel.add_room_type("AVR", rooms=3)
            setup = await live.settle()
            # 24 one-night stays 7 nights apart: 24 changes no window may merge.
            hotels = [live.hotel, other]
            await asyncio.gather(
                *(confirmed(hotels[i % 2], "AVR", 7 * i, 7 * i + 1) for i in range(24))
            )
            await asyncio.sleep(1.0)  # anything more would come
            await other.published()
            bookings = await live.settle()
        envelopes: list[Envelope] = probe.events(CHANGED)
        messages = [e.payload for e in envelopes]
    finally:
        await drop_database(url)
    assert messages == setup + bookings
    assert len(bookings) == 24, [(m["start"], m["sequence"]) for m in bookings]
    assert sorted((m["start"], m["end"]) for m in bookings) == sorted(
        stay(7 * i, 7 * i + 1) for i in range(24)
    )
    assert all(m["free"] == [2] for m in bookings)
    sequences = [m["sequence"] for m in messages]
    assert sorted(sequences) == list(range(1, len(messages) + 1))  # each once, no gap
    in_order = sorted(messages, key=lambda m: m["sequence"])
    assert [m["computed_at"] for m in in_order] == sorted(m["computed_at"] for m in in_order)
    assert len({e.id for e in envelopes}) == len(envelopes)
    assert {e.aggregate_version for e in envelopes} == set(sequences)
