"""Partners' events (issue 21), in `make up` mode (one process per service, partner-service
among them; PostgreSQL, RabbitMQ), measured from outside through the gateway:

1. webhooks: a partner (its key, as a partner's own system books) with one webhook
   subscription for `reservation.confirmed` to a receiver on loopback (partner-service runs
   with ENVIRONMENT=development: http and loopback targets are allowed there alone). Bookings
   (create + confirm with a pickup, the load client's `book`) at a steady `--rate` per second
   for `--seconds` (open loop); from each confirmation's answer to its signed webhook's arrival
   at the receiver: p50/p99/max, received == confirmed, duplicates, cursor order, and the
   Standard Webhooks signature checked on a sample (HMAC-SHA256 over "{id}.{timestamp}.{body}"
   with the subscription's secret). CPU ms per booking of each process over the load and the
   deliveries (net of idle), partner-service's among them;
2. feed reads: `--readers` partners' readers reading pages of 100 (`GET /api/v1/events`,
   cursors spread over the whole feed) for `--read-seconds`; pages/s, entries/s, p50/p99.

    .venv/bin/python bench/partners.py [--rate 50] [--seconds 30] [--readers 4]
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import random
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import rig
from aiohttp import web
from hotel_common.testing import free_port
from load import Spec
from platform_procs import RATE_LIMITS_NOTE, Platform, distributed
from procs import cpu_delta, sample
from rig import Inbox, line, rate, run_load
from stats import Summary

WARM_FIRST = 1600  # booking numbers (load.stay_offset) of the warm-up, clear of the load's
PAGE = 100
SIGNATURES_CHECKED = 200  # deliveries whose signature is verified (spread over the run)
DRAIN_SECONDS = 45.0  # at most, after the load, for the last webhooks
# The whole run's bound (`make bench`): the drain is cut short to stay within it, and a booking
# the platform has not answered in REQUEST_TIMEOUT counts as an error, not as a wait.
BUDGET_SECONDS = 170.0
REQUEST_TIMEOUT = 20.0


@dataclass
class Delivery:
    arrived: float  # time.time()
    webhook_id: str
    timestamp: str
    signature: str
    body: bytes


@dataclass
class Receiver:
    """A partner's webhook endpoint on loopback, in a thread of its own with its own event
    loop (this process only waits on the load client meanwhile): notes each delivery's arrival
    and answers 204 at once."""

    port: int = field(default_factory=free_port)
    deliveries: list[Delivery] = field(default_factory=list)
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.deliveries.append(
            Delivery(
                time.time(),
                request.headers.get("webhook-id", ""),
                request.headers.get("webhook-timestamp", ""),
                request.headers.get("webhook-signature", ""),
                body,
            )
        )
        return web.Response(status=204)

    def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        runner = web.AppRunner(app, access_log=None)
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(runner.setup())
            self.loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
            ready.set()
            self.loop.run_forever()
            self.loop.run_until_complete(runner.cleanup())

        threading.Thread(target=serve, daemon=True).start()
        ready.wait(10)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


def signed(delivery: Delivery, secret: str) -> bool:
    """Standard Webhooks (standardwebhooks.com), as a partner checks it."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    message = f"{delivery.webhook_id}.{delivery.timestamp}.".encode() + delivery.body
    expected = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
    given = [s.removeprefix("v1,") for s in delivery.signature.split() if s.startswith("v1,")]
    return any(hmac.compare_digest(expected, s) for s in given)


