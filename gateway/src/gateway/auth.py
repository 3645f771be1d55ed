"""Who is calling the gateway: the seam between the proxy and the identity store.

The proxy asks `app.state.authenticator` for the caller's `Principal` on every request and
passes it to the service signed (hotel_common.principal). An authenticator raises a 401
`ProblemError` for credentials it does not accept: a bad credential is never served as
anonymous. `Authenticate` runs it once per /api/v1 request, before any route, so the gateway's
own routes, the rate limiter and the audit find the principal in `scope[SCOPE_KEY]`; the real
authenticator lives in gateway.identity.authenticator.
"""

from typing import Protocol

from hotel_common.errors import ProblemError, problem
from hotel_common.principal import ANONYMOUS, SCOPE_KEY, Principal
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

CREDENTIAL_HEADERS = ("authorization", "x-api-key")
API_PREFIX = "/api/v1/"
# Sign-in itself takes no credential: a stale token sent along must not stop a refresh.
UNAUTHENTICATED_PREFIX = "/api/v1/auth/"


class Authenticator(Protocol):
    async def authenticate(self, request: Request) -> Principal:
        """The caller; `ProblemError(401, ...)` for a credential that is not valid."""
        ...


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


class AnonymousOnly:
    """Knows no credentials: every caller is anonymous, one presenting a credential is refused.
    What a gateway without an identity store (a test of the proxy alone) runs with."""

    async def authenticate(self, request: Request) -> Principal:
        if any(name in request.headers for name in CREDENTIAL_HEADERS):
            raise ProblemError(401, "invalid_credentials", "This gateway accepts no credentials.")
        return ANONYMOUS.model_copy(update={"ip": client_ip(request)})


class Authenticate:
    """Pure ASGI: the caller of every /api/v1 request (but sign-in) is authenticated up front
    and left in the scope; a bad credential is answered 401 here, with its challenge."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] == "http"
            and path.startswith(API_PREFIX)
            and not path.startswith(UNAUTHENTICATED_PREFIX)
            and SCOPE_KEY not in scope
        ):
            request = Request(scope)
            try:
                scope[SCOPE_KEY] = await scope["app"].state.authenticator.authenticate(request)
            except ProblemError as refused:
                answer = problem(refused.status, refused.code, refused.detail, **refused.extra)
                answer.headers.update(getattr(refused, "headers", None) or {})
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)
