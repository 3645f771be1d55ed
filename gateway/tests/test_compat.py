"""The API compatibility checker (gateway.compat) on small documents: each rule can fail,
additions pass, and a raised major version lets a breaking change through."""

import copy
from collections.abc import Callable
from typing import Any

import pytest
from gateway.compat import breaking_changes, check

Doc = dict[str, Any]


def released() -> Doc:
    """A booking API in miniature: a search with a query parameter, a strict create body, a
    read whose answer has a required and an optional field and a nullable enum."""
    status = {"type": "string", "enum": ["pending", "confirmed"]}
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1.2.0"},
        "paths": {
            "/api/v1/bookings": {
                "get": {
                    "operationId": "list_bookings",
                    "security": [{"ApiKey": []}, {}],
                    "parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                        {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Booking"},
                                    }
                                }
                            }
                        }
                    },
                },
                "post": {
                    "operationId": "create_booking",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/BookingCreate"}
                            }
                        }
                    },
                    "responses": {
                        "201": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Booking"}
                                }
                            }
                        },
                        "422": {"content": {"application/problem+json": {"schema": {}}}},
                    },
                },
            },
            "/api/v1/bookings/{id}": {
                "get": {
                    "operationId": "get_booking",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Booking"}
                                }
                            }
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "BookingCreate": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["room"],
                    "properties": {
                        "room": {"type": "string", "maxLength": 8},
                        "guests": {"type": "integer", "minimum": 1, "maximum": 20},
                        "board": {"anyOf": [status | {"enum": ["room", "half"]}, {"type": "null"}]},
                        "note": {"type": "string"},
                    },
                },
                "Booking": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {
                        "id": {"type": "string"},
                        "status": status,
                        "total": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                        "next": {"$ref": "#/components/schemas/Booking"},  # recursive
                    },
                },
            }
        },
    }


def changed(edit: Callable[[Doc], object]) -> Doc:
    doc = copy.deepcopy(released())
    edit(doc)
    return doc


def path(doc: Doc, p: str = "/api/v1/bookings") -> Doc:
    item: Doc = doc["paths"][p]
    return item


def schema(doc: Doc, name: str) -> Doc:
    found: Doc = doc["components"]["schemas"][name]
    return found


def test_the_same_document_has_no_breaking_change() -> None:
    assert breaking_changes(released(), released()) == []


def test_additions_pass() -> None:
    def add(doc: Doc) -> None:
        doc["paths"]["/api/v1/rooms"] = {"get": {"operationId": "list_rooms", "responses": {}}}
        path(doc)["delete"] = {"operationId": "purge", "responses": {}}
        path(doc)["get"]["parameters"].append(
            {"name": "status", "in": "query", "schema": {"type": "string"}}
        )
        schema(doc, "BookingCreate")["properties"]["channel"] = {"type": "string"}
        schema(doc, "BookingCreate")["properties"]["room"]["maxLength"] = 16  # wider
        schema(doc, "BookingCreate")["properties"]["board"]["anyOf"][0]["enum"].append("full")
        schema(doc, "Booking")["properties"]["created_at"] = {"type": "string"}
        schema(doc, "Booking")["required"].append("total")  # always sent now: fine
        schema(doc, "Booking")["properties"]["status"]["enum"].append("cancelled")  # open enum
        path(doc)["post"]["responses"]["409"] = {"description": "conflict"}
        del path(doc)["post"]["responses"]["422"]  # errors come and go
        doc["info"]["version"] = "1.3.0"

    assert breaking_changes(released(), changed(add)) == []
    assert check(released(), changed(add)) == []


