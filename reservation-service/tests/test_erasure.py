"""`guest.erased`: reservation-service forgets the guest in every booking of theirs (the stays
the event names and any other booking made with their email), keeps amounts, leaves other
guests' bookings alone (a shared phone reaches none), and leaves no copy of the email or phone
in any column of its database; a redelivery changes nothing more. On SQLite and PostgreSQL."""

from hotel_common.contracts.guests import GuestErased
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import columns_holding, deliver, eventually, guest_erased

from .conftest import Hotel

EMAIL, PHONE = "li.wei@example.com", "+8613800138000"


def erasure(*reservation_ids: str) -> GuestErased:
    return guest_erased(*reservation_ids, email=EMAIL, phone=PHONE, name="Li Wei", version=7)


async def test_an_erased_guest_is_forgotten_in_their_bookings_and_amounts_stay(
    hotel_on_each_db: Hotel, broker: InMemoryBroker
) -> None:
    hotel = hotel_on_each_db
    stay = await hotel.book(special_requests="Li Wei needs a quiet room, call +8613800138000")
    assert (await hotel.confirm(stay["id"])).status_code == 200
    answer = await hotel.client.post(
        "/api/v1/reservations", json=hotel.booking(), headers={"Idempotency-Key": "li-wei-2"}
    )
    assert answer.status_code == 201, answer.text
    never_confirmed = answer.json()
    other = await hotel.book(
        guest={"name": "Zhang San", "email": "zhang.san@example.com", "phone": PHONE}
    )
    url = hotel.client._transport.app.state.settings.database_url  # type: ignore[attr-defined]
    assert await columns_holding(url, EMAIL)

    envelope = deliver(broker, erasure(stay["id"]), "guest-service")

    async def forgotten() -> list[dict]:
        return [await hotel.reservation(r["id"]) for r in (stay, never_confirmed)]

    for booking in await eventually(
        forgotten, until=lambda bs: all(b["guest"]["name"] == "Erased guest" for b in bs)
    ):
        assert booking["guest"]["email"] == f"erased-{booking['id']}@erased.invalid"
        assert booking["guest"]["phone"] is None
        assert booking["special_requests"] is None
    assert (await hotel.reservation(stay["id"]))["total_amount"] == stay["total_amount"]
    untouched = await hotel.reservation(other["id"])
    assert untouched["guest"]["email"] == "zhang.san@example.com"
    assert untouched["guest"]["phone"] == PHONE

    # The booking events in the outbox, the stored answer to the keyed POST, the history: no
    # column holds the email any more (the phone stays only on the other guest's booking).
    assert await columns_holding(url, EMAIL, "Li Wei") == []
    # A guest signing in with the old address finds none of the bookings.
    assert await hotel.reservations(email=EMAIL) == []

    broker.route(envelope)  # redelivered: nothing more to do, nothing fails
    await eventually(
        lambda: hotel.client.get("/admin/dead-letters"), lambda r: r.json()["items"] == []
    )
    assert (await hotel.reservation(other["id"]))["guest"]["name"] == "Zhang San"
