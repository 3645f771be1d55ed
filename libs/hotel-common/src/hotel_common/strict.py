"""Strict input: what a client sends that the API does not know is refused, never dropped.

- Request bodies derive from `StrictModel` (or set `extra="forbid"` like it): an unknown field
  is a 422 `validation_error` whose `errors` name it (`body.<field>`, type `extra_forbidden`).
- Query parameters: `reject_unknown_query` is an app-wide dependency (installed by
  `create_service_app`): a parameter the route does not declare is the same 422, naming it
  (`query.<name>`). It runs before the route's body, so nothing is written. A parameter that
  takes one value given twice (`?status=a&status=b`) is refused the same way (type `too_long`),
  not read as its last value.
"""

from typing import Any

from fastapi import Request
from fastapi._compat.shared import field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict

FORBID_EXTRA = ConfigDict(extra="forbid")


class StrictModel(BaseModel):
    """Base of request bodies: unknown fields are a validation error."""

    model_config = FORBID_EXTRA


_CACHE = "_hotel_declared_query"  # the route's attribute keeping what declared_query found


def declared_query(route: APIRoute) -> frozenset[str]:
    """The query parameters `route` declares, its dependencies' included (by their alias)."""
    names: frozenset[str] | None = getattr(route, _CACHE, None)
    if names is None:
        names = frozenset(_query_names(route.dependant))
        setattr(route, _CACHE, names)
    return names


def _query_names(dependant: Dependant) -> set[str]:
    return {name for name, _many in _query_fields(dependant)}


def _query_fields(dependant: Dependant) -> set[tuple[str, bool]]:
    """(alias, takes several values) of every query parameter `dependant` declares."""
    fields: set[tuple[str, bool]] = set()
    for field in dependant.query_params:
        model = field.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):  # a query-parameter model
            fields.update(
                (f.alias or name, field_annotation_is_sequence(f.annotation))
                for name, f in model.model_fields.items()
            )
        else:
            fields.add((field.alias, field_annotation_is_sequence(model)))
    for sub in dependant.dependencies:
        fields |= _query_fields(sub)
    return fields


_SINGLE_CACHE = "_hotel_single_query"  # the route's attribute: its one-value parameters


def single_valued_query(route: APIRoute) -> frozenset[str]:
    """The query parameters of `route` that take one value (not a list)."""
    names: frozenset[str] | None = getattr(route, _SINGLE_CACHE, None)
    if names is None:
        names = frozenset(n for n, many in _query_fields(route.dependant) if not many)
        setattr(route, _SINGLE_CACHE, names)
    return names


def unknown_query_errors(request: Request) -> list[dict[str, Any]]:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return []
    declared = declared_query(route)
    unknown = dict.fromkeys(k for k in request.query_params if k not in declared)
    single = single_valued_query(route)
    repeated = dict.fromkeys(
        k for k in request.query_params if k in single and len(request.query_params.getlist(k)) > 1
    )
    return [
        {
            "type": "extra_forbidden",
            "loc": ("query", name),
            "msg": "Unknown query parameter",
            "input": request.query_params.get(name),
        }
        for name in unknown
    ] + [
        {
            "type": "too_long",  # a second value of a one-value parameter is not dropped
            "loc": ("query", name),
            "msg": "Query parameter given more than once; it takes one value",
            "input": request.query_params.getlist(name),
        }
        for name in repeated
    ]


async def reject_unknown_query(request: Request) -> None:
    """App-wide dependency: 422 naming every query parameter the route does not declare."""
    if errors := unknown_query_errors(request):
        raise RequestValidationError(errors)
