"""Delivery under failures: an SMTP outage costs no attempts and loses nothing, notices give up
by age (not by count), failed ones can be retried in bulk, a crash mid-batch re-sends at most
the notice in flight, and a notice overtaken by its booking's cancellation is superseded.

Each runs on SQLite and on PostgreSQL with two sender replicas (one database, one queue).
"""

import asyncio
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from hotel_common.db import drop_database
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import MailServer, eventually

from .conftest import Samples, Service, StartService

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"


class FlakyMailServer(MailServer):
    """A MailServer that answers 451 (try later) for addresses in `defer`, and can hold the
    n-th message it receives (after keeping it) until released, as a stalled send."""

    def __init__(self) -> None:
        super().__init__()
        self.defer: set[str] = set()
        self.hold_at: set[int] = set()
        self.holding = threading.Event()
        self.release = threading.Event()
        self._seen = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.defer:
            return "451 4.3.0 Mailbox busy, try again later"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        self._seen += 1
        if self._seen in self.hold_at:
            self.holding.set()
            await asyncio.to_thread(self.release.wait)  # set by the test, in its own loop
            self.holding.clear()
            self.release.clear()
        return answer


class Refuser:
    """Something on the mail port that hangs up on every connection: the server is down."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> "Refuser":
        async def hang_up(_r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            writer.close()

        self._server = await asyncio.start_server(
            hang_up,
            "127.0.0.1",
            self.port,
            reuse_port=True,  # the MailServer holds the port
        )
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def replicas(start_service: StartService, backend: str, tmp_path: Any) -> Any:
    """`async with replicas(**settings) as svc`: one service on SQLite, or two sender replicas
    on one PostgreSQL database and one queue (the first is returned; both send)."""

    @asynccontextmanager
    async def start(**options: Any) -> AsyncIterator[Service]:
        if backend == "sqlite":
            async with start_service(**options) as svc:
                yield svc
            return
        url = f"{PG}/test_{uuid.uuid4().hex}"
        options = {"database_url": url, "broker": InMemoryBroker(), **options}
        try:
            async with AsyncExitStack() as stack:
                first = await stack.enter_async_context(start_service(**options))
                await stack.enter_async_context(start_service(**options))
                yield first
        finally:
            await drop_database(url)

    return start


async def test_an_outage_longer_than_any_count_budget_loses_nothing_and_costs_no_attempt(
    replicas: Any, samples: Samples
) -> None:
    server = FlakyMailServer()  # holds its port, not yet listening
    down = await Refuser(server.port).start()
    events = [samples.confirmed("en") for _ in range(6)]
    settings = {
        "smtp_url": server.url,
        "delivery_backoff_seconds": [0.01, 0.02, 0.05],  # grows to a cap of 50 ms
        "delivery_give_up_after_seconds": 3600,
        "delivery_batch_size": 4,
    }
    try:
        async with replicas(**settings) as svc:
            for event in events:
                svc.deliver(event)
            # Far more connection failures than the old budget of 5 attempts per notice.
            await eventually(lambda: down.connections, lambda n: n >= 30, timeout=20)
            waiting = await svc.notices(limit=50)
            assert len(waiting) == len(events)
            assert {n["status"] for n in waiting} == {"queued"}
            assert {n["attempts"] for n in waiting} == {0}  # the server was down: no attempt
            assert any(n["last_error"] for n in waiting)

            await down.stop()
            await server.start()

            async def sent() -> list[dict[str, Any]]:
                return await svc.notices(status="sent", limit=50)

            done = await eventually(sent, lambda ns: len(ns) == len(events), timeout=20)
    finally:
        await down.stop()
        await server.stop()

    assert {n["attempts"] for n in done} == {1}
    ids = Counter(m["X-Notification-Id"] for m in server.messages)
    assert len(ids) == len(events) and set(ids.values()) == {1}


async def test_a_permanent_failure_fails_at_once_however_long_the_budget(
    replicas: Any, samples: Samples
) -> None:
    server = await FlakyMailServer().start()
    refused, fine = samples.confirmed("en"), samples.confirmed("en")
    server.reject.add(refused.guest.email)
    try:
        async with replicas(smtp_url=server.url, delivery_give_up_after_seconds=86400) as svc:
            svc.deliver(refused)
            svc.deliver(fine)
            # The mail failed for good; the notice falls back to the guest's phone (issue 20).
            notices = await eventually(
                lambda: svc.notices(reservation_id=refused.reservation_id),
                lambda ns: any(n["channel"] == "email" and n["status"] == "failed" for n in ns),
            )
            await svc.wait_for(fine.reservation_id, lambda n: n["status"] == "sent")
    finally:
        await server.stop()

    failed = next(n for n in notices if n["channel"] == "email")
    assert failed["attempts"] == 1 and failed["reason"] == "permanent"
    assert "550" in failed["last_error"]
    assert refused.guest.email not in failed["last_error"]  # addresses are masked
    assert [m["To"].addresses[0].addr_spec for m in server.messages] == [fine.guest.email]


async def test_notices_give_up_by_age_and_a_bulk_retry_delivers_them(
    replicas: Any, samples: Samples
) -> None:
    server = FlakyMailServer()  # down until the retry
    confirmations = [samples.confirmed("en") for _ in range(3)]
    pickup = samples.assigned("en")
    async with replicas(
        smtp_url=server.url,
        delivery_backoff_seconds=[0.02, 0.05],
        delivery_give_up_after_seconds=0.5,
    ) as svc:
        for event in [*confirmations, pickup]:
            svc.deliver(event)

        async def failed() -> list[dict[str, Any]]:
            return await svc.notices(status="failed", limit=50)

        given_up = await eventually(failed, lambda ns: len(ns) == 4, timeout=20)
        assert {n["attempts"] for n in given_up} == {0}
        assert all(n["last_error"] for n in given_up)

        await server.start()
        try:
            retry = await svc.client.post(
                "/api/v1/notifications/retry", json={"kind": "reservation_confirmed"}
            )
            assert retry.status_code == 200, retry.text
            assert retry.json() == {"requeued": 3}
            again = await svc.client.post(
                "/api/v1/notifications/retry", json={"kind": "reservation_confirmed"}
            )
            assert again.json() == {"requeued": 0}  # idempotent: nothing failed is left

            async def sent() -> list[dict[str, Any]]:
                return await svc.notices(status="sent", limit=50)

            await eventually(sent, lambda ns: len(ns) == 3, timeout=20)
            assert [n["kind"] for n in await failed()] == ["transfer_assigned"]

            by_reservation = await svc.client.post(
                "/api/v1/notifications/retry", json={"reservation_id": pickup.reservation_id}
            )
            assert by_reservation.json() == {"requeued": 1}
            await svc.wait_for(pickup.reservation_id, lambda n: n["status"] == "sent")

            bad = await svc.client.post("/api/v1/notifications/retry", json={"kind": "fax"})
            assert bad.status_code == 422
            assert bad.headers["content-type"].startswith("application/problem+json")
        finally:
            await server.stop()

    ids = Counter(m["X-Notification-Id"] for m in server.messages)
    assert len(ids) == 4 and set(ids.values()) == {1}


async def test_a_crash_mid_batch_resends_at_most_the_notice_in_flight(
    start_service: StartService, backend: str, tmp_path: Any, samples: Samples
) -> None:
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/crash.db"
    else:
        url = f"{PG}/test_{uuid.uuid4().hex}"
    server = await FlakyMailServer().start()
    events = [samples.confirmed("en") for _ in range(5)]
    # Lease = smtp_timeout * (batch + 2) = 6 s: the restarted sender waits that long.
    settings = {
        "database_url": url,
        "smtp_url": server.url,
        "smtp_timeout": 1.0,
        "delivery_batch_size": 4,
    }
    server.hold_at = {1, 4}  # hold the first send while the rest queue; crash on the fourth
    try:
        async with start_service(**settings) as svc:
            svc.deliver(events[0])
            await eventually(server.holding.is_set)
            for event in events[1:]:
                svc.deliver(event)
            await eventually(svc.notices, lambda ns: len(ns) == 5)
            server.release.set()  # the other four now go out in one batch
            await eventually(lambda: len(server.messages) == 4 and server.holding.is_set())
            runtime = svc.app.state.runtime
            for task in runtime.tasks:  # the sender dies between two sends of its batch
                task.cancel()
            await asyncio.gather(*runtime.tasks, return_exceptions=True)
            server.release.set()

        async with start_service(**settings) as svc:

            async def sent() -> list[dict[str, Any]]:
                return await svc.notices(status="sent", limit=50)

            await eventually(sent, lambda ns: len(ns) == 5, timeout=30)
    finally:
        await server.stop()
        await drop_database(url)

    counts = Counter(m["X-Notification-Id"] for m in server.messages)
    assert len(counts) == 5
    in_flight = server.messages[3]["X-Notification-Id"]
    assert {i: n for i, n in counts.items() if n > 1} in ({}, {in_flight: 2})


async def test_a_confirmation_due_for_retry_after_the_cancellation_is_superseded(
    replicas: Any, samples: Samples
) -> None:
    server = await FlakyMailServer().start()
    cancelled = samples.cancelled("en")
    rid, guest = cancelled.reservation_id, cancelled.guest
    confirmation = samples.confirmed("en", reservation_id=rid, guest=guest)
    pickup = samples.assigned("en", reservation_id=rid, guest=guest)
    server.defer.add(guest.email)
    try:
        # The retry is due long after the cancellation: it must not wait for it either.
        async with replicas(smtp_url=server.url, delivery_backoff_seconds=[30.0]) as svc:
            svc.deliver(confirmation)
            svc.deliver(pickup)

            async def notices() -> list[dict[str, Any]]:
                return await svc.notices(reservation_id=rid)

            await eventually(
                notices, lambda ns: len(ns) == 2 and all(n["attempts"] == 1 for n in ns)
            )
            server.defer.clear()
            svc.deliver(cancelled)
            final = await eventually(
                notices,
                lambda ns: (
                    {n["kind"]: (n["status"], n["reason"]) for n in ns}
                    == {
                        "reservation_confirmed": ("suppressed", "superseded"),
                        "transfer_assigned": ("suppressed", "superseded"),
                        "reservation_cancelled": ("sent", None),
                    }
                ),
            )
            superseded = await svc.notices(reservation_id=rid, status="suppressed")
            assert len(superseded) == 2
            retried = await svc.client.post(f"/api/v1/notifications/{superseded[0]['id']}/retry")
            assert retried.status_code == 409
    finally:
        await server.stop()

    assert len(final) == 3
    [message] = server.to(guest.email)  # the guest hears of the cancellation only
    assert "cancel" in message["Subject"].lower()