def call(platform: Platform, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(
        platform.gateway_url + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={**headers, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


@dataclass
class Partner:
    id: str
    headers: dict[str, str]  # its key
    secret: str  # its subscription's


def set_up(platform: Platform, receiver: Receiver) -> Partner:
    """A partner, its key (reservations read + write) and a subscription to the receiver."""
    admin = platform.headers
    made = call(
        platform, "POST", "/api/v1/partners", {"name": "Bench OTA", "channel": "bench_ota"}, admin
    )
    key = call(
        platform,
        "POST",
        f"/api/v1/partners/{made['id']}/keys",
        {"scopes": ["reservations:read", "reservations:write"]},
        admin,
    )
    headers = {"X-API-Key": key["key"]}
    subscription = call(
        platform,
        "POST",
        "/api/v1/webhook-subscriptions",
        {"url": receiver.url, "event_types": ["reservation.confirmed"]},
        headers,
    )
    return Partner(made["id"], headers, subscription["secret"])


def cursor_of(delivery: Delivery) -> int:
    return int(json.loads(delivery.body)["cursor"])


def confirmations(receiver: Receiver, tag: str) -> dict[str, Delivery]:
    """The first delivery of each booking of this load (guest <tag><n>@...), by guest email."""
    found: dict[str, Delivery] = {}
    for d in list(receiver.deliveries):
        email = json.loads(d.body)["payload"]["guest"]["email"]
        if email.startswith(tag):
            found.setdefault(email, d)
    return found


def webhooks_phase(
    args: argparse.Namespace, platform: Platform, receiver: Receiver, began_run: float
) -> int:
    partner = set_up(platform, receiver)
    warm = run_load(
        Spec(
            platform.gateway_url,
            {"book": 1},
            16,
            count=32,
            headers=partner.headers,
            tag="warm",
            first=WARM_FIRST,
        )
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(confirmations(receiver, "warm")) < len(
        warm.confirmed
    ):
        time.sleep(0.2)
    groups = platform.groups()
    idle = rig.idle_cpu(groups)
    before = sample(groups)
    began = time.monotonic()
    paced = run_load(
        Spec(
            platform.gateway_url,
            {"book": 1},
            64,
            rate=args.rate,
            duration=args.seconds,
            headers=partner.headers,
            tag="paced",
            timeout=REQUEST_TIMEOUT,
        )
    )
    booked = len(paced.confirmed)
    drain = min(DRAIN_SECONDS, began_run + BUDGET_SECONDS - args.read_seconds - time.monotonic())
    deadline = time.monotonic() + drain
    while time.monotonic() < deadline and len(confirmations(receiver, "paced")) < booked:
        time.sleep(0.2)
    time.sleep(1.0)  # a duplicate would come right after
    after = sample(groups)
    window = time.monotonic() - began
    arrived = confirmations(receiver, "paced")
    delays = [arrived[e].arrived - t for e, t in paced.confirmed if e in arrived]

    deliveries = list(receiver.deliveries)
    seen: dict[str, Delivery] = {}
    repeats = []  # (cursor, seconds after the first delivery of the same event)
    for d in deliveries:
        if d.webhook_id in seen:
            repeats.append((cursor_of(d), d.arrived - seen[d.webhook_id].arrived))
        else:
            seen[d.webhook_id] = d
    # Order: each event's first delivery, in arrival order, by its cursor (one subscription).
    cursors = [cursor_of(d) for d in seen.values()]
    out_of_order = sum(1 for a, b in itertools.pairwise(cursors) if b <= a)
    step = max(1, len(deliveries) // SIGNATURES_CHECKED)
    checked = deliveries[::step]
    bad = sum(1 for d in checked if not signed(d, partner.secret))

    print("distributed (make up: PostgreSQL, RabbitMQ), partner-service ENVIRONMENT=development;")
    print(f"  {RATE_LIMITS_NOTE}; bookings made with the partner's key")
    print(
        f"confirm -> signed webhook at the receiver, open loop at {args.rate:.0f} bookings/s "
        f"for {args.seconds:.0f} s (one subscription, reservation.confirmed):"
    )
    print(line("create + confirm (offered)", paced, "book"))
    if rate(paced) < 0.9 * args.rate:
        print(f"  the platform did not keep up with {args.rate:.0f}/s: the delays are queueing")
    print(f"  confirm -> webhook: {Summary.of(delays)}")
    print(
        f"  received {len(delays)} of {booked} confirmed (within {max(0, drain):.0f} s after the"
        f" load; {len(arrived) - len(delays)} more of bookings whose confirm failed, e.g. a 504,"
        f" but committed); deliveries {len(deliveries)}, duplicates {len(repeats)}"
        + "".join(f" (cursor {c}, again after {s:.1f} s)" for c, s in repeats[:5])
        + f", out of cursor order {out_of_order}; signatures verified {len(checked) - bad} of"
        f" {len(checked)} sampled"
    )
    print(
        rig.cpu_table(
            cpu_delta(before, after),
            idle,
            window,
            paced.cpu_seconds,
            max(1, booked),
            before,
            after,
        )
    )
    feed_reads(args, platform, partner, max(cursors, default=0))
    # At least once: a duplicate is allowed (printed); a bad signature or disorder is not.
    return bad + out_of_order


def feed_reads(args: argparse.Namespace, platform: Platform, partner: Partner, last: int) -> None:
    """Pages of 100 from cursors spread over the feed (each a full page while the feed holds
    100 more after it), `--readers` connections, closed loop."""
    starts = sorted(
        random.Random(1).sample(range(max(1, last - PAGE)), min(20, max(1, last - PAGE)))
    )
    ops = {f"get:/api/v1/events?after={c}&limit={PAGE}": 1.0 for c in starts}
    result = run_load(
        Spec(
            platform.gateway_url,
            ops,
            args.readers,
            duration=args.read_seconds,
            headers=partner.headers,
            tag="feed",
        )
    )
    latencies = [s for values in result.latencies.values() for s in values]
    pages = len(latencies)
    took = max(1e-9, result.ended - result.started)
    print(
        f"feed reads, pages of {PAGE} (feed of ~{last} entries), {args.readers} readers, "
        f"{args.read_seconds:.0f} s:"
    )
    print(
        f"  GET /api/v1/events  {pages / took:8.1f} pages/s ({pages * PAGE / took:,.0f} entries/s)"
        f"  {Summary.of(latencies)}  errors {sum(result.errors.values())}"
        + (f" {result.errors}" if result.errors else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--read-seconds", type=float, default=10.0)
    args = parser.parse_args()

    began = time.monotonic()
    inbox = Inbox()  # the notices' mail goes somewhere: not measured here
    inbox.controller.start()
    receiver = Receiver()
    receiver.start()
    try:
        platform = distributed(
            inbox.port,
            service_envs={
                "partner-service": {"ENVIRONMENT": "development"},
                # The load's bookings stay unpaid: no channel cap on them (default 1,000).
                "reservation-service": {"MAX_UNPAID_HOLDS_PER_CHANNEL": "0"},
            },
        )
        try:
            failures = webhooks_phase(args, platform, receiver, began)
        finally:
            platform.stop()
    finally:
        receiver.stop()
        inbox.controller.stop()
    print(f"partners.py took {time.monotonic() - began:.0f} s")
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
