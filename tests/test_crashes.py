"""Processes killed, not stopped (SIGKILL), while bookings flow: every effect happens exactly
once and none is lost. Real uvicorn processes on PostgreSQL and RabbitMQ (see processes.py).

- A consumer killed mid-handle: transfer-service and notification-service are killed at the
  instant they acknowledge a delivery (the effect is committed, the broker still holds the
  message and redelivers it) and, for notification-service, while a notice is being sent.
- A relay killed between publishing and marking sent: reservation-service is killed right
  after the broker took an event and before the confirm reached the service, so the event
  goes out again after the restart.

The one duplicate allowed is a notice whose send was in flight when its sender was killed: the
SMTP server had the message but never answered, so the sender cannot know it went (the
Message-ID is stable, so a mail client can drop the copy). Any other copy is a failure.
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from time import monotonic
from typing import Any

import httpx
import pytest
import pytest_asyncio
from harness import admin_headers
from hotel_common.testing import eventually
from processes import (
    BASIC_ACK,
    BASIC_PUBLISH,
    AmqpProxy,
    HoldingMailServer,
    Run,
    ServiceProcess,
    booking,
)

pytestmark = [pytest.mark.infra, pytest.mark.asyncio(loop_scope="module")]

RESERVATION, TRANSFER, NOTIFICATION = (
    "reservation-service",
    "transfer-service",
    "notification-service",
)
TRAP_TIMEOUT = 10.0  # a trap not sprung by then: the test kills anyway (and says so)
SETTLE_TIMEOUT = 60.0
PER_ROUND = 3  # bookings per kill
SEND_MARGIN = 0.25  # s around a message's SMTP window in which the sender cannot know it went


@dataclass
class Platform:
    """Three services as processes (guest-service plays no part in these effects), shared by
    the module's tests: each test books its own guests and checks only their effects."""

    run: Run
    mail: HoldingMailServer
    client: httpx.AsyncClient
    reservations: ServiceProcess
    transfers: ServiceProcess
    notifier: ServiceProcess


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def platform(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Platform]:
    mail = await HoldingMailServer().start()
    run = Run("crash", tmp_path_factory.mktemp("crash-logs"), mail)
    try:
        for name in (RESERVATION, TRANSFER, NOTIFICATION):
            await run.proxy_for(name)
        # Idle connections expire before uvicorn's 5 s keep-alive does: reusing one the server is
        # closing just then fails the request (ReadError) while a kill round is waited out.
        limits = httpx.Limits(keepalive_expiry=2.0)
        async with httpx.AsyncClient(timeout=15, limits=limits, headers=admin_headers()) as client:
            processes = [run.service(name) for name in (RESERVATION, TRANSFER, NOTIFICATION)]
            await start(client, *processes)
            yield Platform(run, mail, client, *processes)
    finally:
        await run.close()
        await mail.stop()


async def start(client: httpx.AsyncClient, *processes: ServiceProcess) -> None:
    for process in processes:
        process.start()
    await asyncio.gather(*(p.ready(client) for p in processes))


async def outbox_drained(client: httpx.AsyncClient, process: ServiceProcess) -> None:
    """Wait until the service's relay has published every staged event (a booking's
    `reservation.created`), so the next publish is the one a test means to catch."""

    async def pending() -> int:
        answer = await client.get(f"{process.url}/admin/outbox")
        assert answer.status_code == 200, answer.text
        return int(answer.json()["pending"])

    await eventually(pending, lambda n: n == 0, timeout=SETTLE_TIMEOUT, interval=0.1)


async def kill_when(sprung: asyncio.Event, process: ServiceProcess, proxy: AmqpProxy) -> bool:
    """Kill `process` once the trap springs (or after TRAP_TIMEOUT); True if it sprang."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(sprung.wait(), TRAP_TIMEOUT)
    process.kill()
    proxy.disarm()
    return sprung.is_set()


async def kill_mid_send(mail: HoldingMailServer, process: ServiceProcess) -> set[str]:
    """Kill the sender while the SMTP server holds a notice (the sender cannot know it went);
    return the notices held at that moment. Aim at one that is not the first of its SMTP
    session (others went before it on the same connection), or else the third held notice."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TRAP_TIMEOUT
    seen: set[str] = set()
    held: dict[str, int] = {}
    while loop.time() < deadline:
        held = dict(mail.in_flight)
        seen |= set(held)
        if held and (max(held.values()) > 1 or len(seen) >= 3):
            break
        await asyncio.sleep(0.005)
    process.kill()
    return set(held)


