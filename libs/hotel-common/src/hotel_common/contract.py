"""What a service's OpenAPI document says beyond its routes' signatures: one example answer
per operation (with its nulls: FastAPI drops every null from a document, which left example
bookings missing required fields), and that a query parameter taking one value takes one value
(a second one is refused, hotel_common.strict). `create_service_app` applies `document_contract`.
"""

from collections.abc import Iterable
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from hotel_common.errors import problems

JSON = "application/json"
ONE_VALUE = "Takes one value: given twice, it is a 422 validation_error."


def example(value: Any, description: str = "Success") -> dict[str, Any]:
    """A `responses` entry documenting a JSON answer with `value` as its example."""
    return {"description": description, "content": {JSON: {"example": value}}}


def answers(
    status: int,
    value: Any,
    by_status: dict[int, str],
    *,
    description: str = "",
    headers: dict[str, Any] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses`: the success `status` with its example `value` (and `headers`), and
    the problem+json answers `by_status`."""
    success: dict[str, Any] = {"content": {JSON: {"example": value}}}
    if description:
        success["description"] = description
    if headers:
        success["headers"] = headers
    return {status: success, **problems(dict(sorted(by_status.items())))}


def document_contract(openapi: dict[str, Any], routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """Put the routes' declared examples back whole and mark one-value query parameters.
    Changes `openapi` in place and returns it."""
    for route in routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = openapi["paths"][route.path_format][method.lower()]
            _restore_examples(route, operation)
            _one_value(operation)
    return openapi


def _restore_examples(route: APIRoute, operation: dict[str, Any]) -> None:
    for status, declared in route.responses.items():
        value = declared.get("content", {}).get(JSON, {}).get("example")
        documented = operation["responses"].get(str(status), {}).get("content", {}).get(JSON)
        if value is not None and documented is not None:
            documented["example"] = value


def _one_value(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        if parameter["in"] != "query" or any(
            variant.get("type") == "array" for variant in schema.get("anyOf", [schema])
        ):
            continue
        text = parameter.get("description", "")
        if ONE_VALUE not in text:
            parameter["description"] = f"{text.rstrip('.')}. {ONE_VALUE}" if text else ONE_VALUE
