"""`make load`: the mixed load (bench/mixed.py: availability searches, bookings with pickups,
cancellations, guest and transfer reads) through the gateway in distributed mode, offered at
a rate stepped up until the p99 or the errors break, or the platform stops keeping up. Names
the knee (the last rate that held) and which process was busiest when it broke: a Python
process saturates at one core; PostgreSQL and RabbitMQ can use both; the machine has
os.cpu_count() cores for everything (the load client included).

    .venv/bin/python bench/stepload.py [--start 10] [--factor 1.4] [--step-seconds 20] [--p99 500]
"""

import argparse
import os
from math import inf

from mixed import Window, window
from platform_procs import RATE_LIMITS_NOTE, distributed
from rig import Inbox
from stats import knee


def show(w: Window) -> str:
    top = sorted(w.cpu.items(), key=lambda kv: -kv[1])[:4]
    cpu = ", ".join(f"{name} {cores:.2f}" for name, cores in top)
    return (
        f"  {w.offered:7.1f} {w.achieved:8.1f} {w.latency.p50:8.1f} {w.latency.p99:8.1f}"
        f" {w.error_fraction * 100:6.1f}%   {sum(w.cpu.values()):.2f} cores: {cpu}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--start", type=float, default=10.0, help="first rate, operations/s")
    parser.add_argument("--factor", type=float, default=1.4, help="each step's rate over the last")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--step-seconds", type=float, default=20.0)
    parser.add_argument("--p99", type=float, default=500.0, help="ms: beyond it the step broke")
    parser.add_argument("--errors", type=float, default=0.01, help="fraction that breaks a step")
    args = parser.parse_args()

    inbox = Inbox()
    inbox.controller.start()
    platform = distributed(inbox.port)
    windows: list[Window] = []
    try:
        print(
            f"stepping mixed load, distributed, {args.step_seconds:.0f} s a step;",
            RATE_LIMITS_NOTE,
        )
        print(f"  p99 limit {args.p99:.0f} ms, errors {args.errors:.0%}; {os.cpu_count()} cores")
        print("  offered achieved  p50 ms   p99 ms  errors   CPU (cores) of the busiest")
        rate = args.start
        sent = 0
        for step in range(args.steps):
            w = window(platform, rate, args.step_seconds, first=sent, tag=f"s{step}x")
            windows.append(w)
            sent += int(rate * args.step_seconds)  # the next step's bookings on later dates
            print(show(w), flush=True)
            broke = (
                w.latency.p99 > args.p99
                or w.error_fraction > args.errors
                or w.achieved < 0.9 * w.offered
            )
            if broke:
                break
            rate *= args.factor
    finally:
        platform.stop()
        inbox.controller.stop()

    # A step the platform did not keep up with broke, whatever its latency.
    steps = [
        (w.offered, w.latency.p99 if w.achieved >= 0.9 * w.offered else inf, w.error_fraction)
        for w in windows
    ]
    found = knee(steps, args.p99, args.errors)
    last = windows[-1]
    if found == last.offered:
        print(f"no knee up to {found:.1f} operations/s: more steps (--steps) to find it")
    else:
        print(f"knee: {f'{found:.1f} operations/s' if found else 'below the first step'}")
    name, cores = last.busiest()
    total = sum(last.cpu.values())
    machine = os.cpu_count() or 1
    if total >= 0.9 * machine:
        print(
            f"  at {last.offered:.1f}/s the machine's {machine} cores were busy ({total:.2f}); "
            f"the busiest: {name} ({cores:.2f} cores)"
        )
    else:
        print(
            f"  at {last.offered:.1f}/s the busiest was {name} ({cores:.2f} cores"
            + ("; one Python process's whole core" if cores >= 0.9 else "")
            + ")"
        )


if __name__ == "__main__":
    main()
