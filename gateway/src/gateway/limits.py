"""Rate limits: how much each caller may ask of the platform, per minute.

Every /api request is counted against up to three buckets at once: the caller's own (a
partner, guest, booking holder or staff member by principal id; an anonymous caller by IP), the
per-IP ceiling every caller from one address shares, and for `/api/v1/auth/*` a strict per-IP
bucket (password and code guessing). A request is admitted only when every bucket has room;
then all are charged together, so a refused request costs nothing.

The algorithm is GCRA (a token bucket kept as one timestamp per bucket, the "theoretical
arrival time"): a bucket of `limit` per `period` refills continuously, a burst of `limit` is
allowed, and the time until the next admission is exact (the `Retry-After`). Buckets live in
process memory, or in Redis when `REDIS_URL` is set, so gateway replicas share them; there one
Lua script checks and charges all buckets of a request atomically, on Redis's clock.
"""

import asyncio
import logging
import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

log = logging.getLogger(__name__)

STORE_RETRY_SECONDS = 5.0  # after the shared store failed, count in process this long


@dataclass(frozen=True)
class Bucket:
    key: str  # e.g. "principal:partner:7", "ip:10.0.0.1"
    limit: int  # requests (cost units) per period
    period: float  # seconds


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int  # of the tightest bucket
    remaining: int  # in the tightest bucket, after this request
    reset: float  # seconds until the tightest bucket is full again
    retry_after: float  # seconds until this request would be admitted (0 if admitted)
    policy: Bucket  # the tightest bucket


def _gcra(tat: float, now: float, bucket: Bucket, cost: int) -> tuple[bool, float, float]:
    """(admitted, the bucket's new arrival time, seconds until admitted)."""
    interval = bucket.period / bucket.limit
    start = max(tat, now)
    new_tat = start + cost * interval
    allow_at = new_tat - bucket.period
    if now < allow_at - 1e-9:
        return False, tat, allow_at - now
    return True, new_tat, 0.0


def _decide(buckets: list[Bucket], tats: list[float], now: float, cost: int) -> Decision:
    outcomes = [_gcra(tat, now, b, cost) for tat, b in zip(tats, buckets, strict=True)]
    allowed = all(ok for ok, _, _ in outcomes)
    retry_after = max(wait for _, _, wait in outcomes)

    def remaining(i: int) -> int:
        bucket = buckets[i]
        tat = outcomes[i][1] if allowed else max(tats[i], now)
        used = max(tat - now, 0.0)
        return max(0, math.floor((bucket.period - used) / (bucket.period / bucket.limit)))

    tightest = min(range(len(buckets)), key=remaining)
    bucket = buckets[tightest]
    tat = outcomes[tightest][1] if allowed else max(tats[tightest], now)
    return Decision(
        allowed=allowed,
        limit=bucket.limit,
        remaining=remaining(tightest),
        reset=max(tat - now, 0.0),
        retry_after=retry_after,
        policy=bucket,
    )


class LimitStore(ABC):
    @abstractmethod
    async def acquire(self, buckets: list[Bucket], cost: int) -> Decision:
        """Admit a request of `cost` if every bucket has room, charging all of them."""

    async def aclose(self) -> None:
        return None


class MemoryStore(LimitStore):
    """This process's buckets: one gateway replica's view."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._tats: dict[str, float] = {}
        self._clock = clock
        self._calls = 0

    async def acquire(self, buckets: list[Bucket], cost: int) -> Decision:
        now = self._clock()
        tats = [self._tats.get(b.key, now) for b in buckets]
        decision = _decide(buckets, tats, now, cost)
        if decision.allowed:
            for b, tat in zip(buckets, tats, strict=True):
                self._tats[b.key] = max(tat, now) + cost * b.period / b.limit
        self._calls += 1
        if self._calls % 4096 == 0:  # forget buckets that are full again
            self._tats = {k: t for k, t in self._tats.items() if t > now}
        return decision


# KEYS: the buckets; ARGV: cost, then limit and period (ms) per bucket. Times in ms on Redis's
# clock (TIME), so replicas with skewed clocks agree. Returns {allowed, tat per bucket, now}.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cost = tonumber(ARGV[1])
local tats = {}
local allowed = 1
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i])
  local period = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  tats[i] = tat
  if tat + cost * period / limit - period > now then allowed = 0 end
end
if allowed == 1 then
  for i, key in ipairs(KEYS) do
    local limit = tonumber(ARGV[2 * i])
    local period = tonumber(ARGV[2 * i + 1])
    local new_tat = tats[i] + cost * period / limit
    redis.call('SET', key, tostring(new_tat), 'PX', math.ceil(new_tat - now) + 1)
  end
end
local out = {allowed, tostring(now)}
for i = 1, #tats do out[#out + 1] = tostring(tats[i]) end
return out
"""


class RedisStore(LimitStore):
    """Buckets in Redis, shared by every gateway replica pointing at it."""

    def __init__(self, url: str, prefix: str = "hotel:ratelimit:") -> None:
        # Short timeouts: a limiter that waits on a stuck Redis stalls every request.
        self.redis: Redis = Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5, retry_on_timeout=False
        )
        self.prefix = prefix
        self._script = self.redis.register_script(_SCRIPT)

    async def acquire(self, buckets: list[Bucket], cost: int) -> Decision:
        args: list[Any] = [cost]
        for b in buckets:
            args += [b.limit, int(b.period * 1000)]
        allowed, now_ms, *tats_ms = await self._script(
            keys=[self.prefix + b.key for b in buckets], args=args
        )
        now = float(now_ms) / 1000
        decision = _decide(buckets, [float(t) / 1000 for t in tats_ms], now, cost)
        if bool(int(allowed)) != decision.allowed:  # rounding at the edge: Redis decided
            decision = Decision(
                allowed=bool(int(allowed)),
                limit=decision.limit,
                remaining=0,
                reset=decision.reset,
                retry_after=0.0 if int(allowed) else max(decision.retry_after, 0.001),
                policy=decision.policy,
            )
        return decision

    async def aclose(self) -> None:
        await asyncio.shield(self.redis.aclose())


class Failover(LimitStore):
    """The shared store, or this process's buckets for a while after it failed: with Redis
    down, limits hold per replica rather than not at all. One object, so every path through
    the gateway (the proxy's fast path and the framework's) counts in the same fallback."""

    def __init__(self, store: LimitStore) -> None:
        self.store = store
        self.fallback = MemoryStore()
        self._down_until = 0.0

    async def acquire(self, buckets: list[Bucket], cost: int) -> Decision:
        if time.monotonic() >= self._down_until:
            try:
                return await self.store.acquire(buckets, cost)
            except Exception as exc:
                log.warning("rate-limit store failed (%s); limiting in process", exc)
                self._down_until = time.monotonic() + STORE_RETRY_SECONDS
        return await self.fallback.acquire(buckets, cost)

    async def aclose(self) -> None:
        await self.store.aclose()
