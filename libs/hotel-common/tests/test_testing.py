"""The test helpers keep their promises: `eventually` takes plain and async probes, servers
bind a port of their own, a MailServer's port refuses until it starts, `assert_problem` checks
the whole problem shape, digits derived from a text are stable across processes, and every
sample event travels through an envelope and back unchanged."""

import asyncio
import os
import smtplib
import subprocess
import sys
from email.message import EmailMessage

import httpx
import pytest
from fastapi import FastAPI
from hotel_common.errors import install_problem_handlers, problem
from hotel_common.events.envelope import Envelope
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import (
    MailServer,
    Probe,
    assert_problem,
    deliver,
    eventually,
    reservation_cancelled,
    reservation_checked_out,
    reservation_confirmed,
    reservation_expired,
    reservation_modified,
    reservation_no_show,
    serving,
    stable_digits,
    transfer_assigned,
    transfer_cancelled,
    transfer_request,
)


async def test_eventually_takes_plain_and_async_probes() -> None:
    calls: list[int] = []

    def plain() -> int:
        calls.append(1)
        return len(calls)

    async def coroutine() -> int:
        return plain()

    assert await eventually(plain, lambda n: n >= 3) == 3
    assert await eventually(coroutine, lambda n: n >= 5) == 5
    assert await eventually(lambda: "ready") == "ready"
    with pytest.raises(AssertionError, match="last result: 0"):
        await eventually(lambda: 0, timeout=0.05)


async def test_serving_binds_a_port_of_its_own_and_stops() -> None:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    async with serving(app) as one, serving(app) as two:
        assert one != two and one.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{one}/ping")).json() == {"pong": "yes"}
            assert (await client.get(f"{two}/ping")).status_code == 200
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"{one}/ping")


def _send(port: int, to: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", to, "hi"
    message.set_content("hello")
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        smtp.send_message(message)


async def test_a_mail_server_holds_its_port_refusing_until_started() -> None:
    server = MailServer()
    try:
        with pytest.raises(ConnectionRefusedError):
            await asyncio.to_thread(_send, server.port, "early@example.com")
        await server.start()
        await asyncio.to_thread(_send, server.port, "guest@example.com")
        assert [m["Subject"] for m in server.to("guest@example.com")] == ["hi"]
    finally:
        await server.stop()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.to_thread(_send, server.port, "late@example.com")


async def test_assert_problem_checks_status_media_type_and_type() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/gone")
    async def gone() -> None:
        return problem(404, "room_not_found", "No room 9.")  # type: ignore[return-value]

    @app.get("/plain")
    async def plain() -> dict[str, str]:
        return {"code": "room_not_found"}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        gone_answer = await client.get("/gone")
        body = assert_problem(gone_answer, 404, "room_not_found")
        assert body["detail"] == "No room 9."
        for status, suffix in [(409, "room_not_found"), (404, "not_found")]:
            with pytest.raises(AssertionError):
                assert_problem(gone_answer, status, suffix)
        with pytest.raises(AssertionError):
            assert_problem(await client.get("/plain"), 200, "room_not_found")


def test_stable_digits_are_the_same_in_another_process() -> None:
    here = stable_digits("li.lei@example.cn", 8)
    code = "from hotel_common.testing import stable_digits as s; print(s('li.lei@example.cn', 8))"
    env = os.environ | {"PYTHONHASHSEED": "12345"}
    there = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert here == there and len(here) == 8 and here.isdigit()
    assert stable_digits("another", 8) != here


@pytest.mark.parametrize(
    "make",
    [
        lambda: reservation_confirmed(transfer=transfer_request(), aggregate_version=2),
        lambda: reservation_cancelled(aggregate_version=3),
        lambda: reservation_modified(guests=1, aggregate_version=3),
        lambda: reservation_no_show(aggregate_version=3),
        lambda: reservation_expired(aggregate_version=2),
        lambda: reservation_checked_out(aggregate_version=5),
        lambda: transfer_assigned(aggregate_version=2),
        transfer_cancelled,
    ],
)
def test_every_sample_event_survives_its_envelope(make) -> None:  # type: ignore[no-untyped-def]
    event = make()
    envelope = Envelope.wrap(event, "sample-service")
    assert envelope.type == event.event_type
    received = type(event).from_envelope(Envelope.from_bytes(envelope.to_bytes()))
    assert received.model_dump() == event.model_dump()  # fields alike (the received knows its id)
    assert received.event_id == envelope.id


def test_samples_are_fresh_and_take_overrides() -> None:
    one, two = reservation_confirmed(), reservation_confirmed(guests=1)
    assert one.reservation_id != two.reservation_id and one.guest.email != two.guest.email
    assert (one.guests, two.guests) == (2, 1)
    cancelled = reservation_cancelled(one, reason="plans")
    assert (cancelled.reservation_id, cancelled.guest, cancelled.reason) == (
        one.reservation_id,
        one.guest,
        "plans",
    )
    pickup = transfer_assigned()
    assert (pickup.pickup_time - pickup.driver_on_site_at).total_seconds() == 30 * 60
    changed = reservation_modified(one, guests=1, total_amount=64000)
    assert changed.changes == {
        "guests": {"from": 2, "to": 1},
        "total_amount": {"from": 128000, "to": 64000},
    }
    assert (changed.reservation_id, changed.status, changed.check_in) == (
        one.reservation_id,
        "confirmed",
        one.check_in,
    )


def test_a_probe_records_what_is_delivered_after_it_of_its_types() -> None:
    broker = InMemoryBroker()
    early = deliver(broker, reservation_confirmed())  # before the probe: not seen
    probe = Probe(broker, {"reservation.confirmed", "reservation.cancelled"})
    booking = reservation_confirmed()
    sent = deliver(broker, booking, "reservation-service")
    deliver(broker, transfer_cancelled())  # not a type it asked for
    again = deliver(broker, sent)  # an envelope goes as it is
    assert again is sent and sent.source == "reservation-service"
    assert [e.id for e in probe.events()] == [sent.id, sent.id]
    deliver(broker, reservation_cancelled(booking))
    assert [e.type for e in probe.events("reservation.cancelled")] == ["reservation.cancelled"]
    assert early.id not in [e.id for e in probe.events()]
