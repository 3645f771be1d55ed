"""RFC 9457 problem+json errors: one shape for every failure a client can see."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
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


def document_problems(openapi: dict[str, Any]) -> dict[str, Any]:
    """Make an OpenAPI document say what the API sends: FastAPI's default 422 responses become
    problem+json `Problem`s, and the `Problem` schema is added wherever something refers to it.
    Changes `openapi` in place and returns it.
    """
    default_422 = {"$ref": _COMPONENTS + "HTTPValidationError"}
    for item in (openapi.get("paths") or {}).values():
        for operation in item.values() if isinstance(item, dict) else ():
            responses = operation.get("responses") if isinstance(operation, dict) else None
            if not isinstance(responses, dict):
                continue
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
