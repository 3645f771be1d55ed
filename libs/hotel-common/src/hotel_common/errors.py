"""RFC 9457 problem+json errors: one shape for every failure a client can see."""

import copy
import logging
from types import TracebackType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
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
    408: "Request Timeout",
    409: "Conflict",
    413: "Content Too Large",
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


class Problem(BaseModel):
    """RFC 9457 problem details: the shape of every error this API returns."""

    type: str
    title: str
    status: int
    code: str = Field(description="Stable machine-readable code, e.g. no_availability")
    detail: str
    request_id: str | None = None
    errors: list[dict[str, str]] | None = Field(
        default=None, description="Per-field problems: field (path), message, type"
    )


_COMPONENTS = "#/components/schemas/"
PROBLEM_REF = _COMPONENTS + "Problem"
# What FastAPI documents for a 422, though install_problem_handlers answers with a Problem.
_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def problems(by_status: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for problem+json answers: {status: what it means}.

    They refer to the `Problem` schema, which `document_problems` adds to the document.
    """
    return {
        status: {
            "description": description,
            "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
        }
        for status, description in by_status.items()
    }


_UNAVAILABLE_RESPONSE = {
    **problems({503: "database_unavailable: the database cannot be reached; see Retry-After"})[503],
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer"},
        }
    },
}


def _generic_problems(path: str, operation: dict[str, Any]) -> dict[str, str]:
    """What any operation of this shape may answer, whatever its route says: a call without a
    principal (401), a record that is not there or not the caller's (404), a body that is not
    JSON (400), a cursor this endpoint did not issue (400)."""
    found = {"401": "unauthenticated: no valid credentials (see the security schemes)"}
    if "{" in path:
        found["404"] = "not_found: no such record, or not one the caller may see"
    bad_request = []
    if "requestBody" in operation:
        bad_request.append("bad_request: the body cannot be read as JSON text (UTF-8)")
    names = {p.get("name") for p in operation.get("parameters", []) if isinstance(p, dict)}
    if "cursor" in names:
        bad_request.append("invalid_cursor: a cursor this endpoint did not issue")
    if bad_request:
        found["400"] = "; ".join(bad_request)
    return found


def document_problems(openapi: dict[str, Any]) -> dict[str, Any]:
    """Make an OpenAPI document say what the API sends: FastAPI's default 422 responses become
    problem+json `Problem`s, every operation may answer 503 `database_unavailable` (and the
    generic problems of its shape, unless its route documents them itself), and the `Problem`
    schema is added wherever something refers to it.
    Changes `openapi` in place and returns it.
    """
    default_422 = {"$ref": _COMPONENTS + "HTTPValidationError"}
    for path, item in (openapi.get("paths") or {}).items():
        for operation in item.values() if isinstance(item, dict) else ():
            responses = operation.get("responses") if isinstance(operation, dict) else None
            if not isinstance(responses, dict):
                continue
            responses.setdefault("503", copy.deepcopy(_UNAVAILABLE_RESPONSE))
            if not path.startswith(("/health/", "/openapi")):
                for status, description in _generic_problems(path, operation).items():
                    responses.setdefault(status, problems({int(status): description})[int(status)])
            content = (responses.get("422") or {}).get("content") or {}
            if (content.get("application/json") or {}).get("schema") == default_422:
                responses["422"] = problems({422: "validation_error"})[422]
    schemas: dict[str, Any] = openapi.get("components", {}).get("schemas", {})
    for name in _VALIDATION_SCHEMAS:  # HTTPValidationError first: it refers to the other
        if name in schemas and _COMPONENTS + name not in _refs(openapi):
            del schemas[name]
    if PROBLEM_REF in _refs(openapi):
        schemas["Problem"] = Problem.model_json_schema()
        openapi.setdefault("components", {})["schemas"] = dict(sorted(schemas.items()))
    return openapi


def _refs(node: Any) -> set[str]:
    if isinstance(node, list):
        return {ref for value in node for ref in _refs(value)}
    if not isinstance(node, dict):
        return set()
    found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
    return found.union(*(_refs(value) for value in node.values()))


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


# A database outage: what a client should wait before trying again (seconds).
RETRY_AFTER_SECONDS = 2
_DRIVERS = ("sqlalchemy.", "asyncpg", "aiosqlite", "sqlite3")
# SQLSTATE classes of a server that cannot serve now: connection exception (08), insufficient
# resources (53, e.g. too many connections), operator intervention (57, e.g. shutting down).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57")


def is_database_outage(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the database cannot be reached or used right now,
    as opposed to a bug or a bad statement: a lost or refused connection, a pool timeout, a
    server shutting down, SQLite's file locked or unreadable."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.TimeoutError):  # no pooled connection in time
            return True
        if isinstance(current, sa_exc.DBAPIError) and (
            current.connection_invalidated
            or isinstance(current, sa_exc.OperationalError | sa_exc.InterfaceError)
        ):
            return True
        sqlstate = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        module = type(current).__module__
        if module.startswith("asyncpg") and "Connection" in type(current).__name__:
            return True  # e.g. ConnectionDoesNotExistError
        if isinstance(current, OSError) and _raised_in_driver(current.__traceback__):
            return True  # refused, reset, timed out while connecting or talking to it
        current = current.__cause__ or current.__context__
    return False


# SQLSTATEs of a text the database cannot hold (PostgreSQL: NUL, or not in the encoding).
_UNSTORABLE_TEXT_SQLSTATES = ("22021", "22P05")


def is_unstorable_text(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) is the database refusing a text a client sent, e.g.
    a NUL character in a PostgreSQL parameter: the client's fault (422), not a bug (500)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        sqlstate = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if sqlstate in _UNSTORABLE_TEXT_SQLSTATES:
            return True
        current = current.__cause__ or current.__context__
    return False


def _raised_in_driver(tb: TracebackType | None) -> bool:
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).startswith(_DRIVERS):
            return True
        tb = tb.tb_next
    return False


def database_unavailable() -> JSONResponse:
    response = problem(
        503,
        "database_unavailable",
        "The database cannot be reached right now; nothing was changed. Try again shortly.",
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


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

    async def _database(_: Request, exc: Exception) -> JSONResponse:
        if is_unstorable_text(exc):
            return problem(
                422, "invalid_text", "The request holds characters that cannot be stored (NUL)."
            )
        if not is_database_outage(exc):
            raise exc  # a bug, not an outage: the catch-all below answers 500 and logs it
        log.warning("database unavailable", extra={"error": type(exc).__name__})
        return database_unavailable()

    # Answered inside the app, so a middleware around it (idempotency.py) sees the 503.
    for outage in (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError):
        app.add_exception_handler(outage, _database)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        if is_database_outage(exc):  # raised outside the routes, e.g. in a middleware
            log.warning("database unavailable", extra={"error": type(exc).__name__})
            return database_unavailable()
        log.exception("unhandled error")
        return problem(500, "internal_error", "An unexpected error occurred; it has been logged.")
