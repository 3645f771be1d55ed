"""The first guest journey through the gateway, on both run modes: book with a transfer,
confirm, get a driver and three notices by email in the guest's language; cancel and the
transfer is cancelled too."""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from harness import Platform, body_of
from hotel_common.events.envelope import Envelope
from hotel_common.events.memory import InMemoryBus
from hotel_common.testing import MailServer, eventually, stable_digits

SHANGHAI = ZoneInfo("Asia/Shanghai")


def booking(email: str, language: str = "zh-Hans", **changes: Any) -> dict[str, Any]:
    check_in = date.today() + timedelta(days=12)
    arrival = datetime.combine(check_in, time(10, 30), SHANGHAI)
    body: dict[str, Any] = {
        "guest": {
            "name": "李雷",
            "email": email,
            "phone": f"+86 139 {stable_digits(email, 8)}",
            "language": language,
        },
        "room_type_code": "KNG",
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=3)).isoformat(),
        "guests": 2,
        "special_requests": "High floor, quiet room",
        "transfer": {
            "flight_number": "MU5101",
            "arrival_time": arrival.isoformat(),
            "pickup_place": "Shanghai Pudong International Airport T1",
            "passengers": 2,
            "luggage": 2,
        },
    }
    body.update(changes)
    return body


async def available(client: httpx.AsyncClient, body: dict[str, Any], code: str) -> int:
    r = await client.get(
        "/api/v1/availability",
        params={"check_in": body["check_in"], "check_out": body["check_out"]},
    )
    assert r.status_code == 200, r.text
    rows = r.json()
    rows = rows.get("room_types", rows) if isinstance(rows, dict) else rows
    return next(int(t["available"]) for t in rows if t["room_type_code"] == code)


async def test_book_confirm_transfer_and_notices_then_cancel(
    platform: Platform, mailbox: MailServer
) -> None:
    client = platform.client
    email = f"li.lei.{platform.mode}@example.cn"
    body = booking(email)
    rooms_before = await available(client, body, "KNG")

    created = await client.post(
        "/api/v1/reservations", json=body, headers={"Idempotency-Key": f"journey-{email}"}
    )
    assert created.status_code == 201, created.text
    assert created.headers["x-request-id"]
    reservation = created.json()
    rid, number = reservation["id"], reservation["confirmation_number"]
    assert reservation["status"] == "requested"

    confirmed = await client.post(f"/api/v1/reservations/{rid}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
    assert await available(client, body, "KNG") == rooms_before - 1

    # The transfer is scheduled and assigned from the event, with a driver and a vehicle.
    transfers = await eventually(
        lambda: client.get("/api/v1/transfers", params={"reservation_id": rid}),
        lambda r: r.status_code == 200 and [t["status"] for t in r.json()["items"]] == ["assigned"],
    )
    job = transfers.json()["items"][0]
    detail = (await client.get(f"/api/v1/transfers/{job['id']}")).json()
    plate, driver = detail["vehicle"]["plate"], detail["driver"]["name"]
    assert detail["passengers"] == 2

    # Three notices reach the guest's mailbox, in Chinese: the request received (how to
    # guarantee it), the confirmation and the pickup.
    await eventually(lambda: _async(mailbox.to(email)), lambda m: len(m) == 3, timeout=20)
    by_subject = {str(m["Subject"]): body_of(m) for m in mailbox.to(email)}
    confirmation = next(b for b in by_subject.values() if number in b and plate not in b)
    pickup = next(b for b in by_subject.values() if plate in b)
    assert "预订" in confirmation or "确认" in confirmation
    assert driver in pickup and "MU5101" in pickup
    assert "10:30" in pickup  # the pickup time, in the hotel's time zone

    notices = await eventually(
        lambda: client.get("/api/v1/notifications", params={"reservation_id": rid}),
        lambda r: sorted(n["status"] for n in r.json()["items"]) == ["sent", "sent", "sent"],
    )
    assert {n["language"] for n in notices.json()["items"]} == {"zh-Hans"}

    # The guest now has a profile, with this stay.
    guests = await eventually(
        lambda: client.get("/api/v1/guests", params={"email": email.upper()}),
        lambda r: r.status_code == 200 and len(r.json()["items"]) == 1,
    )
    [guest] = guests.json()["items"]
    profile = (await client.get(f"/api/v1/guests/{guest['id']}")).json()
    assert [s["reservation_id"] for s in profile["stays"]] == [rid]

    # Cancel: the room comes back, the transfer is cancelled, the guest is told.
    cancelled = await client.post(f"/api/v1/reservations/{rid}/cancel", json={"reason": "plans"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert await available(client, body, "KNG") == rooms_before
    await eventually(
        lambda: client.get("/api/v1/transfers", params={"reservation_id": rid}),
        lambda r: [t["status"] for t in r.json()["items"]] == ["cancelled"],
    )
    # The cancellation's notice; none of its own for the ride the booking took with it.
    await eventually(lambda: _async(mailbox.to(email)), lambda m: len(m) == 4, timeout=20)


async def test_english_guest_gets_english_notices(platform: Platform, mailbox: MailServer) -> None:
    client = platform.client
    email = f"emily.{platform.mode}@example.com"
    guest = {"name": "Emily Carter", "email": email, "language": "en"}
    body = booking(email, language="en", guest=guest)
    rid = (await client.post("/api/v1/reservations", json=body)).json()["id"]
    assert (await client.post(f"/api/v1/reservations/{rid}/confirm")).status_code == 200
    mails = await eventually(lambda: _async(mailbox.to(email)), lambda m: len(m) == 3, timeout=20)
    [job] = (await client.get("/api/v1/transfers", params={"reservation_id": rid})).json()["items"]
    for mail in mails:
        text = str(mail["Subject"]) + body_of(mail)
        assert "Emily Carter" in text
        # The hotel's wording is English; Chinese may appear only in data (plate, driver).
        for value in (job["vehicle"]["plate"], job["driver"]["name"]):
            text = text.replace(value, "")
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in text)


async def _async(value: Any) -> Any:
    return value


async def test_a_requests_id_follows_the_events_it_causes(embedded: Platform) -> None:
    assert embedded.broker is not None
    seen: list[Envelope] = []

    async def note(envelope: Envelope) -> None:
        seen.append(envelope)

    probe = InMemoryBus(embedded.broker, "probe")  # listens like any other service
    probe.subscribe("reservation.confirmed", note)
    probe.subscribe("transfer.assigned", note)
    await probe.start()
    client = embedded.client
    rid = (await client.post("/api/v1/reservations", json=booking("trace@example.com"))).json()[
        "id"
    ]
    trace = {"X-Request-ID": "front-desk-7f3a"}
    confirmed = await client.post(f"/api/v1/reservations/{rid}/confirm", headers=trace)
    assert confirmed.headers["x-request-id"] == "front-desk-7f3a"

    first, second = await eventually(lambda: _async(list(seen)), lambda e: len(e) == 2)
    await probe.close()
    assert (first.type, second.type) == ("reservation.confirmed", "transfer.assigned")
    assert first.correlation_id == second.correlation_id == "front-desk-7f3a"
    assert second.causation_id == first.id  # the pickup was caused by the confirmation
