"""The API document is a contract (issue 21): the current merged document keeps every promise
of the released one (openapi/released.json) unless its major version says otherwise, and it is
one a client generator takes whole: operation ids unique, every schema named, every error a
problem+json. The checker's own rules are tested on small documents in
gateway/tests/test_compat.py."""

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from gateway.compat import check
from gateway.openapi import API_VERSION, OPERATIONS
from launcher.openapi import current_document

RELEASED = Path(__file__).resolve().parents[1] / "openapi" / "released.json"
PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def current() -> dict[str, Any]:
    return asyncio.run(current_document())


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in OPERATIONS
    ]


def test_the_current_document_keeps_the_released_promises(current) -> None:
    released = json.loads(RELEASED.read_text())
    refused = check(released, current)
    assert refused == [], (
        "breaking changes against openapi/released.json (see openapi/README.md):\n"
        + "\n".join(refused)
    )
    assert current["info"]["version"] == API_VERSION


def test_operation_ids_are_unique_names_a_generator_keeps(current) -> None:
    ids = [op.get("operationId") for _, _, op in operations(current)]
    assert all(isinstance(i, str) and re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids), [
        i for i in ids if not i or not re.fullmatch(r"[a-z][a-z0-9_]*", i)
    ]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_every_schema_is_named_once_and_every_body_refers_to_one(current) -> None:
    schemas = current["components"]["schemas"]
    titles = [schema.get("title") for schema in schemas.values()]
    assert all(titles) and len(titles) == len(set(titles))
    inline = [
        f"{method.upper()} {path} {where}"
        for method, path, op in operations(current)
        for where, body in [
            ("request", op.get("requestBody") or {}),
            *((status, answer) for status, answer in op["responses"].items()),
        ]
        for media in (body.get("content") or {}).values()
        if "properties" in (media.get("schema") or {})
    ]
    assert inline == []


def test_every_error_answer_is_a_documented_problem(current) -> None:
    undocumented = [
        f"{method.upper()} {path} {status}"
        for method, path, op in operations(current)
        for status, answer in op["responses"].items()
        if status[0] in "45"
        and (
            set(answer.get("content") or {}) != {"application/problem+json"}
            or answer["content"]["application/problem+json"].get("schema") != PROBLEM
        )
    ]
    assert undocumented == []
    assert "Problem" in current["components"]["schemas"]
