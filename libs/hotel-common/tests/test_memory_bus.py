"""The in-memory bus keeps the promises that matter: async, at least once, retried, parked."""

import asyncio
from typing import ClassVar

from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.events.memory import InMemoryBroker, InMemoryBus
from hotel_common.testing import eventually
from pydantic import BaseModel, Field


class Pinged(IntegrationEvent):
    event_type: ClassVar[str] = "test.pinged"
    n: int


def envelope(n: int) -> Envelope:
    return Envelope.wrap(Pinged(n=n), "tests")


async def test_delivers_to_every_subscribed_service_and_not_to_others() -> None:
    broker = InMemoryBroker()
    seen: dict[str, list[int]] = {"a": [], "b": [], "c": []}
    buses = []
    for name, key in (("a", "test.pinged"), ("b", "test.pinged"), ("c", "test.other")):

        async def handler(e: Envelope, name: str = name) -> None:
            seen[name].append(e.payload["n"])

        bus = InMemoryBus(broker, name)
        bus.subscribe(key, handler)
        await bus.start()
        buses.append(bus)

    await buses[0].publish([envelope(1), envelope(2)])
    await eventually(lambda: seen, lambda s: len(s["a"]) == 2 and len(s["b"]) == 2)
    assert seen["a"] == [1, 2] and seen["b"] == [1, 2] and seen["c"] == []
    for bus in buses:
        await bus.close()


async def test_failing_handler_is_retried_then_succeeds() -> None:
    broker = InMemoryBroker()
    attempts = []

    async def flaky(e: Envelope) -> None:
        attempts.append(e.id)
        if len(attempts) < 3:
            raise RuntimeError("not yet")

    bus = InMemoryBus(broker, "svc", retry_delays=[0.01, 0.01, 0.01])
    bus.subscribe("test.pinged", flaky)
    await bus.start()
    await bus.publish([envelope(1)])
    await eventually(lambda: attempts, lambda a: len(a) == 3)
    await asyncio.sleep(0.05)
    assert len(attempts) == 3 and (await bus.dead_letters()).items == []
    await bus.close()


async def test_handler_that_always_fails_is_parked_then_replayed() -> None:
    broker = InMemoryBroker()
    healed = False
    handled: list[str] = []

    async def handler(e: Envelope) -> None:
        if not healed:
            raise RuntimeError("broken")
        handled.append(e.id)

    bus = InMemoryBus(broker, "svc", retry_delays=[0.01, 0.02])
    bus.subscribe("test.pinged", handler)
    await bus.start()
    sent = envelope(7)
    await bus.publish([sent])
    parked = await eventually(bus.dead_letters, lambda d: len(d.items) == 1)
    assert parked.items[0].id == sent.id

    healed = True
    assert (await bus.replay_dead_letters()).replayed == [sent.id]
    await eventually(lambda: handled, lambda h: h == [sent.id])
    assert (await bus.dead_letters()).items == []
    await bus.close()


async def test_publish_fails_loudly_when_the_broker_is_down() -> None:
    broker = InMemoryBroker()
    bus = InMemoryBus(broker, "svc")
    broker.up = False
    try:
        await bus.publish([envelope(1)])
    except ConnectionError:
        pass
    else:
        raise AssertionError("publish to a down broker must raise")
    assert await bus.ready() is False


# -- point 7: dead letters say why, page, and replay one, a selection or all ----------------


class Guest(BaseModel):
    email: str = Field(pattern=r"^[^@]+@[^@]+$")


async def parked_bus(count: int) -> tuple[InMemoryBus, list[str], list[str]]:
    """A bus whose handler rejects every event until healed; `count` events parked.

    Returns the bus, the parked ids in parking order and the list of ids handled once healed.
    """
    broker = InMemoryBroker()
    handled: list[str] = []
    state = {"healed": False}

    async def check_guest(e: Envelope) -> None:
        if not state["healed"]:
            Guest.model_validate({"email": f"not-an-email-{e.payload['n']}"})
        handled.append(e.id)

    bus = InMemoryBus(broker, "svc", retry_delays=[0.001, 0.001])
    bus.subscribe("test.pinged", check_guest)
    await bus.start()
    sent = [envelope(n) for n in range(count)]
    for e in sent:  # one at a time: the parking order is the sending order
        await bus.publish([e])
        await eventually(bus.dead_letters, lambda p, e=e: e.id in [d.id for d in p.items])
    bus.heal = lambda: state.update(healed=True)  # type: ignore[attr-defined]
    return bus, [e.id for e in sent], handled


async def test_a_dead_letter_carries_its_error_attempts_and_handler_but_no_input() -> None:
    bus, ids, _ = await parked_bus(1)
    (dead,) = (await bus.dead_letters()).items
    assert dead.id == ids[0] and dead.type == "test.pinged" and dead.service == "svc"
    assert dead.attempts == 3  # the first delivery and one per retry delay
    assert dead.handler is not None and dead.handler.endswith("check_guest")
    assert dead.error_type == "ValidationError"
    assert dead.error is not None and "email" in dead.error
    assert "not-an-email" not in dead.error  # the input value stays out
    assert dead.first_received_at is not None and dead.dead_lettered_at is not None
    assert dead.first_received_at <= dead.dead_lettered_at
    assert dead.envelope is not None and dead.envelope.payload == {"n": 0}
    await bus.close()


async def test_dead_letters_page_in_parking_order_and_stay_parked() -> None:
    bus, ids, _ = await parked_bus(7)
    seen: list[str] = []
    cursor = None
    while True:
        page = await bus.dead_letters(limit=3, cursor=cursor)
        seen += [d.id for d in page.items]
        assert len(page.items) <= 3
        if (cursor := page.next_cursor) is None:
            break
    assert seen == ids
    assert [d.id for d in (await bus.dead_letters(limit=50)).items] == ids
    # A page after its predecessor's last item was replayed still continues where it was.
    first = await bus.dead_letters(limit=3)
    await bus.replay_dead_letters([ids[2]])
    rest = await bus.dead_letters(limit=50, cursor=first.next_cursor)
    assert [d.id for d in rest.items] == ids[3:]
    await bus.close()


async def test_replay_one_a_selection_or_all_each_exactly_once() -> None:
    bus, ids, handled = await parked_bus(6)
    bus.heal()  # type: ignore[attr-defined]

    one = await bus.replay_dead_letters([ids[0]])
    assert one.replayed == [ids[0]] and one.not_found == []
    some = await bus.replay_dead_letters([ids[2], "no-such-id", ids[3], ids[2]])
    assert some.replayed == [ids[2], ids[3]] and some.not_found == ["no-such-id"]
    again = await bus.replay_dead_letters([ids[0]])
    assert again.replayed == [] and again.not_found == [ids[0]]
    assert [d.id for d in (await bus.dead_letters()).items] == [ids[1], ids[4], ids[5]]

    rest = await bus.replay_dead_letters()
    assert rest.replayed == [ids[1], ids[4], ids[5]]
    await eventually(lambda: handled, lambda h: sorted(h) == sorted(ids))
    assert (await bus.dead_letters()).items == []
    await bus.close()
