"""The mixed load `make load` and `make soak` offer through the gateway (open loop), and one
measured window of it: latency per operation, errors, and each process's CPU and memory."""

import subprocess
from dataclasses import dataclass
from datetime import date, timedelta

from load import Result, Spec
from platform_procs import Platform
from procs import Usage, cpu_delta, sample
from rig import error_count, ops_done, run_load
from stats import Summary


def mix() -> dict[str, float]:
    """Operation -> weight: mostly searches and reads, a fifth bookings, a few cancellations."""
    check_in = date.today() + timedelta(days=90)
    stay = f"check_in={check_in}&check_out={check_in + timedelta(days=2)}"
    return {
        f"get:/api/v1/availability?{stay}": 35,
        "get:/api/v1/room-types": 10,
        "book": 20,
        "cancel": 5,
        "guest": 15,
        "transfer": 15,
    }


@dataclass
class Window:
    offered: float  # operations per second
    result: Result
    cpu: dict[str, float]  # process -> cores used over the window (CPU seconds per second)
    usage: dict[str, Usage]  # at the window's end

    @property
    def achieved(self) -> float:
        return ops_done(self.result) / max(1e-9, self.result.ended - self.result.started)

    @property
    def latency(self) -> Summary:
        return Summary.of([s for v in self.result.latencies.values() for s in v])

    @property
    def error_fraction(self) -> float:
        done = ops_done(self.result) + error_count(self.result)
        return error_count(self.result) / max(1, done)

    def busiest(self) -> tuple[str, float]:
        name = max(self.cpu, key=lambda k: self.cpu[k])
        return name, self.cpu[name]


def window(platform: Platform, rate: float, seconds: float, first: int, tag: str) -> Window:
    groups = platform.groups()
    before = sample(groups)
    result = run_load(
        Spec(
            platform.gateway_url,
            mix(),
            concurrency=64,
            rate=rate,
            duration=seconds,
            headers=platform.headers,
            first=first,
            tag=tag,
        )
    )
    after = sample(groups)
    took = max(1e-9, result.ended - result.started)
    cpu = {k: v / took for k, v in cpu_delta(before, after).items()}
    cpu["load client"] = result.cpu_seconds / took
    return Window(rate, result, cpu, after)


def queue_depths(namespace: str) -> dict[str, int] | None:
    """Messages waiting in each of the run's RabbitMQ queues (rabbitmqctl); None when it
    cannot be asked (not installed, no rights to the Erlang cookie)."""
    try:
        out = subprocess.run(
            ["rabbitmqctl", "list_queues", "-q", "name", "messages"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_queues(out, namespace)


def parse_queues(text: str, namespace: str) -> dict[str, int]:
    depths = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith(namespace) and parts[1].isdigit():
            depths[parts[0].removeprefix(namespace)] = int(parts[1])
    return depths
