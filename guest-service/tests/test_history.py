"""A guest's history gathers what the other services told: stays with their nights, spend and
channel, cancellations, no-shows, rides taken and feedback given; and the guest's value."""

import uuid

from guest_service import history as history_part
from guest_service.models import Guest
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import eventually, principal_headers

from .conftest import GuestService
from .segment_helpers import (
    booked,
    cancelled,
    days_ago,
    guest_id_of,
    history,
    missed,
    ride_done,
    session_of,
    stayed,
)


async def test_the_history_tells_every_stay_and_what_came_of_it(service: GuestService) -> None:
    email = "history@example.com"
    first = await stayed(
        service, email, left=days_ago(30), spent=128_000, channel="ctrip", source="ota"
    )
    await stayed(service, email, left=days_ago(10), spent=10_000, currency="USD", nights=3)
    await cancelled(service, email, await booked(service, email, left=days_ago(-20)))
    await missed(service, email, await booked(service, email, left=days_ago(5)))
    await booked(service, email, left=days_ago(-60))  # still to come
    guest_id = await guest_id_of(service, email)
    service.deliver(ride_done(first, "ride-1"))
    service.deliver(ride_done(first, "ride-1"))  # redelivered: one ride
    async with session_of(service) as session, session.begin():
        await history_part.note_feedback(session, guest_id, kind="survey", reference="s:1")
        await history_part.note_feedback(session, guest_id, kind="survey", reference="s:1")

    told = await eventually(
        lambda: history(service, guest_id), until=lambda h: h["summary"]["transfers"] == 1
    )

    assert told["summary"] == {
        "stays": 2,
        "nights": 5,
        "spend_cny": "2000.00",  # 1,280 yuan + 100 USD at 7.2
        "upcoming": 1,
        "cancellations": 1,
        "no_shows": 1,
        "transfers": 1,
        "feedback": 1,
        "first_stay_on": days_ago(32).isoformat(),
        "last_stay_on": days_ago(10).isoformat(),
        "channels": {"ctrip": 1, "unknown": 1},
    }
    ota = next(s for s in told["stays"] if s["reservation_id"] == first.reservation_id)
    assert (
        ota | {"channel": "ctrip", "source": "ota", "transfers": 1, "spend_cny": "1280.00"} == ota
    )
    assert [s["status"] for s in told["stays"]] == [
        "confirmed",
        "cancelled",
        "no_show",
        "checked_out",
        "checked_out",
    ]
    # Two recent stays worth 2,000 yuan: recent, mid frequency, low spend: a stable guest.
    assert told["value"] | {"recency": 3, "frequency": 2, "monetary": 1} == told["value"]
    assert told["value"]["value_class"] == "stable"
    assert told["value"]["spend_cny"] == 2000


async def test_an_ad_hoc_ride_counts_for_the_profile_holding_its_email(
    service: GuestService,
) -> None:
    email = "rider@example.com"
    made = await booked(service, email, left=days_ago(-3))
    guest_id = await guest_id_of(service, email)
    service.deliver(ride_done(None, "adhoc-1", guest=made.guest))
    service.deliver(ride_done(None, "adhoc-2", guest=made.guest, status="no_show"))

    told = await eventually(
        lambda: history(service, guest_id), until=lambda h: h["summary"]["transfers"] >= 1
    )
    assert told["summary"]["transfers"] == 1
    assert told["value"] is None  # no completed stay yet: nothing to weigh


async def test_history_is_for_desk_staff_and_marketing(service: GuestService) -> None:
    email = "private.history@example.com"
    await booked(service, email, left=days_ago(-3))
    guest_id = await guest_id_of(service, email)
    path = f"/api/v1/guests/{guest_id}/history"

    for role, status in ((Role.MARKETING, 200), (Role.FRONT_DESK, 200), (Role.DISPATCHER, 403)):
        staff = Principal(id=f"staff:{role}", kind=Kind.STAFF, roles=frozenset({role}))
        answer = await service.client.get(path, headers=principal_headers(staff))
        assert answer.status_code == status, (role, answer.text)
    unknown = await service.client.get(f"/api/v1/guests/{uuid.uuid4()}/history")
    assert unknown.status_code == 404
    assert Guest  # the profile is read only to tell 404
