"""The authorization matrix: every operation of the gateway's merged OpenAPI document, called
through the gateway as every identity kind, gets the outcome docs/access.md promises
(tests/access_policy.py). Records are probed twice where the policy is "own": the caller's own
record is reachable, another tenant's answers 404 (or is left out of a list)."""

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from access_policy import (
    OWN_RECORD,
    POLICY,
    Call,
    Operation,
    Rule,
    complete_transfers,
    foreign_record,
    operations,
    outcome_holds,
    uncovered,
)
from identities import KINDS, LivePlatform

PATH_ID = re.compile(r"\{[^}]+\}")


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePlatform]:
    with LivePlatform(tmp_path_factory.mktemp("matrix")) as platform:
        yield platform


@pytest.fixture(scope="module")
def live(started: LivePlatform) -> LivePlatform:
    platform = started.enroll()
    with platform.client("admin") as admin:
        complete_transfers(platform, admin)  # their receipts exist (access_policy.py)
    return platform


@pytest.fixture(scope="module")
def document(started: LivePlatform) -> dict[str, Any]:
    with started.client() as client:
        answer = client.get("/openapi.json")
    assert answer.status_code == 200, answer.text
    doc: dict[str, Any] = answer.json()
    assert "x-missing-services" not in doc, doc["x-missing-services"]
    return doc


@pytest.fixture(scope="module")
def admin(live: LivePlatform) -> Iterator[httpx.Client]:
    with live.client("admin") as client:
        yield client


def test_the_policy_names_exactly_the_operations_of_the_document(document: dict[str, Any]) -> None:
    assert uncovered(document, POLICY) == []


def test_a_route_without_a_policy_entry_fails_the_matrix() -> None:
    """The check itself: an operation nobody wrote a rule for, or a rule for a route that is
    gone, is reported (so a new route cannot slip into the platform unreviewed)."""
    known = next(iter(POLICY))
    document = {
        "paths": {
            "/api/v1/known": {"get": {"operationId": known}},
            "/api/v1/new": {"post": {"operationId": "export_everything"}},
        }
    }
    problems = uncovered(document, POLICY)
    assert any("export_everything (POST /api/v1/new)" in p for p in problems), problems
    assert len(problems) == len(POLICY)  # the new one, and every entry but `known` is stale
    assert uncovered({"paths": {}}, {}) == []


def request(
    live: LivePlatform,
    admin: httpx.Client,
    document: dict[str, Any],
    operation_id: str,
    kind: str,
    record: str,
) -> httpx.Response:
    ops = operations(document)
    assert operation_id in ops, f"{operation_id} is not an operation of the merged document"
    method, path = ops[operation_id]
    entry = POLICY[operation_id]
    call = Call(live, admin, kind, record)
    ids = entry.ids(call) if entry.ids else []
    holes = PATH_ID.findall(path)
    assert len(ids) == len(holes), (operation_id, path, ids)
    for value in ids:
        path = PATH_ID.sub(value, path, count=1)
    kwargs: dict[str, Any] = {}
    if entry.body:
        kwargs["json"] = entry.body(call)
    if entry.form:
        kwargs["data"] = entry.form(call)
    if entry.params:
        kwargs["params"] = entry.params(call)
    with live.client(kind) as client:
        return client.request(method, path, **kwargs)


def cases() -> list[Any]:
    return [pytest.param(op, kind, id=f"{op}-{kind}") for op in sorted(POLICY) for kind in KINDS]


@pytest.mark.parametrize(("operation_id", "kind"), cases())
def test_access(
    live: LivePlatform,
    admin: httpx.Client,
    document: dict[str, Any],
    operation_id: str,
    kind: str,
) -> None:
    entry: Operation = POLICY[operation_id]
    rule = entry.rules[kind]
    own = OWN_RECORD.get(kind) if rule is Rule.OWN else None
    record = own or foreign_record(kind)
    answer = request(live, admin, document, operation_id, kind, record)
    assert outcome_holds(rule, answer.status_code), (
        f"{operation_id} as {kind} on {record}'s record: policy {rule.value}, "
        f"got {answer.status_code} {answer.text[:300]}"
    )
    if rule is not Rule.OWN:
        return
    # Another tenant's record: as if it did not exist.
    other = foreign_record(kind)
    if entry.ids:
        hidden = request(live, admin, document, operation_id, kind, other)
        assert hidden.status_code == 404, (operation_id, kind, hidden.status_code, hidden.text)
    if entry.listed:
        listed = request(live, admin, document, operation_id, kind, other)
        assert listed.status_code == 200, listed.text
        foreign_id = entry.listed(Call(live, admin, kind, other))
        assert foreign_id not in listed.text, (operation_id, kind, "lists", other)
