"""`make chaos`: the broker cut for 30 s under steady booking traffic, two replicas of every
service, as real processes (see processes.py). Not part of `make test`: it runs for minutes.

Two processes per service share its database and queue; the gateway spreads requests over them
(comma-separated upstream URLs; a gateway that cannot take them is reported, and the run
talks to the replicas directly, round-robin). Bookings (create, then confirm with a pickup)
arrive at a steady rate; in the middle every service's link to RabbitMQ is cut for 30 s
through one TCP proxy, then restored. Afterwards every confirmed booking is classified:

- complete: one pickup assigned, one guest profile, the confirmation and pickup notices each
  sent and each reaching the SMTP server exactly once;
- duplicated: some effect happened more than once (two pickups, a notice twice, a mail twice);
- lost: some effect still missing after the settle time.

It prints the counts and how soon after the restore every queue had all its consumers again and
every process was ready; it exits 1 unless every booking is complete and both took at most 30 s.
Loopback only; its databases and queues are removed at the end.

    .venv/bin/python tests/chaos.py [--rate 3] [--before 15] [--cut 30] [--after 15]
"""

import argparse
import asyncio
import itertools
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from gateway.registry import BY_NAME
from harness import admin_headers
from processes import HoldingMailServer, Run, ServiceProcess, booking, queue_consumers

SERVICES = list(BY_NAME)  # every registered service, two processes each
RECOVERY_LIMIT = 30.0
CHAOS_ENV = {
    # The services' own retry delays: a handler that meets a transient failure (a database
    # connection refused while a backlog drains) gets 36 s to recover, not 0.6 s.
    "RETRY_DELAYS": "[1.0, 5.0, 30.0]",
}


@dataclass
class Booking:
    id: str = ""
    email: str = ""
    created: float = 0.0
    outcome: str = "pending"  # confirmed, or what went wrong on the way
    state: str = ""  # complete, lost, duplicated (confirmed bookings only)
    why: str = ""


@dataclass
class Api:
    """Where requests go: the gateway, or (when it cannot spread over replicas) the replicas
    themselves, round-robin."""

    client: httpx.AsyncClient
    replicas: dict[str, list[ServiceProcess]]
    gateway: ServiceProcess | None
    turns: dict[str, "itertools.cycle[ServiceProcess]"] = field(default_factory=dict)

    def url(self, service: str, path: str) -> str:
        if self.gateway is not None:
            return f"{self.gateway.url}{path}"
        turn = self.turns.setdefault(service, itertools.cycle(self.replicas[service]))
        return f"{next(turn).url}{path}"


async def start_all(client: httpx.AsyncClient, processes: list[ServiceProcess]) -> None:
    for process in processes:
        process.start()
    await asyncio.gather(*(p.ready(client, timeout=180) for p in processes))


async def place(api: Api, n: int, entry: Booking) -> None:
    entry.email = f"chaos{n}.{uuid.uuid4().hex[:6]}@example.com"
    entry.created = time.monotonic()
    try:
        created = await api.client.post(
            api.url("reservation-service", "/api/v1/reservations"), json=booking(n, entry.email)
        )
        if created.status_code != 201:
            entry.outcome = f"create {created.status_code}"
            return
        entry.id = created.json()["id"]
        path = f"/api/v1/reservations/{entry.id}/confirm"
        confirmed = await api.client.post(api.url("reservation-service", path))
        code = confirmed.status_code
        entry.outcome = "confirmed" if code == 200 else f"confirm {code}"
    except httpx.HTTPError as exc:
        entry.outcome = f"error {type(exc).__name__}"


