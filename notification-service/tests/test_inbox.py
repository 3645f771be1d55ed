"""The guest's in-app inbox and app devices (issue 20): every notice that goes out to a guest
has its copy in the app, found by the email or the phone the guest signed in with; read state,
unread count; never a sign-in code; a redelivered event adds no second message; devices for
push are the signed-in guest's; an erased guest's inbox and devices go."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hotel_common.db import drop_database
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import eventually, guest_contact, principal_headers, scratch_url
from notification_service import devices

from .conftest import Samples, Service, StartService


def guest(email: str | None = None, phone: str | None = None) -> Principal:
    return Principal(id=f"guest:{email or phone}", kind=Kind.GUEST, email=email, phone=phone)


async def call(svc: Service, method: str, path: str, who: Principal, **kwargs: Any) -> Any:
    return await svc.client.request(method, path, headers=principal_headers(who), **kwargs)


async def inbox_of(svc: Service, who: Principal, **params: Any) -> dict[str, Any]:
    response = await call(svc, "GET", "/api/v1/inbox/messages", who, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def svc(
    request: pytest.FixtureRequest, tmp_path: Path, start_service: StartService
) -> AsyncIterator[Service]:
    url = scratch_url(request.param, tmp_path, "notification_inbox")
    try:
        async with start_service(database_url=url) as service:
            yield service
    finally:
        if request.param == "postgresql":
            await drop_database(url)


async def test_a_confirmation_lands_in_the_guests_inbox_and_only_theirs(
    svc: Service, samples: Samples
) -> None:
    ada = guest_contact("en", email="Ada.Wong@Example.com")
    event = samples.confirmed(guest=ada)
    svc.deliver(event)
    svc.deliver(samples.confirmed(guest=guest_contact("en", email="bo.li@example.com")))
    mine = guest(email="ada.wong@example.com")
    found = await eventually(lambda: inbox_of(svc, mine), lambda b: len(b["items"]) == 1)
    [message] = found["items"]
    assert message["kind"] == "reservation_confirmed"
    assert message["reservation_id"] == event.reservation_id
    assert event.confirmation_number in message["title"]
    assert event.confirmation_number in message["body"]
    assert message["read_at"] is None and found["unread"] == 1
    [notice] = await svc.notices(reservation_id=event.reservation_id)
    assert message["id"] == notice["id"]  # the notice's id: one message per notice

    # Another guest neither lists it nor reads it.
    bo = guest(email="bo.li@example.com")
    await eventually(lambda: inbox_of(svc, bo), lambda b: len(b["items"]) == 1)
    assert message["id"] not in {m["id"] for m in (await inbox_of(svc, bo))["items"]}
    refused = await call(svc, "POST", f"/api/v1/inbox/messages/{message['id']}/read", bo)
    assert refused.status_code == 404, refused.text
    assert refused.json()["type"].endswith("inbox_message_not_found")

    # Read: once, idempotent; the unread filter and count follow.
    read = await call(svc, "POST", f"/api/v1/inbox/messages/{message['id']}/read", mine)
    assert read.status_code == 200, read.text
    first_read = read.json()["read_at"]
    assert first_read is not None
    again = await call(svc, "POST", f"/api/v1/inbox/messages/{message['id']}/read", mine)
    assert again.json()["read_at"] == first_read
    after = await inbox_of(svc, mine)
    assert after["unread"] == 0 and after["items"][0]["read_at"] == first_read
    assert (await inbox_of(svc, mine, unread="true"))["items"] == []

    # Read-all: Bo's one, then none.
    marked = await call(svc, "POST", "/api/v1/inbox/messages/read-all", bo)
    assert marked.json() == {"marked": 1}
    marked = await call(svc, "POST", "/api/v1/inbox/messages/read-all", bo)
    assert marked.json() == {"marked": 0}
    assert (await inbox_of(svc, bo))["unread"] == 0


async def test_a_redelivered_event_adds_no_second_message(
    start_service: StartService, samples: Samples
) -> None:
    async with start_service() as svc:
        event = samples.confirmed()
        envelope = svc.deliver(event)
        who = guest(email=event.guest.email)
        await eventually(lambda: inbox_of(svc, who), lambda b: len(b["items"]) == 1)
        svc.deliver(envelope)  # the same envelope again, as the broker redelivers it
        svc.deliver(samples.cancelled(reservation_id="other", guest=event.guest))
        # Once the later event is handled, the redelivered one was too (one consumer, in order).
        found = await eventually(lambda: inbox_of(svc, who), lambda b: len(b["items"]) == 2)
        kinds = sorted(m["kind"] for m in found["items"])
        assert kinds == ["reservation_cancelled", "reservation_confirmed"]


async def test_a_guest_signed_in_by_phone_finds_the_notices_sent_to_their_phone(
    start_service: StartService, samples: Samples
) -> None:
    async with start_service() as svc:
        # Lin Mei asks for text messages first: her confirmation goes to her phone.
        svc.deliver(samples.preferences(channels=["sms", "email"], quiet_hours=None))
        event = samples.confirmed(
            guest=guest_contact("zh-Hans", email=samples.EMAIL, phone=samples.PHONE)
        )
        svc.deliver(event)
        by_phone = guest(phone=samples.PHONE)
        found = await eventually(lambda: inbox_of(svc, by_phone), lambda b: len(b["items"]) == 1)
        assert found["items"][0]["reservation_id"] == event.reservation_id
        # Signed in by her email she sees it too (the profile the email belongs to) ...
        by_email = guest(email=samples.EMAIL)
        assert [m["id"] for m in (await inbox_of(svc, by_email))["items"]] == [
            found["items"][0]["id"]
        ]
        # ... and someone else's phone does not.
        assert (await inbox_of(svc, guest(phone="+8613900000000")))["items"] == []


async def test_sign_in_codes_never_reach_the_inbox(
    start_service: StartService, samples: Samples
) -> None:
    async with start_service() as svc:
        code = samples.sign_in(email="code.only@example.com")
        svc.deliver(code)
        confirmed = samples.confirmed(guest=guest_contact("en", email="code.only@example.com"))
        svc.deliver(confirmed)
        who = guest(email="code.only@example.com")
        found = await eventually(lambda: inbox_of(svc, who), lambda b: len(b["items"]) >= 1)
        assert [m["kind"] for m in found["items"]] == ["reservation_confirmed"]
        assert all(code.code not in m["body"] for m in found["items"])


async def test_staff_outside_the_desks_and_other_callers_are_refused(
    start_service: StartService,
) -> None:
    async with start_service() as svc:
        housekeeping = Principal(
            id="staff:h", kind=Kind.STAFF, roles=frozenset({Role.HOUSEKEEPING})
        )
        anonymous = Principal(id="anonymous", kind=Kind.ANONYMOUS)
        holder = Principal(id="booking:r", kind=Kind.BOOKING, reservation_id="r")
        for who, status in ((housekeeping, 403), (anonymous, 401), (holder, 403)):
            response = await call(svc, "GET", "/api/v1/inbox/messages", who)
            assert response.status_code == status, response.text


async def test_a_guest_registers_their_devices_and_push_finds_them(
    svc: Service,
) -> None:
    ada = guest(email="ada@example.com")
    put = await call(svc, "PUT", "/api/v1/inbox/devices/tok-1", ada, json={"platform": "ios"})
    assert put.status_code == 200, put.text
    assert put.json()["platform"] == "ios"
    again = await call(svc, "PUT", "/api/v1/inbox/devices/tok-1", ada, json={"platform": "ios"})
    assert again.status_code == 200 and again.json()["created_at"] == put.json()["created_at"]
    by_phone = guest(phone="+8613800138000")
    put = await call(
        svc, "PUT", "/api/v1/inbox/devices/tok-2", by_phone, json={"platform": "android"}
    )
    assert put.status_code == 200, put.text
    bad = await call(svc, "PUT", "/api/v1/inbox/devices/tok-3", ada, json={"platform": "nokia"})
    assert bad.status_code == 422
    extra = await call(
        svc, "PUT", "/api/v1/inbox/devices/tok-3", ada, json={"platform": "ios", "x": 1}
    )
    assert extra.status_code == 422

    runtime = svc.app.state.runtime
    async with runtime.sessions() as session:
        assert await devices.tokens_for(session, email="ADA@example.com", phone=None) == ["tok-1"]
        assert await devices.tokens_for(session, email=None, phone="+8613800138000") == ["tok-2"]
        both = await devices.tokens_for(session, email="ada@example.com", phone="+8613800138000")
        assert sorted(both) == ["tok-1", "tok-2"]
        assert await devices.tokens_for(session, email=None, phone=None) == []

    # Another guest cannot forget Ada's device; signing in on it re-binds it.
    bo = guest(email="bo@example.com")
    gone = await call(svc, "DELETE", "/api/v1/inbox/devices/tok-1", bo)
    assert gone.status_code == 404
    rebound = await call(svc, "PUT", "/api/v1/inbox/devices/tok-1", bo, json={"platform": "ios"})
    assert rebound.status_code == 200
    async with runtime.sessions() as session:
        assert await devices.tokens_for(session, email="ada@example.com", phone=None) == []
        assert await devices.tokens_for(session, email="bo@example.com", phone=None) == ["tok-1"]
    gone = await call(svc, "DELETE", "/api/v1/inbox/devices/tok-1", bo)
    assert gone.status_code == 204
    async with runtime.sessions() as session:
        assert await devices.tokens_for(session, email="bo@example.com", phone=None) == []

    desk = Principal(id="staff:d", kind=Kind.STAFF, roles=frozenset({Role.FRONT_DESK}))
    refused = await call(svc, "PUT", "/api/v1/inbox/devices/tok-9", desk, json={"platform": "ios"})
    assert refused.status_code == 403


async def test_an_erased_guest_loses_their_inbox_and_devices(
    start_service: StartService, samples: Samples
) -> None:
    async with start_service() as svc:
        lin = guest(email=samples.EMAIL)
        svc.deliver(samples.confirmed(guest=guest_contact("en", email=samples.EMAIL)))
        await eventually(lambda: inbox_of(svc, lin), lambda b: len(b["items"]) == 1)
        by_phone = guest(phone=samples.PHONE)
        for who, token in ((lin, "lin-ios"), (by_phone, "lin-android")):
            put = await call(
                svc, "PUT", f"/api/v1/inbox/devices/{token}", who, json={"platform": "ios"}
            )
            assert put.status_code == 200
        other = guest(email="someone.else@example.com")
        put = await call(svc, "PUT", "/api/v1/inbox/devices/other", other, json={"platform": "web"})
        assert put.status_code == 200

        svc.deliver(samples.erased())
        await eventually(lambda: inbox_of(svc, lin), lambda b: b["items"] == [])
        async with svc.app.state.runtime.sessions() as session:
            assert await devices.tokens_for(session, email=samples.EMAIL, phone=samples.PHONE) == []
            assert await devices.tokens_for(
                session, email="someone.else@example.com", phone=None
            ) == ["other"]


async def test_a_guest_told_by_text_message_finds_the_long_notice_in_the_app(
    start_service: StartService, samples: Samples
) -> None:
    async with start_service() as svc:
        svc.deliver(samples.preferences(channels=["sms", "email"], quiet_hours=None))
        event = samples.confirmed(
            guest=guest_contact("en", email=samples.EMAIL, phone=samples.PHONE)
        )
        svc.deliver(event)
        sms = await svc.wait_for(event.reservation_id, lambda n: n["channel"] == "sms")
        found = await eventually(
            lambda: inbox_of(svc, guest(phone=samples.PHONE)), lambda b: len(b["items"]) == 1
        )
    [message] = found["items"]
    # The app shows the email's long text (subject and paragraphs), not the short SMS text.
    assert sms["status"] in ("queued", "sent", "delivered", "logged")
    assert message["body"].count("\n") >= 3
    assert event.confirmation_number in message["body"]
