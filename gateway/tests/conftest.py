"""Fake services for the gateway's tests: small FastAPI apps that echo what reached them."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from functools import partial

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from hotel_common.errors import ProblemError, problem
from hotel_common.principal import ANONYMOUS, Principal
from hotel_common.testing import serving
from httpx import ASGITransport, AsyncClient

Echo = Callable[[str], FastAPI]


def echo_service(name: str) -> FastAPI:
    """Answers every /api/v1 path with what it received; a few paths behave specially."""
    app = FastAPI(title=name)
    app.state.ready = True

    @app.get("/health/ready", response_model=None)
    async def ready() -> JSONResponse | dict[str, str]:
        if app.state.ready:
            return {"status": "ready"}
        return problem(503, "not_ready", f"{name} is not ready.")

    @app.get("/api/v1/{prefix}/missing")
    async def missing() -> JSONResponse:
        answer = problem(404, "room_not_found", "No room with id 9.")
        answer.headers["x-upstream-note"] = "kept"
        return answer

    @app.get("/api/v1/{prefix}/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(5)
        return {"status": "late"}

    app.state.failures_left = 0  # /flaky answers 503 this many times, then 200
    app.state.calls = 0  # how many requests reached /flaky

    @app.api_route("/api/v1/{prefix}/flaky", methods=["GET", "POST"])
    async def flaky() -> JSONResponse:
        app.state.calls += 1
        if app.state.failures_left > 0:
            app.state.failures_left -= 1
            return problem(503, "database_unavailable", "Try again.")
        return JSONResponse({"calls": app.state.calls})

    @app.api_route("/api/v1/{prefix}/fixed", methods=["GET", "HEAD"])
    async def fixed() -> PlainTextResponse:
        return PlainTextResponse("twelve bytes")

    @app.post("/api/v1/{prefix}/created", status_code=201)
    async def created(response: Response) -> dict[str, str]:
        response.headers["location"] = "/api/v1/rooms/42"
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return {"id": "42"}

    @app.api_route("/api/v1/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "service": name,
                "method": request.method,
                "path": request.url.path,
                "raw_path": request.scope.get("raw_path", b"").decode(),
                "query": request.url.query,
                "headers": {k: v for k, v in request.headers.items()},
                "body": (await request.body()).decode(),
            },
            headers={"x-served-by": name},
        )

    return app


@pytest.fixture
def echo() -> Echo:
    return echo_service


@pytest.fixture
def http_server() -> Callable[[FastAPI], AbstractAsyncContextManager[str]]:
    """`async with http_server(app) as base_url`: the app over real HTTP on a port of its own."""
    return partial(serving, lifespan="off", timeout_graceful_shutdown=1)


class TokenAuthenticator:
    """Bearer tokens a test hands out, each standing for a principal; no credential is
    anonymous, an unknown one 401 (as the real authenticator answers)."""

    def __init__(self, tokens: dict[str, Principal]) -> None:
        self.tokens = tokens

    async def authenticate(self, request: Request) -> Principal:
        header = request.headers.get("authorization")
        if header is None:
            client = request.client.host if request.client else None
            return ANONYMOUS.model_copy(update={"ip": client})
        principal = self.tokens.get(header.removeprefix("Bearer "))
        if principal is None:
            raise ProblemError(401, "invalid_credentials", "Unknown token.")
        return principal


@asynccontextmanager
async def gateway_clients(app: FastAPI, *ips: str) -> AsyncIterator[list[AsyncClient]]:
    """The app's lifespan, and one in-process client per caller IP address."""
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        clients = [
            await stack.enter_async_context(
                AsyncClient(
                    transport=ASGITransport(app=app, client=(ip, 40000)),
                    base_url="http://testserver",
                )
            )
            for ip in ips or ("127.0.0.1",)
        ]
        yield clients


Clients = Callable[..., AbstractAsyncContextManager[list[AsyncClient]]]


@pytest.fixture
def tokens() -> type[TokenAuthenticator]:
    return TokenAuthenticator


@pytest.fixture
def clients() -> Clients:
    """`async with clients(app, "10.0.0.1", "10.0.0.2") as (a, b)`: callers from those IPs."""
    return gateway_clients
