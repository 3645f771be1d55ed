"""`make soak`: the mixed load (bench/mixed.py) at a steady rate through the gateway in
distributed mode for `--minutes`, sampling each minute every process's memory (RSS), the
run's RabbitMQ queue depths and the latency; then says whether they stayed flat (memory: the
last minute within 10 % + 5 MB of the second, the first being warm-up; queues: back to near
empty; p99: within twice the second minute's).

    .venv/bin/python bench/soak.py [--minutes 10] [--rate 20]
"""

import argparse

from mixed import Window, queue_depths, window
from platform_procs import RATE_LIMITS_NOTE, distributed
from rig import MB, Inbox
from stats import grows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--rate", type=float, default=20.0, help="operations per second")
    parser.add_argument("--window", type=float, default=60.0, help="seconds per sample")
    args = parser.parse_args()

    inbox = Inbox()
    inbox.controller.start()
    platform = distributed(inbox.port)
    windows: list[Window] = []
    queues: list[int | None] = []
    try:
        print(
            f"soak: mixed load at {args.rate:.0f} operations/s for {args.minutes} min, "
            f"distributed; {RATE_LIMITS_NOTE}"
        )
        for minute in range(args.minutes):
            w = window(
                platform,
                args.rate,
                args.window,
                first=minute * int(args.rate * args.window),
                tag=f"m{minute}x",
            )
            windows.append(w)
            depths = queue_depths(platform.namespace)
            queues.append(sum(depths.values()) if depths is not None else None)
            rss = ", ".join(
                f"{n} {u.rss_bytes / MB:.0f}"
                for n, u in w.usage.items()
                if n not in ("postgresql", "rabbitmq")
            )
            print(
                f"  min {minute + 1:2d}: {w.achieved:6.1f}/s  p50 {w.latency.p50:6.1f}  "
                f"p99 {w.latency.p99:7.1f} ms  errors {w.error_fraction:.1%}  "
                f"queued {queues[-1] if queues[-1] is not None else 'n/a'}  RSS MB: {rss}",
                flush=True,
            )
    finally:
        platform.stop()
        inbox.controller.stop()

    if len(windows) < 3:
        print("too short to judge (3 minutes at least)")
        return
    growing = [
        name
        for name in windows[0].usage
        if grows([w.usage[name].rss_bytes for w in windows[1:]], 0.10, 5 * MB)
    ]
    print(f"memory: {'flat' if not growing else 'grows: ' + ', '.join(growing)}")
    if queues[-1] is None:
        print("queues: not sampled (rabbitmqctl unavailable)")
    else:
        print(f"queues: {'flat' if queues[-1] <= 2 * args.rate else f'backlog of {queues[-1]}'}")
    p99s = [w.latency.p99 for w in windows[1:]]
    print(
        f"latency: {'flat' if max(p99s[-2:]) <= 2 * p99s[0] else 'grows'} "
        f"(p99 {p99s[0]:.0f} ms in minute 2, {p99s[-1]:.0f} ms in the last)"
    )


if __name__ == "__main__":
    main()
