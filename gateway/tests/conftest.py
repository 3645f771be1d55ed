"""Fake services for the gateway's tests: small FastAPI apps that echo what reached them."""

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from hotel_common.errors import problem

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


@asynccontextmanager
async def _serve(app: FastAPI) -> AsyncIterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            assert not task.done(), "the test server did not start"
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


@pytest.fixture
def http_server() -> Callable[[FastAPI], AbstractAsyncContextManager[str]]:
    """`async with http_server(app) as base_url`: the app over real HTTP on a free port."""
    return _serve