# Each rule, one change that breaks it, and the words the finding carries.
BREAKING: dict[str, tuple[Callable[[Doc], object], str]] = {
    "removed path": (lambda d: d["paths"].pop("/api/v1/bookings/{id}"), "path removed"),
    "removed operation": (lambda d: path(d).pop("post"), "POST /api/v1/bookings: operation"),
    "changed operation id": (
        lambda d: path(d)["get"].update(operationId="bookings"),
        "operationId changed 'list_bookings' -> 'bookings'",
    ),
    "new required parameter": (
        lambda d: path(d)["get"]["parameters"].append(
            {"name": "property", "in": "query", "required": True, "schema": {}}
        ),
        "new required query parameter 'property'",
    ),
    "parameter made required": (
        lambda d: path(d)["get"]["parameters"][0].update(required=True),
        "made required query parameter 'limit'",
    ),
    "removed query parameter": (
        lambda d: path(d)["get"]["parameters"].pop(0),
        "query parameter 'limit' removed",
    ),
    "narrowed parameter type": (
        lambda d: path(d)["get"]["parameters"][0].update(schema={"type": "boolean"}),
        "query parameter 'limit': type narrowed integer -> boolean",
    ),
    "new required request field": (
        lambda d: (
            schema(d, "BookingCreate")["properties"].update(email={"type": "string"}),
            schema(d, "BookingCreate")["required"].append("email"),
        ),
        "request body: new required field 'email'",
    ),
    "request field made required": (
        lambda d: schema(d, "BookingCreate")["required"].append("note"),
        "request body: made required field 'note'",
    ),
    "request body made required": (
        lambda d: path(d)["post"]["requestBody"].update(required=True),
        "request body made required",
    ),
    "removed field of a strict request": (
        lambda d: schema(d, "BookingCreate")["properties"].pop("note"),
        "field 'note' removed (unknown fields are refused)",
    ),
    "narrowed request type": (
        lambda d: schema(d, "BookingCreate")["properties"].update(note={"type": "integer"}),
        "request body.note: type narrowed string -> integer",
    ),
    "narrowed request enum": (
        lambda d: schema(d, "BookingCreate")["properties"]["board"]["anyOf"][0].update(
            enum=["room"]
        ),
        "request body.board: enum narrowed (no longer takes half)",
    ),
    "nullable request field no longer takes null": (
        lambda d: (
            schema(d, "BookingCreate")["properties"]["board"].pop("anyOf")
            and schema(d, "BookingCreate")["properties"]["board"].update(
                type="string", enum=["room", "half"]
            )
        ),
        "request body.board: type narrowed null|string -> string",
    ),
    "lowered upper bound": (
        lambda d: schema(d, "BookingCreate")["properties"]["room"].update(maxLength=4),
        "request body.room: maxLength narrowed 8 -> 4",
    ),
    "raised lower bound": (
        lambda d: schema(d, "BookingCreate")["properties"]["guests"].update(minimum=2),
        "request body.guests: minimum narrowed 1 -> 2",
    ),
    "new pattern": (
        lambda d: schema(d, "BookingCreate")["properties"]["note"].update(pattern="^[a-z]+$"),
        "request body.note: pattern changed None -> '^[a-z]+$'",
    ),
    "removed request media type": (
        lambda d: path(d)["post"]["requestBody"].update(
            content={"application/xml": {"schema": {}}}
        ),
        "request media type application/json removed",
    ),
    "removed success response": (
        lambda d: path(d)["post"]["responses"].update(
            {"200": path(d)["post"]["responses"].pop("201")}
        ),
        "POST /api/v1/bookings: response 201 removed",
    ),
    "removed response field": (
        lambda d: schema(d, "Booking")["properties"].pop("total"),
        "response 201: field 'total' removed",
    ),
    "response field no longer always sent": (
        lambda d: schema(d, "Booking")["required"].remove("status"),
        "field 'status' no longer always sent",
    ),
    "widened response type": (
        lambda d: schema(d, "Booking")["properties"].update(
            id={"anyOf": [{"type": "string"}, {"type": "null"}]}
        ),
        "response 201.id: type widened string -> null|string",
    ),
    "response enum turned free": (
        lambda d: schema(d, "Booking")["properties"].update(status={"type": "string"}),
        "response 200.status: no longer an enum",
    ),
    "field of a nested response removed": (
        lambda d: path(d, "/api/v1/bookings/{id}")["get"]["responses"]["200"]["content"][
            "application/json"
        ].update(schema={"type": "object", "properties": {"id": {"type": "string"}}}),
        "GET /api/v1/bookings/{id}: response 200: field 'next' removed",
    ),
    "anonymous call needs a credential": (
        lambda d: path(d)["get"].update(security=[{"ApiKey": []}]),
        "anonymous callers are no longer allowed",
    ),
}


@pytest.mark.parametrize("rule", list(BREAKING))
def test_each_breaking_change_is_found(rule: str) -> None:
    edit, words = BREAKING[rule]
    found = breaking_changes(released(), changed(edit))
    assert any(words in line for line in found), found


@pytest.mark.parametrize("rule", ["removed path", "new required request field"])
def test_a_breaking_change_passes_only_with_a_raised_major_version(rule: str) -> None:
    edit, _ = BREAKING[rule]
    minor = changed(lambda d: (edit(d), d["info"].update(version="1.3.0")))
    major = changed(lambda d: (edit(d), d["info"].update(version="2.0.0")))

    refused = check(released(), minor)
    assert refused and all("raise the major version" in line for line in refused)
    assert check(released(), major) == []


def test_a_version_that_goes_back_or_is_not_semver_is_refused() -> None:
    assert check(released(), changed(lambda d: d["info"].update(version="1.1.9"))) == [
        "info.version went back: 1.2.0 -> 1.1.9"
    ]
    assert "not semver" in check(released(), changed(lambda d: d["info"].update(version="v2")))[0]


def test_a_removed_header_parameter_or_lenient_body_field_is_not_breaking() -> None:
    def loosen(doc: Doc) -> None:
        path(doc)["get"]["parameters"].pop(1)  # Idempotency-Key: a client still may send it
        schema(doc, "BookingCreate")["additionalProperties"] = True
        schema(doc, "BookingCreate")["properties"].pop("note")  # ignored when sent

    assert breaking_changes(released(), changed(loosen)) == []
