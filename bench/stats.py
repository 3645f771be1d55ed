"""Latency summaries and open-loop pacing: the pure arithmetic the benchmarks share."""

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0 <= q <= 1) by the nearest-rank method: the smallest value with at
    least q of the values at or below it (no interpolation: a reported p99 was observed)."""
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 1:
        raise ValueError(f"q must be within [0, 1], not {q}")
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered) - 1e-9))  # 0.99 * 100 is 99.00000000000001
    return ordered[rank - 1]


@dataclass(frozen=True)
class Summary:
    """Latencies in milliseconds."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> "Summary":
        if not seconds:
            return cls(0, 0.0, 0.0, 0.0, 0.0)
        ms = [s * 1000 for s in seconds]
        p50, p95, p99 = (percentile(ms, q) for q in (0.5, 0.95, 0.99))
        return cls(len(ms), p50, p95, p99, max(ms))

    def __str__(self) -> str:
        return f"p50 {self.p50:.1f}  p95 {self.p95:.1f}  p99 {self.p99:.1f}  max {self.max:.1f} ms"


def schedule(rate: float, duration: float, start: float = 0.0) -> Iterator[float]:
    """When each request of an open-loop load is due: `rate` per second, evenly spaced, for
    `duration` seconds from `start`. The load sends on these instants whether or not earlier
    answers came back, so a slow server shows as latency, not as a lower offered rate
    (a closed loop would hide it: coordinated omission)."""
    if rate <= 0:
        raise ValueError(f"rate must be positive, not {rate}")
    count = int(rate * duration + 1e-9)
    return (start + i / rate for i in range(count))


def knee(
    steps: Sequence[tuple[float, float, float]], p99_limit_ms: float, max_errors: float
) -> float | None:
    """The highest offered rate of the steps (rate, p99 ms, error fraction), taken in order,
    before the first one whose p99 or error fraction broke its limit; None when the first did."""
    best = None
    for rate, p99, errors in steps:
        if p99 > p99_limit_ms or errors > max_errors:
            break
        best = rate
    return best


def grows(series: Sequence[float], fraction: float, slack: float) -> bool:
    """Whether the last value passed the first by more than `fraction` of it plus `slack`."""
    return len(series) > 1 and series[-1] > series[0] * (1 + fraction) + slack