async def classify(api: Api, mail: HoldingMailServer, entry: Booking) -> None:
    get = api.client.get
    rid = {"reservation_id": entry.id}
    jobs = await get(api.url("transfer-service", "/api/v1/transfers"), params=rid)
    notices = await get(api.url("notification-service", "/api/v1/notifications"), params=rid)
    guests = await get(api.url("guest-service", "/api/v1/guests"), params={"email": entry.email})
    if any(r.status_code != 200 for r in (jobs, notices, guests)):
        entry.state, entry.why = "lost", "an API did not answer 200"
        return
    pickups = [t["status"] for t in jobs.json()["items"]]
    kinds = Counter(n["kind"] for n in notices.json()["items"])
    unsent = [n["kind"] for n in notices.json()["items"] if n["status"] != "sent"]
    mails = mail.arrivals({entry.email})
    profiles = len(guests.json()["items"])
    if len(pickups) > 1 or any(c > 1 for c in kinds.values()) or any(c > 1 for c in mails.values()):
        entry.state = "duplicated"
    elif (
        pickups == ["assigned"]
        and set(kinds) == {"reservation_confirmed", "transfer_assigned"}
        and not unsent
        and len(mails) == 2
        and profiles == 1
    ):
        entry.state = "complete"
    else:
        entry.state = "lost"
    entry.why = (
        f"pickups={pickups} notices={dict(kinds)} unsent={unsent}"
        f" mails={len(mails)} profiles={profiles}"
    )


async def each(
    bookings: list[Booking], which: Callable[[Booking], bool], api: Api, mail: HoldingMailServer
) -> None:
    """Classify the bookings `which` selects, ten at a time."""
    chosen = [b for b in bookings if which(b)]
    for start in range(0, len(chosen), 10):
        await asyncio.gather(*(classify(api, mail, b) for b in chosen[start : start + 10]))


async def recovery(
    api: Api, run: Run, queues: list[str], restored: float, processes: list[ServiceProcess]
) -> dict[str, float | None]:
    """Seconds from the restore until each queue had all its consumers and each process was
    ready again (None: not within twice the limit)."""
    replicas = {name: len(api.replicas[name]) for name in queues}
    found: dict[str, float | None] = {f"queue {q}": None for q in queues}
    found |= {f"ready {p.name}": None for p in processes}
    deadline = restored + 2 * RECOVERY_LIMIT
    while time.monotonic() < deadline and any(v is None for v in found.values()):
        counts = await queue_consumers(run.namespace, queues)
        now = time.monotonic() - restored
        for queue, count in counts.items():
            if found[f"queue {queue}"] is None and count >= replicas[queue]:
                found[f"queue {queue}"] = now
        for process in processes:
            key = f"ready {process.name}"
            if found[key] is None:
                try:
                    answer = await api.client.get(f"{process.url}/health/ready", timeout=2)
                except httpx.HTTPError:
                    continue
                if answer.status_code == 200:
                    found[key] = time.monotonic() - restored
        await asyncio.sleep(0.25)
    return found


async def consumers_later(run: Run, queues: list[str], delay: float) -> dict[str, int]:
    """The queues' consumer counts `delay` seconds from now (in the cut: none is expected)."""
    await asyncio.sleep(delay)
    return await queue_consumers(run.namespace, queues)


