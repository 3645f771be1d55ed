"""Idempotency-Key on the gateway's own creating POSTs, as on a service's.

Only where the answer holds no secret: creating a staff user or a partner. A key's creation or
rotation answers with the key itself, which must not be stored to be replayed (keys are kept
only as hashes); a retried one makes a second key, listed and revocable. A retried sign-in is a
new sign-in. Proxied calls pass by: the service keeps their keys.
"""

from hotel_common.idempotency import IdempotencyMiddleware
from starlette.types import Receive, Scope, Send

IDEMPOTENT_PATHS = frozenset({"/api/v1/staff-users", "/api/v1/partners"})


class OwnWritesIdempotency(IdempotencyMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in IDEMPOTENT_PATHS:
            await super().__call__(scope, receive, send)
        else:
            await self.app(scope, receive, send)
