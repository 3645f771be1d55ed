"""The OpenAPI document is the contract an integrator reads: every operation has a summary, a
description, its refusals and errors, and an example answer; sign-in codes are not a listed
kind; a query parameter that takes one value says so (and a second value is a 422)."""

from typing import Any

from .conftest import StartService

# Error statuses each operation documents besides 401, 403 and 422.
EXPECTED = {
    ("get", "/api/v1/notifications"): {"400"},
    ("get", "/api/v1/notifications/{notification_id}"): {"404"},
    ("post", "/api/v1/notifications/retry"): set(),
    ("post", "/api/v1/notifications/{notification_id}/retry"): {"404", "409"},
    # Issue 20: the in-app inbox.
    ("get", "/api/v1/inbox/messages"): {"400"},
    ("post", "/api/v1/inbox/messages/read-all"): set(),
    ("post", "/api/v1/inbox/messages/{message_id}/read"): {"404"},
    ("put", "/api/v1/inbox/devices/{token}"): set(),
    ("delete", "/api/v1/inbox/devices/{token}"): {"404"},
    ("put", "/api/v1/inbox/settings"): set(),
    ("get", "/api/v1/notification-templates"): set(),
    ("post", "/api/v1/notification-templates/preview"): set(),
    ("get", "/api/v1/notification-templates/{kind}/{channel}/{language}"): {"404"},
    ("put", "/api/v1/notification-templates/{kind}/{channel}/{language}"): {"404"},
    ("delete", "/api/v1/notification-templates/{kind}/{channel}/{language}"): {"404"},
    ("post", "/api/v1/delivery-receipts/{provider}"): {"404"},
}


async def test_every_operation_is_documented(start_service: StartService) -> None:
    async with start_service() as svc:
        document: dict[str, Any] = (await svc.client.get("/openapi.json")).json()
        twice = await svc.client.get(
            "/api/v1/notifications", params=[("status", "sent"), ("status", "failed")]
        )
        hidden = await svc.client.get("/api/v1/notifications", params={"kind": "sign_in_code"})
    assert twice.status_code == 422
    assert hidden.status_code == 422  # not a kind the API lists
    found = {
        (method, path): op
        for path, item in document["paths"].items()
        if path.startswith("/api/")
        for method, op in item.items()
    }
    assert set(found) == set(EXPECTED)
    for (method, path), op in found.items():
        where = f"{method} {path}"
        assert op.get("summary") and op.get("description"), where
        # A delivery receipt is signed, not signed-in: never 403.
        signed_in = "delivery-receipts" not in path
        for status in {"401", "422"} | ({"403"} if signed_in else set()) | EXPECTED[(method, path)]:
            assert "application/problem+json" in op["responses"][status]["content"], (where, status)
        if "204" in op["responses"]:  # no content: nothing to show
            assert "200" not in op["responses"], where
            assert "content" not in op["responses"]["204"], where
        else:
            assert op["responses"]["200"]["content"]["application/json"].get("example"), where
        for parameter in op.get("parameters", []):
            if parameter["in"] == "query":
                assert "Takes one value" in parameter.get("description", ""), (where, parameter)
    kinds = document["components"]["schemas"]["ListedKind"]["enum"]
    assert "sign_in_code" not in kinds
