"""RFC 9457 problem+json errors: one shape for every failure a client can see."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotel_common import context

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://hotel-platform.example/problems/"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ProblemError(Exception):
    """Raise from domain or API code; becomes a problem+json response with a stable code."""

    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = extra


class NotFound(ProblemError):
    def __init__(self, what: str, ident: object) -> None:
        super().__init__(404, f"{what}_not_found", f"No {what.replace('_', ' ')} with id {ident}.")


def problem_body(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
    }
    if rid := context.request_id.get():
        body["request_id"] = rid
    body.update(extra)
    return body


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse(
        problem_body(status, code, detail, **extra), status_code=status, media_type=PROBLEM_JSON
    )


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_path(e["loc"]), "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        return problem(422, "validation_error", "The request is not valid.", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _TITLES.get(exc.status_code, "error").lower().replace(" ", "_")
        return problem(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem(500, "internal_error", "An unexpected error occurred; it has been logged.")
