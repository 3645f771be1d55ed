"""The staff inbox (issue 20): alerts raised from events for the front desk (a booking request
awaiting confirmation, a no-show, a guest no notice reached) and dispatch (a pickup reassigned,
moved with no crew, a pickup no-show, a pickup cancelled); managers see both; each staff member
has their own read state. The digest: one email a period per subscribed staff member listing
the alerts raised since their last one, none when nothing is new, once with two workers."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hotel_common.contracts.reservations import ReservationCreated
from hotel_common.db import drop_database
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import (
    MailServer,
    eventually,
    principal_headers,
    reservation_confirmed,
    reservation_no_show,
    scratch_url,
    transfer_cancelled,
)
from hotel_common.time import utcnow
from notification_service import staff_inbox
from notification_service.models import Kind as NoticeKind
from notification_service.models import Notification, Reason, Status
from sqlmodel import select

from .conftest import Samples, Service, StartService


def staff(name: str, *roles: Role) -> Principal:
    return Principal(id=f"staff:{name}", kind=Kind.STAFF, roles=frozenset(roles))


DESK = staff("desk", Role.FRONT_DESK)
DESK_2 = staff("desk2", Role.FRONT_DESK)
DISPATCH = staff("dispatch", Role.DISPATCHER)
MANAGER = staff("manager", Role.MANAGER)


async def call(svc: Service, method: str, path: str, who: Principal, **kwargs: Any) -> Any:
    return await svc.client.request(method, path, headers=principal_headers(who), **kwargs)


async def inbox_of(svc: Service, who: Principal, **params: Any) -> dict[str, Any]:
    response = await call(svc, "GET", "/api/v1/inbox/messages", who, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def kinds(page: dict[str, Any]) -> set[str]:
    return {m["kind"] for m in page["items"]}


def requested() -> ReservationCreated:
    booked = reservation_confirmed()
    return ReservationCreated(
        reservation_id=booked.reservation_id,
        confirmation_number=booked.confirmation_number,
        property_name=booked.property_name,
        room_type_code="KNG",
        check_in=booked.check_in,
        check_out=booked.check_out,
        guests=2,
        total_amount=booked.total_amount,
        currency=booked.currency,
        channel="direct",
        guest=booked.guest,
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def svc(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    start_service: StartService,
    mail_server: MailServer,
) -> AsyncIterator[Service]:
    url = scratch_url(request.param, tmp_path, "notification_staff_inbox")
    try:
        # The worker's own tick is far away: the tests drive its passes.
        async with start_service(
            database_url=url, smtp_url=mail_server.url, staff_digest_seconds=3600
        ) as service:
            yield service
    finally:
        if request.param == "postgresql":
            await drop_database(url)


async def test_alerts_reach_their_audience_with_each_members_read_state(
    svc: Service, samples: Samples
) -> None:
    request = requested()
    envelope = svc.deliver(request)
    svc.deliver(reservation_no_show())
    svc.deliver(samples.reassigned())
    svc.deliver(samples.rescheduled(driver_name=None, driver_phone=None))
    svc.deliver(samples.rescheduled())  # still covered: nothing for dispatch
    svc.deliver(samples.no_show())
    svc.deliver(transfer_cancelled(confirmation_number="HV-CANCEL1"))
    svc.deliver(envelope)  # redelivered: no second alert

    everything = await eventually(
        lambda: inbox_of(svc, MANAGER), lambda b: len(b["items"]) == 6, timeout=10
    )
    assert kinds(everything) == {
        "booking_requested",
        "booking_no_show",
        "pickup_reassigned",
        "pickup_uncovered",
        "pickup_no_show",
        "pickup_cancelled",
    }
    desk = await inbox_of(svc, DESK)
    assert kinds(desk) == {"booking_requested", "booking_no_show"}
    assert desk["unread"] == 2
    assert {m["audience"] for m in desk["items"]} == {"front_desk"}
    dispatch = await inbox_of(svc, DISPATCH)
    assert kinds(dispatch) == {
        "pickup_reassigned",
        "pickup_uncovered",
        "pickup_no_show",
        "pickup_cancelled",
    }
    [asked] = [m for m in desk["items"] if m["kind"] == "booking_requested"]
    assert request.confirmation_number in asked["title"]
    assert asked["reservation_id"] == request.reservation_id

    # One desk clerk reads it; the other still has it unread.
    read = await call(svc, "POST", f"/api/v1/inbox/messages/{asked['id']}/read", DESK)
    assert read.status_code == 200, read.text
    assert read.json()["read_at"] is not None
    assert (await inbox_of(svc, DESK))["unread"] == 1
    assert (await inbox_of(svc, DESK_2))["unread"] == 2
    assert [m["id"] for m in (await inbox_of(svc, DESK, unread="true"))["items"]] != [asked["id"]]
    # Dispatch cannot reach a front-desk alert.
    hidden = await call(svc, "POST", f"/api/v1/inbox/messages/{asked['id']}/read", DISPATCH)
    assert hidden.status_code == 404
    marked = await call(svc, "POST", "/api/v1/inbox/messages/read-all", DESK_2)
    assert marked.json() == {"marked": 2}
    assert (await inbox_of(svc, DESK_2))["unread"] == 0
    assert (await inbox_of(svc, MANAGER))["unread"] == 6


async def test_a_guest_no_notice_reached_is_a_front_desk_alert_once(svc: Service) -> None:
    notice = Notification(
        event_id=str(uuid.uuid4()),
        kind=NoticeKind.RESERVATION_CONFIRMED,
        reservation_id=str(uuid.uuid4()),
        confirmation_number="HV-NOREACH",
        email="",
        language="en",
        subject="",
        body="",
        status=Status.SUPPRESSED,
        reason=Reason.NO_CHANNEL,
    )
    runtime = svc.app.state.runtime
    for _ in range(2):
        async with runtime.sessions() as session:
            await staff_inbox.guest_unreachable(session, notice)
            await session.commit()
    desk = await inbox_of(svc, DESK)
    [alert] = desk["items"]
    assert alert["kind"] == "guest_unreachable"
    assert "HV-NOREACH" in alert["title"] and "no_channel" in alert["body"]
    assert (await inbox_of(svc, DISPATCH))["items"] == []


async def test_the_digest_mails_each_subscriber_the_new_alerts_once(
    svc: Service, mail_server: MailServer, samples: Samples
) -> None:
    saved = await call(
        svc,
        "PUT",
        "/api/v1/inbox/settings",
        DESK,
        json={"digest": "every_minute", "email": "desk@harbourview.example"},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["audiences"] == ["front_desk"]
    no_email = await call(
        svc, "PUT", "/api/v1/inbox/settings", DESK_2, json={"digest": "every_minute"}
    )
    assert no_email.status_code == 422
    refused = await call(
        svc, "PUT", "/api/v1/inbox/settings", staff("hk", Role.HOUSEKEEPING), json={"digest": "off"}
    )
    assert refused.status_code == 403

    first, second = requested(), requested()
    svc.deliver(first)
    svc.deliver(second)
    svc.deliver(samples.reassigned())  # dispatch's: not in the desk's digest
    await eventually(lambda: inbox_of(svc, MANAGER), lambda b: len(b["items"]) == 3)

    runtime = svc.app.state.runtime
    later = utcnow() + timedelta(seconds=3600)
    assert await staff_inbox.send_digests(runtime, now=later) == 1
    digests = await eventually(
        lambda: svc.notices(kind="staff_digest", status="sent"), lambda ns: len(ns) == 1
    )
    assert digests[0]["email"] == "desk@harbourview.example"
    [mail] = [m for m in mail_server.messages if m["To"].addresses[0].addr_spec.startswith("desk@")]
    assert mail["To"].addresses[0].addr_spec == "desk@harbourview.example"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert first.confirmation_number in text and second.confirmation_number in text
    assert "reassigned" not in text.lower()
    assert "2 new alerts" in mail["Subject"]

    # Nothing new since: nothing sent.
    assert await staff_inbox.send_digests(runtime, now=later + timedelta(seconds=3600)) == 0
    assert len(await svc.notices(kind="staff_digest")) == 1
    assert (
        sum(m["To"].addresses[0].addr_spec.startswith("desk@") for m in mail_server.messages) == 1
    )


@pytest.mark.infra
async def test_two_digest_workers_send_one_digest(
    tmp_path: Path, start_service: StartService, samples: Samples
) -> None:
    url = scratch_url("postgresql", tmp_path, "notification_staff_digest")
    try:
        async with start_service(database_url=url, staff_digest_seconds=3600) as svc:
            for who in (DESK, DISPATCH, MANAGER):
                saved = await call(
                    svc,
                    "PUT",
                    "/api/v1/inbox/settings",
                    who,
                    json={"digest": "every_minute", "email": f"{who.id[6:]}@hotel.example"},
                )
                assert saved.status_code == 200, saved.text
            svc.deliver(requested())
            svc.deliver(samples.reassigned())
            await eventually(lambda: inbox_of(svc, MANAGER), lambda b: len(b["items"]) == 2)
            runtime = svc.app.state.runtime
            later = utcnow() + timedelta(seconds=3600)
            counts = await asyncio.gather(
                *(staff_inbox.send_digests(runtime, now=later) for _ in range(4))
            )
            assert sum(counts) == 3
            async with runtime.sessions() as session:
                rows = await session.exec(
                    select(Notification.email).where(Notification.kind == NoticeKind.STAFF_DIGEST)
                )
                assert sorted(rows.all()) == [
                    "desk@hotel.example",
                    "dispatch@hotel.example",
                    "manager@hotel.example",
                ]
    finally:
        await drop_database(url)


async def test_a_complaint_notice_with_no_channel_left_alerts_the_front_desk(
    svc: Service, samples: Samples
) -> None:
    # The case's guest left no email and no phone: the notice is suppressed (no_channel) and
    # the front desk is told to reach them another way.
    event = samples.complaint("en", email=None, phone=None)
    svc.deliver(event)
    desk = await eventually(lambda: inbox_of(svc, DESK), lambda b: len(b["items"]) >= 1)
    [alert] = [m for m in desk["items"] if m["kind"] == "guest_unreachable"]
    assert "complaint acknowledged" in alert["title"] and "no_channel" in alert["body"]
