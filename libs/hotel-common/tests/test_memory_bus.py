"""The in-memory bus keeps the promises that matter: async, at least once, retried, parked."""

import asyncio
from typing import ClassVar

from hotel_common.events.envelope import Envelope, IntegrationEvent
from hotel_common.events.memory import InMemoryBroker, InMemoryBus
from hotel_common.testing import eventually


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
    await eventually(
        lambda: asyncio.sleep(0, seen), lambda s: len(s["a"]) == 2 and len(s["b"]) == 2
    )
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
    await eventually(lambda: asyncio.sleep(0, attempts), lambda a: len(a) == 3)
    await asyncio.sleep(0.05)
    assert len(attempts) == 3 and await bus.dead_letters() == []
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
    parked = await eventually(bus.dead_letters, lambda d: len(d) == 1)
    assert parked[0].id == sent.id

    healed = True
    assert await bus.replay_dead_letters() == 1
    await eventually(lambda: asyncio.sleep(0, handled), lambda h: h == [sent.id])
    assert await bus.dead_letters() == []
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
