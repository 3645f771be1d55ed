"""The OpenAPI document is the contract an integrator reads: every operation has a summary, a
description, its refusals and errors, and an example answer; a query parameter that takes one
value says so (and a second value is a 422)."""

from typing import Any

from .conftest import GuestService

# Error statuses each operation documents besides 401 and 403.
EXPECTED = {
    ("get", "/api/v1/guests"): {"400", "422"},
    ("post", "/api/v1/guests"): {"409", "422"},
    ("get", "/api/v1/guests/me"): {"404"},
    ("get", "/api/v1/guests/{guest_id}"): {"404", "422"},
    ("patch", "/api/v1/guests/{guest_id}"): {"404", "409", "422"},
    # issue 19: profiles
    ("patch", "/api/v1/guests/me"): {"404", "409", "422"},
    ("get", "/api/v1/guests/pii-reads"): {"400", "422"},
    ("post", "/api/v1/guests/re-encryption"): set(),
    ("get", "/api/v1/guests/{guest_id}/document"): {"404", "422"},
    ("get", "/api/v1/guests/{guest_id}/contacts"): {"404", "422"},
    ("post", "/api/v1/guests/{guest_id}/contacts"): {"404", "409", "422"},
    ("patch", "/api/v1/guests/{guest_id}/contacts/{contact_id}"): {"404", "409", "422"},
    ("delete", "/api/v1/guests/{guest_id}/contacts/{contact_id}"): {"404", "409", "422"},
    # merging
    ("get", "/api/v1/guests/merge-suggestions"): {"400", "422"},
    ("post", "/api/v1/guests/merge-suggestions/{suggestion_id}/dismiss"): {"404", "409", "422"},
    ("post", "/api/v1/guest-merges"): {"404", "409", "422"},
    ("get", "/api/v1/guest-merges/{merge_id}"): {"404", "422"},
    ("post", "/api/v1/guest-merges/{merge_id}/undo"): {"404", "409", "422"},
    # the guest's rights (consents, contact preferences, export, erasure)
    ("get", "/api/v1/guests/me/contact-preferences"): {"404"},
    ("put", "/api/v1/guests/me/contact-preferences"): {"404", "422"},
    ("get", "/api/v1/guests/me/consents"): {"400", "404", "422"},
    ("post", "/api/v1/guests/me/consents"): {"404", "422"},
    ("get", "/api/v1/guests/{guest_id}/contact-preferences"): {"404", "422"},
    ("put", "/api/v1/guests/{guest_id}/contact-preferences"): {"404", "409", "422"},
    ("get", "/api/v1/guests/{guest_id}/consents"): {"400", "404", "422"},
    ("post", "/api/v1/guests/{guest_id}/consents"): {"404", "409", "422"},
    ("get", "/api/v1/guests/me/export"): {"404"},
    ("post", "/api/v1/guests/me/erasure"): {"404", "422"},
    ("get", "/api/v1/guests/{guest_id}/export"): {"404", "422"},
    ("post", "/api/v1/guests/{guest_id}/erasure"): {"404", "409", "422"},
    # feedback
    ("get", "/api/v1/surveys/results"): {"422"},
    ("get", "/api/v1/surveys/follow-ups"): {"400", "422"},
    ("post", "/api/v1/surveys/follow-ups/{follow_up_id}/calls"): {"404", "409", "422"},
    ("get", "/api/v1/surveys/{token}"): {"404", "409", "410", "422"},
    ("post", "/api/v1/surveys/{token}/response"): {"404", "409", "410", "422"},
    ("post", "/api/v1/complaints"): {"404", "422"},
    ("get", "/api/v1/complaints"): {"400", "422"},
    ("get", "/api/v1/complaints/me"): set(),
    ("get", "/api/v1/complaints/{complaint_id}"): {"404"},
    ("post", "/api/v1/complaints/{complaint_id}/transitions"): {"404", "409", "422"},
    ("put", "/api/v1/complaints/{complaint_id}/waiting-on-guest"): {"404", "409", "422"},
    ("get", "/api/v1/guests/{guest_id}/history"): {"404", "422"},
    ("get", "/api/v1/segments"): {"400", "422"},
    ("post", "/api/v1/segments"): {"409", "422"},
    ("get", "/api/v1/segments/{segment_id}"): {"404", "422"},
    ("patch", "/api/v1/segments/{segment_id}"): {"404", "409", "422"},
    ("delete", "/api/v1/segments/{segment_id}"): {"404", "422"},
    ("get", "/api/v1/segments/{segment_id}/members"): {"400", "404", "422"},
    # loyalty
    ("get", "/api/v1/loyalty/rewards"): set(),
    ("get", "/api/v1/loyalty/members"): {"400", "422"},
    ("post", "/api/v1/loyalty/members"): {"404", "409", "422"},
    ("get", "/api/v1/loyalty/members/me"): {"404"},
    ("post", "/api/v1/loyalty/members/me"): {"404", "409", "422"},
    ("get", "/api/v1/loyalty/members/me/statement"): {"400", "404", "422"},
    ("post", "/api/v1/loyalty/members/me/redemptions"): {"404", "409", "422"},
    ("get", "/api/v1/loyalty/members/{member_number}"): {"404", "422"},
    ("get", "/api/v1/loyalty/members/{member_number}/statement"): {"400", "404", "422"},
    ("get", "/api/v1/loyalty/members/{member_number}/redemptions"): {"400", "404", "422"},
    ("post", "/api/v1/loyalty/members/{member_number}/redemptions"): {"404", "409", "422"},
}
# Operations anyone may call, anonymous too (a survey link's token is its key): no 401 or 403.
OPEN = {
    ("get", "/api/v1/surveys/{token}"),
    ("post", "/api/v1/surveys/{token}/response"),
    ("get", "/api/v1/loyalty/rewards"),
}


async def document(service: GuestService) -> dict[str, Any]:
    response = await service.client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_every_operation_is_documented(service: GuestService) -> None:
    paths = (await document(service))["paths"]
    found = {
        (method, path): op
        for path, item in paths.items()
        if path.startswith("/api/")
        for method, op in item.items()
    }
    assert set(found) == set(EXPECTED)
    for (method, path), op in found.items():
        where = f"{method} {path}"
        assert op.get("summary") and op.get("description"), where
        refusals = set() if (method, path) in OPEN else {"401", "403"}
        for status in refusals | EXPECTED[(method, path)]:
            assert "application/problem+json" in op["responses"][status]["content"], (where, status)
        success = next(s for s in op["responses"] if s.startswith("2"))
        if success != "204":  # no content, nothing to exemplify
            assert op["responses"][success]["content"]["application/json"].get("example"), where
        for parameter in op.get("parameters", []):
            if parameter["in"] == "query":
                assert "Takes one value" in parameter.get("description", ""), (where, parameter)


async def test_a_repeated_filter_and_a_bad_cursor_are_refused(service: GuestService) -> None:
    twice = await service.client.get("/api/v1/guests", params=[("name", "a"), ("name", "b")])
    assert twice.status_code == 422
    cursor = await service.client.get("/api/v1/guests", params={"cursor": "bm9wZQ"})
    assert cursor.status_code == 400 and cursor.json()["code"] == "invalid_cursor"
