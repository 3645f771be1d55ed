"""Embedded mode (`hotel-platform run`: every service in one process, SQLite, in-memory bus),
the same booking load as distributed.py: `--concurrency` clients create a booking with an
airport pickup and confirm it, `--bookings` in all, through the gateway, from the load client
in its own process. Prints bookings/s, latency, how long after the last confirmation the last
pickup was assigned and the last notice mailed (a real SMTP server, run here), and the CPU per
booking of the platform's process and of the client. Then confirmation -> mail accepted by
SMTP at a steady `--paced-rate` bookings/s (open loop), as distributed.py.

    .venv/bin/python bench/journey.py [--bookings 300] [--concurrency 16] [--profile]
"""

import argparse
import time

import rig
from load import Result, Spec
from platform_procs import RATE_LIMITS_NOTE, embedded
from procs import cpu_delta, sample
from profiling import Profiler
from rig import Inbox, error_count, run_load, wait_drained
from stats import Summary

# Booking numbers (their dates: load.stay_offset) of the warm-up and the paced phase, clear of
# the load's first 350 and of each other, so that no stay or pickup overlaps.
WARM_FIRST = 1000
PACED_FIRST = 5 * 70


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--paced-rate", type=float, default=50.0)
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--profile", action="store_true", help="py-spy the platform's process")
    parser.add_argument("--format", choices=["speedscope", "flamegraph"], default="speedscope")
    args = parser.parse_args()

    inbox = Inbox()
    inbox.controller.start()
    platform = embedded(inbox.port)
    pickups = rig.Pickups(platform)
    try:
        groups = platform.groups()
        rest = sample(groups)
        warm = run_load(
            Spec(
                platform.gateway_url,
                {"book": 1},
                args.concurrency,
                count=32,
                headers=platform.headers,
                tag="warm",
                first=WARM_FIRST,
            )
        )
        wait_drained(pickups, inbox, warm, "warm", before=0)
        idle = rig.idle_cpu(groups)
        before_pickups = pickups.now()[0]
        profiler = (
            Profiler(platform.pid("embedded"), "embedded", args.format) if args.profile else None
        )
        before = sample(groups)
        began = time.monotonic()
        booked = run_load(
            Spec(
                platform.gateway_url,
                {"book": 1},
                args.concurrency,
                count=args.bookings,
                headers=platform.headers,
                tag="book",
            )
        )
        drained = wait_drained(pickups, inbox, booked, "book", before_pickups)
        after = sample(groups)
        window = time.monotonic() - began
        if profiler:
            print(f"  profile: {profiler.stop()}")
        print_bookings(args, booked)
        print(
            rig.booking_costs(
                drained,
                cpu_delta(before, after),
                idle,
                window,
                booked.cpu_seconds,
                len(booked.confirmed),
                rest,
                after,
            )
        )
        rig.paced_phase(platform, inbox, args.paced_rate, args.paced_seconds, PACED_FIRST)
    finally:
        pickups.close()
        platform.stop()
        inbox.controller.stop()


def print_bookings(args: argparse.Namespace, booked: Result) -> None:
    took = booked.ended - booked.started
    bookings = len(booked.confirmed)
    print(f"embedded (SQLite, in-memory bus), {args.concurrency} clients; {RATE_LIMITS_NOTE}")
    print(
        f"  create + confirm with pickup  {bookings / took:8.1f} bookings/s  "
        f"{Summary.of(booked.latencies.get('book', []))}  errors {error_count(booked)}"
        + (f" {booked.errors}" if booked.errors else "")
        + "  (target >= 100/s, p99 <= 150 ms)"
    )


if __name__ == "__main__":
    main()
