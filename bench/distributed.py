"""The platform as `make up` runs it (one process per service, PostgreSQL, RabbitMQ), measured
from outside through the gateway against a bare FastAPI + asyncpg app (bench/bare.py) driven by
the same load client (bench/load.py, its own process) in the same run:

1. bookings: `--concurrency` clients, each creating a booking with an airport pickup and
   confirming it, `--bookings` in all; vs the bare confirm endpoint. Then how long after the
   last confirmation the last pickup was assigned and the last notice mailed, and the CPU
   each process spent per booking (load and drain together, from /proc) with its RSS;
2. reads: GET /api/v1/availability and /api/v1/room-types through the gateway vs the bare
   SELECT endpoint, `--concurrency` connections, `--read-seconds` each;
3. confirmation -> mail accepted by SMTP at a steady `--paced-rate` bookings/s (open loop).

    .venv/bin/python bench/distributed.py [--bookings 400] [--concurrency 16] [--profile gateway]
"""

import argparse
import time
from datetime import date, timedelta

import rig
from load import Spec
from platform_procs import RATE_LIMITS_NOTE, Platform, distributed
from procs import cpu_delta, sample
from profiling import Profiler
from rig import Bare, Inbox, line, rate, run_load, wait_drained

# Booking numbers (their dates: load.stay_offset) of the warm-up and the paced phase, clear of
# the 400 bookings of the main load and of each other, so that no stay or pickup overlaps.
WARM_FIRST = 5 * 100
PACED_FIRST = 5 * 110


def bookings_phase(args: argparse.Namespace, platform: Platform, inbox: Inbox, bare: Bare) -> float:
    headers = platform.headers
    groups = platform.groups()
    rest = sample(groups)
    pickups = rig.Pickups(platform)
    warm = run_load(
        Spec(
            platform.gateway_url,
            {"book": 1},
            args.concurrency,
            count=32,
            headers=headers,
            tag="warm",
            first=WARM_FIRST,
        )
    )
    wait_drained(pickups, inbox, warm, "warm", before=0)
    idle = rig.idle_cpu(groups)
    reference = run_load(
        Spec(bare.url, {"post:/confirm": 1}, args.concurrency, duration=args.read_seconds)
    )
    before_pickups = pickups.now()[0]
    profiler = (
        Profiler(platform.pid(args.profile), args.profile, args.format) if args.profile else None
    )
    before = sample(groups)
    began = time.monotonic()
    booked = run_load(
        Spec(
            platform.gateway_url,
            {"book": 1},
            args.concurrency,
            count=args.bookings,
            headers=headers,
            tag="book",
        )
    )
    drained = wait_drained(pickups, inbox, booked, "book", before_pickups)
    after = sample(groups)
    pickups.close()
    window = time.monotonic() - began
    if profiler:
        print(f"  profile of {args.profile}: {profiler.stop()}")
    bookings = len(booked.confirmed)
    print(
        f"distributed (make up: PostgreSQL, RabbitMQ), {args.concurrency} clients;",
        RATE_LIMITS_NOTE,
    )
    print(line("bare confirm (reference)", reference, "post:/confirm"))
    print(line("create + confirm with pickup", booked, "book"))
    print(
        f"  bookings/s over bare confirms/s: {rate(booked) / rate(reference):.3f}  (target >= 0.20)"
    )
    delta = cpu_delta(before, after)
    client = booked.cpu_seconds
    print(rig.booking_costs(drained, delta, idle, window, client, bookings, rest, after))
    return rate(reference)


def reads_phase(args: argparse.Namespace, platform: Platform, bare: Bare) -> None:
    check_in = date.today() + timedelta(days=60)
    stay = f"check_in={check_in}&check_out={check_in + timedelta(days=2)}"
    targets = [
        ("bare SELECT (reference)", bare.url, "get:/room-types", {}),
        (
            "GET /api/v1/availability",
            platform.gateway_url,
            f"get:/api/v1/availability?{stay}",
            platform.headers,
        ),
        (
            "GET /api/v1/room-types",
            platform.gateway_url,
            "get:/api/v1/room-types",
            platform.headers,
        ),
    ]
    print(f"reads, {args.concurrency} connections, {args.read_seconds:.0f} s each:")
    results = []
    for name, url, op, headers in targets:
        result = run_load(
            Spec(url, {op: 1}, args.concurrency, duration=args.read_seconds, headers=headers)
        )
        results.append(result)
        print(line(name, result, op))
    for (name, *_), result in zip(targets[1:], results[1:], strict=True):
        print(
            f"  {name} over bare: {rate(result) / rate(results[0]):.3f}",
            "(target >= 0.50, p99 <= 30 ms)",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bookings", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--read-seconds", type=float, default=5.0)
    parser.add_argument("--paced-rate", type=float, default=50.0)
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument(
        "--profile",
        choices=[
            "gateway",
            "reservation-service",
            "transfer-service",
            "guest-service",
            "notification-service",
        ],
    )
    parser.add_argument("--format", choices=["speedscope", "flamegraph"], default="speedscope")
    args = parser.parse_args()

    inbox = Inbox()
    inbox.controller.start()
    bare = Bare.start()
    try:
        platform = distributed(inbox.port)
        try:
            bookings_phase(args, platform, inbox, bare)
            reads_phase(args, platform, bare)
            rig.paced_phase(platform, inbox, args.paced_rate, args.paced_seconds, PACED_FIRST)
        finally:
            platform.stop()
    finally:
        bare.stop()
        inbox.controller.stop()


if __name__ == "__main__":
    main()
