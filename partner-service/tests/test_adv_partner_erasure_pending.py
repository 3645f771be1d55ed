"""Adversarial privacy: a guest erased while deliveries of their booking are still pending (the
partner's receiver is down) or asked for again (a redelivery) — what reaches the receiver after
the erasure holds neither their name nor their contact. Deliveries are built from the feed entry
at send time, so blanking the entry covers both (held; kept as proof)."""

from pathlib import Path

from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import deliver, eventually, guest_erased, reservation_confirmed

from .conftest import reservation_created
from .webhook_support import Receiver, platform, receiving


async def test_pending_and_redelivered_webhooks_carry_no_erased_guest(tmp_path: Path) -> None:
    broker = InMemoryBroker()
    async with platform(tmp_path, broker=broker) as p, receiving(Receiver()) as receiver:
        assert receiver.proxy is not None
        made = await p.subscribe(receiver.url)
        receiver.proxy.cut()  # down: the booking's deliveries wait
        booking = reservation_confirmed(partner_id=p.partner_id, aggregate_version=2)
        guest = booking.guest
        deliver(broker, reservation_created(booking))
        deliver(broker, booking)
        await eventually(lambda: p.deliveries(made["id"]), timeout=10)  # tried, failed
        erased = guest_erased(
            booking.reservation_id,
            email=guest.email,
            phone=guest.phone or "",
            name=guest.name,
            version=5,
        )
        deliver(broker, erased)

        async def blanked() -> bool:
            page = (await p.client.get("/api/v1/events")).json()
            return guest.email not in str(page)

        await eventually(blanked, timeout=10)
        receiver.proxy.restore()
        await eventually(lambda: len(receiver.accepted) == 2, timeout=20)
        path = f"/api/v1/webhook-subscriptions/{made['id']}/redeliveries"
        again = await p.client.post(path, json={"after": "0", "through": "2"})
        assert again.status_code == 202, again.text
        await eventually(lambda: len(receiver.accepted) == 4, timeout=20)
        for got in receiver.accepted:
            text = got.body.decode()
            assert guest.email not in text and guest.name not in text, text
            assert guest.phone is None or guest.phone not in text