async def chaos(args: argparse.Namespace, log_dir: Path) -> int:
    mail = await HoldingMailServer().start()
    run = Run("chaos", log_dir, mail, env=CHAOS_ENV)
    try:
        proxy = await run.proxy_for(*SERVICES)
        async with httpx.AsyncClient(
            timeout=30, limits=httpx.Limits(max_connections=50), headers=admin_headers()
        ) as client:
            replicas = {name: [run.service(name, r) for r in (1, 2)] for name in SERVICES}
            # One replica of each first (each creates and migrates its database), then the second.
            print("starting two replicas of every service ...", flush=True)
            await start_all(client, [group[0] for group in replicas.values()])
            await start_all(client, [group[1] for group in replicas.values()])
            gateway: ServiceProcess | None = run.gateway(replicas)
            assert gateway is not None
            gateway.start()
            try:
                await gateway.ready(client, timeout=30)
            except AssertionError:
                gateway.stop()
                gateway = None
                print(
                    "NOTE: the gateway does not take several upstream URLs per service; "
                    "talking to the replicas directly, round-robin",
                    flush=True,
                )
            api = Api(client, replicas, gateway)
            processes = [p for group in replicas.values() for p in group]
            queues = [q for q, n in (await queue_consumers(run.namespace, SERVICES)).items() if n]

            bookings: list[Booking] = []
            placing: list[asyncio.Task[None]] = []
            began = time.monotonic()
            cut_at, restore_at = began + args.before, began + args.before + args.cut
            end_at = restore_at + args.after
            recovered: asyncio.Task[dict[str, float | None]] | None = None
            during: asyncio.Task[dict[str, int]] | None = None
            print(
                f"traffic: {args.rate}/s for {args.before + args.cut + args.after:.0f} s,"
                f" broker cut from {args.before:.0f} s to {args.before + args.cut:.0f} s",
                flush=True,
            )
            for n in itertools.count():
                now = time.monotonic()
                if now >= end_at or n >= args.max_bookings:
                    break
                if proxy.up and cut_at <= now < restore_at:
                    proxy.cut()
                    print(f"{now - began:5.1f} s  broker cut", flush=True)
                    during = asyncio.create_task(consumers_later(run, queues, args.cut / 2))
                if not proxy.up and now >= restore_at:
                    proxy.restore()
                    print(f"{now - began:5.1f} s  broker restored", flush=True)
                    recovered = asyncio.create_task(
                        recovery(api, run, queues, time.monotonic(), processes)
                    )
                entry = Booking()
                bookings.append(entry)
                placing.append(asyncio.create_task(place(api, n, entry)))
                await asyncio.sleep(max(0.0, began + (n + 1) / args.rate - time.monotonic()))
            if not proxy.up:  # a short run: the traffic ended inside the cut
                proxy.restore()
                recovered = asyncio.create_task(
                    recovery(api, run, queues, time.monotonic(), processes)
                )
            await asyncio.gather(*placing)
            took = time.monotonic() - began
            assert recovered is not None
            recovery_times = await recovered
            assert during is not None
            cut_consumers = await during

            confirmed = [b for b in bookings if b.outcome == "confirmed"]
            print(f"settling (up to {args.settle:.0f} s) ...", flush=True)
            deadline = time.monotonic() + args.settle
            while True:
                await each(confirmed, lambda e: e.state != "complete", api, mail)
                if all(b.state == "complete" for b in confirmed) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(2)
            # A last look at the complete ones too: a late duplicate shows now.
            await each(confirmed, lambda e: True, api, mail)
    finally:
        await run.close()
        await mail.stop()

    states = Counter(b.state for b in confirmed)
    refused = Counter(b.outcome for b in bookings if b.outcome != "confirmed")
    via = "the gateway" if gateway is not None else "the replicas directly"
    print()
    print(f"{len(bookings)} bookings in {took:.0f} s through {via} ({len(bookings) / took:.1f}/s)")
    print("| outcome | bookings |")
    print("| --- | ---: |")
    for state in ("complete", "lost", "duplicated"):
        print(f"| {state} | {states.get(state, 0)} |")
    for outcome, count in sorted(refused.items()):
        print(f"| not confirmed: {outcome} | {count} |")
    print()
    print(f"consumers in the middle of the cut: {cut_consumers}")
    print("| after the restore | seconds |")
    print("| --- | ---: |")
    for what, seconds in recovery_times.items():
        print(f"| {what} | {'never' if seconds is None else f'{seconds:.1f}'} |")
    for entry in confirmed:
        if entry.state != "complete":
            print(f"{entry.state}: {entry.id} {entry.why}")

    failures = []
    if len(confirmed) != len(bookings):
        failures.append(f"{len(bookings) - len(confirmed)} bookings not confirmed")
    if states.get("complete", 0) != len(confirmed):
        failures.append("not every booking is complete")
    slow = [w for w, s in recovery_times.items() if s is None or s > RECOVERY_LIMIT]
    if slow:
        failures.append(f"not back within {RECOVERY_LIMIT:.0f} s: {', '.join(slow)}")
    print("\nFAILED: " + "; ".join(failures) if failures else "\nOK", flush=True)
    if failures:
        print(f"process logs: {log_dir}")
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=3.0, help="bookings per second")
    parser.add_argument("--before", type=float, default=15.0, help="seconds before the cut")
    parser.add_argument("--cut", type=float, default=30.0, help="seconds the broker is cut")
    parser.add_argument("--after", type=float, default=15.0, help="seconds after the restore")
    parser.add_argument("--max-bookings", type=int, default=300)
    parser.add_argument("--settle", type=float, default=120.0, help="seconds to wait for effects")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="hotel-chaos-"))
    status = asyncio.run(chaos(args, log_dir))
    if status == 0:
        shutil.rmtree(log_dir)  # kept when the run failed: the processes' logs tell why
    sys.exit(status)


if __name__ == "__main__":
    main()
