"""Resilience around one upstream: per-route timeouts inside one deadline, safe retries, and a
circuit breaker.

`ResilientUpstream` wraps a service's upstream (all its replicas: the breaker is per service).
- Each attempt gets the route's timeout, cut to what is left of the request's deadline.
- Retried (with full jitter) only when repeating cannot apply a write twice: GET and HEAD, and
  POST carrying an `Idempotency-Key` (the service answers a repeat with the first answer); and
  only on a failure that says nothing was done or the service is overloaded: no connection,
  a timeout, or a 503 answer.
- The breaker opens after `failures` consecutive failures (no answer, a timeout, a 502/503/504
  answer): for `open_seconds` every call fails at once with `CircuitOpen` (503 with Retry-After),
  so a slow service costs its callers nothing and no gateway capacity is held waiting for it.
  Then one call at a time probes it (half-open); a success closes the breaker, a failure opens
  it again.
"""

import asyncio
import random
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from gateway.upstream import (
    RawHeaders,
    Upstream,
    UpstreamError,
    UpstreamResponse,
    UpstreamTimeout,
    UpstreamUnavailable,
)

FAILING_STATUSES = frozenset({502, 503, 504})
RETRIED_STATUSES = frozenset({503})
IDEMPOTENCY_HEADER = b"idempotency-key"


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(UpstreamUnavailable):
    """The breaker is open: the service is not called (503 with Retry-After)."""

    def __init__(self, service: str, retry_after: float) -> None:
        super().__init__(service, "circuit open after repeated failures")
        self.retry_after = retry_after


class CircuitBreaker:
    def __init__(
        self,
        failures: int = 5,
        open_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = failures
        self.open_seconds = open_seconds
        self.clock = clock
        self.state = State.CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self._probing = False

    def retry_after(self) -> float:
        return max(self.opened_at + self.open_seconds - self.clock(), 0.0)

    def admit(self) -> bool:
        """May a call go through now? In half-open, only one probe at a time."""
        if self.state is State.OPEN:
            if self.retry_after() > 0:
                return False
            self.state = State.HALF_OPEN
        if self.state is State.HALF_OPEN:
            if self._probing:
                return False
            self._probing = True
        return True

    def succeeded(self) -> None:
        self.state = State.CLOSED
        self.failures = 0
        self._probing = False

    def failed(self) -> None:
        self._probing = False
        self.failures += 1
        if self.state is State.HALF_OPEN or self.failures >= self.threshold:
            self.state = State.OPEN
            self.opened_at = self.clock()

    def released(self) -> None:
        """A call that proved nothing either way (cancelled): let another probe."""
        self._probing = False


def retryable(method: str, headers: RawHeaders) -> bool:
    if method in ("GET", "HEAD"):
        return True
    return method == "POST" and any(name.lower() == IDEMPOTENCY_HEADER for name, _ in headers)


class ResilientUpstream(Upstream):
    def __init__(
        self,
        inner: Upstream,
        *,
        deadline: float,
        route_timeouts: dict[str, float],
        retries: int = 2,
        backoff: float = 0.05,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        super().__init__(inner.name, timeout=inner.timeout, ready_timeout=inner.ready_timeout)
        self.inner = inner
        self.deadline = deadline
        # Longest prefix first: "/api/v1/availability" before "/api/v1".
        self.route_timeouts = sorted(route_timeouts.items(), key=lambda kv: -len(kv[0]))
        self.retries = retries
        self.backoff = backoff
        self.breaker = breaker or CircuitBreaker()

    def __getattr__(self, name: str) -> Any:
        """What the wrapped upstream offers besides forwarding (e.g. an in-process one's
        `app`), as if unwrapped."""
        if name == "inner":  # not set yet (a copy in the making): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def route_timeout(self, method: str, path: str) -> float:
        for prefix, seconds in self.route_timeouts:
            verb, _, route = prefix.partition(" ") if " " in prefix else ("", "", prefix)
            if (not verb or verb.upper() == method) and (
                path == route or path.startswith(route.rstrip("/") + "/")
            ):
                return seconds
        return self.inner.timeout

    async def forward(
        self,
        method: str,
        path_with_query: str,
        headers: RawHeaders,
        body: bytes,
        *,
        time_limit: float | None = None,
    ) -> UpstreamResponse:
        started = time.monotonic()
        deadline = started + min(self.deadline, time_limit or self.deadline)
        per_try = time_limit or self.route_timeout(method, path_with_query.split("?", 1)[0])
        attempts = 1 + (self.retries if retryable(method, headers) else 0)
        for attempt in range(attempts):
            left = deadline - time.monotonic()
            last = attempt == attempts - 1
            if not self.breaker.admit():
                raise CircuitOpen(self.name, self.breaker.retry_after())
            try:
                answer = await self.inner.forward(
                    method, path_with_query, headers, body, time_limit=min(per_try, left)
                )
            except UpstreamError as exc:
                self.breaker.failed()
                if last or not isinstance(exc, UpstreamUnavailable | UpstreamTimeout):
                    raise
                if not await self._pause(attempt, deadline):
                    raise
                continue
            except BaseException:
                self.breaker.released()
                raise
            if answer.status in FAILING_STATUSES:
                self.breaker.failed()
            else:
                self.breaker.succeeded()
            if (
                answer.status in RETRIED_STATUSES
                and not last
                and await self._pause(attempt, deadline)
            ):
                continue
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    async def _pause(self, attempt: int, deadline: float) -> bool:
        """Sleep a jittered backoff before the next attempt; False when the deadline would not
        leave it any time."""
        pause = random.uniform(0, self.backoff * 2**attempt)  # full jitter
        if time.monotonic() + pause + 0.01 >= deadline:
            return False
        await asyncio.sleep(pause)
        return True

    async def ready(self) -> str:
        return await self.inner.ready()

    async def aclose(self) -> None:
        await self.inner.aclose()
