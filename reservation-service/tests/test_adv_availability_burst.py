"""Adversarial (issue 21): `availability.changed` from two replicas' publishers while both take a
burst of bookings and cancellations on the SAME nights (PostgreSQL, small claim batches so
the passes interleave): per room type every sequence once and strictly increasing with the
time it was read, and the highest-sequence message of every night says what is true at the
end (no change left uncovered, no older read winning)."""

import asyncio
import random
import uuid
from pathlib import Path

import pytest
from hotel_common.db import drop_database
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import Probe, running
from reservation_service.main import create_app

from .conftest import PG, Hotel, settings_for
from .test_availability_changed import CHANGED, Live, confirmed, night

ROOMS = 8


@pytest.mark.infra
async def test_a_burst_on_two_replicas_ends_with_the_final_state(
    tmp_path: Path, broker: InMemoryBroker
) -> None:
    url = f"{PG}/test_{uuid.uuid4().hex}"
    probe = Probe(broker, {CHANGED})
    fast = {"ari_coalesce_seconds": 0.03, "ari_claim_batch": 2}
    settings = [settings_for(url).model_copy(update=fast | {"seed_demo": s}) for s in (1, 0)]
    apps = [create_app(one, broker=broker) for one in settings]
    rng = random.Random(21)
    try:
        async with running(apps[0]) as a, running(apps[1]) as b:
            live, other = Live(Hotel(a, broker), apps[0], probe), Hotel(b, broker)
            hotels = [live.hotel, other]
            await live.hotel.add_room_type("AVX", rooms=ROOMS)
            await live.settle()
            # Stays over nights 0..5, at most ROOMS on any night.
            stays = [(f, f + rng.randint(1, 3)) for f in (rng.randint(0, 3) for _ in range(ROOMS))]

            async def book_then_maybe_cancel(i: int, first: int, last: int) -> bool:
                hotel = hotels[i % 2]
                booking = await confirmed(hotel, "AVX", first, last)
                if i % 3 == 0:
                    await asyncio.sleep(rng.random() * 0.05)
                    cancelled = await hotels[(i + 1) % 2].cancel(booking, "Plans changed")
                    assert cancelled.status_code == 200, cancelled.text
                    return False
                return True

            kept = await asyncio.gather(
                *(book_then_maybe_cancel(i, f, last) for i, (f, last) in enumerate(stays))
            )
            await asyncio.sleep(0.5)
            await other.published()
            await live.settle()
        messages = [e for e in probe.events(CHANGED) if e.payload["room_type_code"] == "AVX"]
    finally:
        await drop_database(url)

    sequences = [m.payload["sequence"] for m in messages]
    assert sorted(sequences) == list(range(1, len(messages) + 1)), sequences
    by_sequence = sorted(messages, key=lambda m: m.payload["sequence"])
    read_at = [m.payload["computed_at"] for m in by_sequence]
    assert read_at == sorted(read_at)  # a higher sequence never carries an older read
    final = live.latest("AVX")
    for n in range(7):
        held = sum(1 for (f, last), k in zip(stays, kept, strict=True) if k and f <= n < last)
        assert final[night(n)]["free"] == ROOMS - held, (n, final[night(n)], stays, kept)
