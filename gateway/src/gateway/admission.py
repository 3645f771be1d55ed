"""Admission at the gateway's door: who is calling, and may they call now.

Pure ASGI around every /api route, the gateway's own (auth, keys, me/trips) and the proxied
ones alike. It asks `app.state.authenticator` for the caller once and leaves the principal in
`scope[SCOPE_KEY]` (the proxy and the gateway's routes reuse it), answers a bad credential
with 401, then charges the caller's rate-limit buckets (gateway.limits) and answers 429 when one
is empty. Admitted answers carry RateLimit-* headers describing the tightest bucket.
"""

import math

from hotel_common.errors import ProblemError, problem
from hotel_common.principal import SCOPE_KEY, Kind, Principal
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import registry
from gateway.limits import Bucket, Decision, LimitStore

AUTH_PREFIX = "/api/v1/auth"
# GETs that search or list (a database scan, several calls) cost more than one by id.
BUCKETS_KEPT = 10_000
COSTLY = frozenset({*(p for s in registry.SERVICES for p in s.paths), "/api/v1/me/trips"})


class Policy:
    """Which buckets a request is charged to, and what it costs."""

    def __init__(
        self,
        per_kind: dict[str, int],
        ip_ceiling: int,
        auth_per_ip: int,
        list_cost: int,
        period: float = 60.0,
    ) -> None:
        self.per_kind = per_kind
        self.ip_ceiling = ip_ceiling
        self.auth_per_ip = auth_per_ip
        self.list_cost = list_cost
        self.period = period
        # The buckets of a request, by (caller kind and id or IP, IP): building them costs
        # more than the rest of the limiter's Python on every call; bounded, cleared when full.
        self._made: dict[tuple[str, str, str], list[Bucket]] = {}

    def ceiling(self, ip: str) -> Bucket:
        return Bucket(f"ip:{ip}", self.ip_ceiling, self.period)

    def auth(self, ip: str) -> Bucket:
        return Bucket(f"auth:{ip}", self.auth_per_ip, self.period)

    def buckets(self, path: str, ip: str, caller: Principal | None) -> list[Bucket]:
        if caller is None or path == AUTH_PREFIX or path.startswith(AUTH_PREFIX + "/"):
            key = ("auth", "", ip)
        elif caller.kind is Kind.ANONYMOUS:
            key = ("anonymous", "", ip)
        else:
            key = (caller.kind.value, caller.id, ip)
        made = self._made.get(key)
        if made is None:
            if len(self._made) >= BUCKETS_KEPT:
                self._made.clear()
            made = self._made[key] = self._buckets(*key)
        return made

    def _buckets(self, kind: str, who: str, ip: str) -> list[Bucket]:
        if kind == "auth":
            return [self.auth(ip), self.ceiling(ip)]
        if kind == "anonymous":
            own = Bucket(f"anon:{ip}", self.per_kind.get("anonymous", self.ip_ceiling), self.period)
        else:
            own = Bucket(f"who:{who}", self.per_kind.get(kind, self.ip_ceiling), self.period)
        return [own, self.ceiling(ip)]

    def cost(self, method: str, path: str) -> int:
        if method in ("GET", "HEAD") and path.rstrip("/") in COSTLY:
            return self.list_cost
        return 1


def rate_headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    policy = decision.policy
    return [
        (b"ratelimit-limit", str(decision.limit).encode()),
        (b"ratelimit-remaining", str(decision.remaining).encode()),
        (b"ratelimit-reset", str(math.ceil(decision.reset)).encode()),
        (b"ratelimit-policy", f"{policy.limit};w={policy.period:g}".encode()),
    ]


class Admission:
    def __init__(self, app: ASGIApp, policy: Policy, store: LimitStore, enabled: bool = True):
        self.app = app
        self.policy = policy
        # A shared store arrives wrapped in limits.Failover (in process while Redis is down).
        self.store = store
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        caller: Principal | None = scope.get(SCOPE_KEY)
        auth_route = path == AUTH_PREFIX or path.startswith(AUTH_PREFIX + "/")
        if caller is None and not auth_route:
            try:
                caller = await scope["app"].state.authenticator.authenticate(Request(scope))
            except ProblemError as refused:
                # A failed credential draws on the strict per-IP bucket: guessing keys or
                # tokens is as slow as guessing passwords.
                decision = await self.store.acquire(self.policy.buckets(AUTH_PREFIX, ip, None), 1)
                if self.enabled and not decision.allowed:
                    await self._too_many(decision)(scope, receive, send)
                    return
                answer = problem(refused.status, refused.code, refused.detail, **refused.extra)
                answer.headers.update(getattr(refused, "headers", None) or {})
                if refused.status == 401:
                    answer.headers.setdefault("www-authenticate", 'Bearer realm="hotel"')
                await answer(scope, receive, send)
                return
            scope[SCOPE_KEY] = caller
        if not self.enabled:
            await self.app(scope, receive, send)
            return
        decision = await self.store.acquire(
            self.policy.buckets(path, ip, caller), self.policy.cost(scope["method"], path)
        )
        if not decision.allowed:
            await self._too_many(decision)(scope, receive, send)
            return
        extra = rate_headers(decision)

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_limits)

    @staticmethod
    def _too_many(decision: Decision) -> ASGIApp:
        wait = max(1, math.ceil(decision.retry_after))
        answer = problem(
            429,
            "rate_limited",
            f"Too many requests; try again in {wait} s.",
            retry_after=wait,
        )
        answer.headers["retry-after"] = str(wait)
        for name, value in rate_headers(decision):
            answer.headers[name.decode()] = value.decode()
        return answer
