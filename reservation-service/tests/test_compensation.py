"""`complaint.folio_compensation`: the money guest-service grants for a complaint case shows on
the booking's folio once per case: a credit lowers what a guest in house owes; a refund, or any
compensation on a checked-out booking, is paid back by the folio's payment method. A case for
an unknown booking or in another currency posts nothing and fails nothing. SQLite and
PostgreSQL (a unique reference per case on the folio lines)."""

import uuid
from datetime import date
from typing import Any, Literal

from hotel_common.contracts.complaints import FolioCompensationGranted
from hotel_common.testing import deliver, eventually

from .conftest import Hotel
from .test_stay import folio, in_house, leave_at, tonight, url


def granted(
    reservation_id: str,
    amount: int,
    kind: Literal["refund", "credit"] = "credit",
    case_id: str | None = None,
    currency: str = "CNY",
) -> FolioCompensationGranted:
    case_id = case_id or str(uuid.uuid4())
    return FolioCompensationGranted(
        case_id=case_id,
        case_number="C301201-7K3QAB",
        reservation_id=reservation_id,
        kind=kind,
        amount=amount,
        currency=currency,
        reason="Complaint C301201-7K3QAB: noisy room",
        aggregate_version=6,
    )


def compensations(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [line for line in body["lines"] if line["kind"] == "compensation"]


async def folio_once(hotel: Hotel, reservation_id: str, count: int) -> dict[str, Any]:
    """The folio once `count` compensation lines are on it."""
    return await eventually(
        lambda: folio(hotel, reservation_id), lambda body: len(compensations(body)) >= count
    )


async def test_a_credit_lowers_what_the_guest_owes_once_per_case(hotel_on_each_db, broker):
    hotel = hotel_on_each_db
    guest = await in_house(hotel, deposit=50000)
    rid = guest["id"]
    before = (await folio(hotel, rid))["balance"]
    grant = granted(rid, 20000)

    envelope = deliver(broker, grant, "guest-service")
    body = await folio_once(hotel, rid, 1)

    [line] = compensations(body)
    assert line["amount"] == -20000
    assert line["description"] == "Complaint C301201-7K3QAB: noisy room"
    assert body["balance"] == before - 20000
    # The same event again, and the case's grant published a second time (a new event id):
    # nothing more. A later case on the same booking is then posted (the queue is in order).
    broker.route(envelope)
    deliver(broker, granted(rid, 20000, case_id=grant.case_id), "guest-service")
    deliver(broker, granted(rid, 500), "guest-service")
    body = await folio_once(hotel, rid, 2)
    assert sorted(line["amount"] for line in compensations(body)) == [-20000, -500]
    assert body["balance"] == before - 20500
    assert not [line for line in body["lines"] if line["kind"] == "refund"]  # still in house


async def test_a_checked_out_guest_is_paid_back_by_the_method_they_paid_with(
    hotel_on_each_db, broker, monkeypatch
):
    hotel = hotel_on_each_db
    guest = await in_house(hotel, deposit=30000, **tonight(nights=2))
    rid = guest["id"]
    leave_at(monkeypatch, date.fromisoformat(guest["check_out"]), 10)
    due = guest["total_amount"] - 30000
    paid = await hotel.client.post(
        url(rid, "folio/payments"), json={"amount": due, "method": "card_terminal"}
    )
    assert paid.status_code == 201, paid.text
    assert (await hotel.client.post(url(rid, "check-out"))).status_code == 200

    deliver(broker, granted(rid, 15000, kind="credit"), "guest-service")
    body = await folio_once(hotel, rid, 1)

    [credit] = compensations(body)
    [refund] = [line for line in body["lines"] if line["kind"] == "refund"]
    assert credit["amount"] == -15000
    # The deposit's method first, as check-out refunds (cash at check-in).
    assert refund["amount"] == 15000 and refund["method"] == "cash"
    assert "C301201-7K3QAB" in refund["description"]
    assert body["balance"] == 0
    assert body["charges_amount"] == guest["total_amount"]  # the stay's charges stay
    assert body["paid_amount"] == guest["total_amount"] - 15000


async def test_a_refund_never_pays_back_more_than_the_guest_paid(hotel_on_each_db, broker):
    hotel = hotel_on_each_db
    guest = await in_house(hotel, deposit=10000)
    rid = guest["id"]
    before = await folio(hotel, rid)
    assert before["paid_amount"] == 10000

    deliver(broker, granted(rid, 25000, kind="refund"), "guest-service")
    body = await folio_once(hotel, rid, 1)

    # The guest paid the deposit only: that much goes back now; the rest of the 250.00 stays
    # on the folio, lowering what the stay will cost them.
    [refund] = [line for line in body["lines"] if line["kind"] == "refund"]
    assert refund["amount"] == 10000 and refund["method"] == "cash"
    assert body["paid_amount"] == 0
    assert body["balance"] == before["balance"] - 25000 + 10000


async def test_an_unknown_booking_or_another_currency_posts_nothing_and_fails_nothing(
    hotel, broker
):
    guest = await in_house(hotel, deposit=0)
    rid = guest["id"]

    deliver(broker, granted(str(uuid.uuid4()), 10000), "guest-service")
    deliver(broker, granted(rid, 10000, currency="USD"), "guest-service")
    deliver(broker, granted(rid, 700), "guest-service")
    body = await folio_once(hotel, rid, 1)

    assert [line["amount"] for line in compensations(body)] == [-700]
    dead = await hotel.client.get("/admin/dead-letters")
    assert dead.json()["items"] == []
    history = (await hotel.client.get(url(rid, "history"))).json()
    assert history[-1]["action"] == "checked_in"  # the booking itself did not change