async def effects(
    client: httpx.AsyncClient, transfers: str, notices: str, rid: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """The booking's pickups (statuses) and notices, as the services' APIs show them."""
    jobs = await client.get(f"{transfers}/api/v1/transfers", params={"reservation_id": rid})
    sent = await client.get(f"{notices}/api/v1/notifications", params={"reservation_id": rid})
    assert jobs.status_code == 200 and sent.status_code == 200, (jobs.text, sent.text)
    return [t["status"] for t in jobs.json()["items"]], sent.json()["items"]


def complete(pickups: list[str], notices: list[dict[str, Any]]) -> bool:
    kinds = sorted(n["kind"] for n in notices)
    return (
        pickups == ["assigned"]
        and kinds == ["reservation_confirmed", "reservation_created", "transfer_assigned"]
        and all(n["status"] == "sent" for n in notices)
    )


async def settle(
    client: httpx.AsyncClient, transfers: str, notices: str, bookings: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Wait until every booking has its pickup and its three notices (the request received,
    the confirmation, the pickup) sent; return the notices."""

    async def states() -> dict[str, tuple[list[str], list[dict[str, Any]]]]:
        return {rid: await effects(client, transfers, notices, rid) for rid in bookings}

    def all_complete(found: dict[str, tuple[list[str], list[dict[str, Any]]]]) -> bool:
        return all(complete(*state) for state in found.values())

    try:
        found = await eventually(states, all_complete, timeout=SETTLE_TIMEOUT, interval=0.5)
    except AssertionError:
        found = await states()
        wrong = {rid: (p, [(n["kind"], n["status"]) for n in ns]) for rid, (p, ns) in found.items()}
        wrong = {rid: state for rid, state in wrong.items() if not complete(*found[rid])}
        raise AssertionError(f"bookings without exactly their effects: {wrong}") from None
    return {rid: notices_ for rid, (_, notices_) in found.items()}


def check_mail(
    mail: HoldingMailServer,
    notices: dict[str, list[dict[str, Any]]],
    sender_kills: list[float],
) -> None:
    """Every notice reached the SMTP server; a second copy only of one whose send was unsettled
    when its sender was killed (at a kill aimed at a send, or at an ack while the delivery
    loop happened to be sending)."""
    ours = {n["id"] for ns in notices.values() for n in ns}
    recipients = {n["email"] for ns in notices.values() for n in ns}
    arrivals = mail.arrivals(recipients)
    assert set(arrivals) <= ours, f"mail for unknown notices: {set(arrivals) - ours}"
    missing = ours - set(arrivals)
    assert not missing, f"notices marked sent that never reached the server: {missing}"
    allowed = mail.unsettled_at(sender_kills, SEND_MARGIN)
    extra = {n: c - 1 - allowed.get(n, 0) for n, c in arrivals.items() if c - 1 > allowed.get(n, 0)}
    assert not extra, (
        f"{sum(extra.values())} duplicate mail(s) beyond one per kill that caught its send: "
        f"{extra}; their SMTP windows {[w for w in mail.windows if w[0] in extra]}, "
        f"the sender's kills {sender_kills}"
    )


async def book(platform: Platform, n: int, prefix: str) -> str:
    email = f"{prefix}{n}.{uuid.uuid4().hex[:6]}@example.com"
    url = f"{platform.reservations.url}/api/v1/reservations"
    created = await platform.client.post(url, json=booking(n, email))
    assert created.status_code == 201, created.text
    rid: str = created.json()["id"]
    return rid


def confirm(platform: Platform, rid: str) -> Awaitable[httpx.Response]:
    url = f"{platform.reservations.url}/api/v1/reservations/{rid}/confirm"
    return platform.client.post(url)


async def test_consumers_killed_mid_handle_and_mid_send_apply_every_effect_once(
    platform: Platform,
) -> None:
    transfers, notifier, mail = platform.transfers, platform.notifier, platform.mail
    plan = [  # (whom, how): at the ack of a handled event, or while a notice is being sent
        (transfers, "ack"),
        (notifier, "send"),
        (transfers, "ack"),
        (notifier, "ack"),
        (notifier, "send"),
    ]
    bookings: list[str] = []
    held_at_kills: list[set[str]] = []
    sender_kills: list[float] = []
    sprung = 0
    for r, (victim, how) in enumerate(plan):
        proxy = platform.run.proxies[victim.name]
        trap = proxy.arm(BASIC_ACK, freeze="to_broker") if how == "ack" else None
        mail.hold = 0.3 if how == "send" else 0.0
        for i in range(PER_ROUND):
            rid = await book(platform, r * PER_ROUND + i, "crash")
            confirmed = await confirm(platform, rid)
            assert confirmed.status_code == 200, confirmed.text
            bookings.append(rid)
        if trap is None:
            held_at_kills.append(await kill_mid_send(mail, victim))
            mail.hold = 0.0
        else:
            sprung += await kill_when(trap, victim, proxy)
        if victim is notifier:
            sender_kills.append(monotonic())
        await start(platform.client, victim)

    notices = await settle(platform.client, transfers.url, notifier.url, bookings)
    check_mail(mail, notices, sender_kills)
    # The levers worked: every kill landed at the instant it aimed at.
    assert sprung == 3 and all(held_at_kills), (sprung, held_at_kills)


async def test_relay_killed_between_publishing_and_marking_sent_loses_and_doubles_nothing(
    platform: Platform,
) -> None:
    reservations = platform.reservations
    proxy = platform.run.proxies[RESERVATION]
    rounds = 3
    bookings: list[str] = []
    sprung = 0
    for r in range(rounds):
        batch = [await book(platform, 1000 + r * PER_ROUND + i, "relay") for i in range(PER_ROUND)]
        await outbox_drained(platform.client, reservations)  # the trap is for the confirmations'
        trap = proxy.arm(BASIC_PUBLISH, freeze="to_client")
        confirms = [asyncio.ensure_future(confirm(platform, rid)) for rid in batch]
        sprung += await kill_when(trap, reservations, proxy)
        await asyncio.gather(*confirms, return_exceptions=True)  # some die with the process
        bookings += batch
        await start(platform.client, reservations)

    statuses = {}
    for rid in bookings:
        answer = await platform.client.get(f"{reservations.url}/api/v1/reservations/{rid}")
        assert answer.status_code == 200, answer.text
        statuses[rid] = answer.json()["status"]
    confirmed = [rid for rid, status in statuses.items() if status == "confirmed"]
    client, transfers, notifier = platform.client, platform.transfers, platform.notifier
    notices = await settle(client, transfers.url, notifier.url, confirmed)
    check_mail(platform.mail, notices, sender_kills=[])  # no sender is killed here
    assert sprung == rounds, f"only {sprung} of {rounds} kills landed between publish and confirm"
    assert len(confirmed) >= rounds, statuses
