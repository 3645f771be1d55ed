"""The webhook operations in the OpenAPI document: summary, description, refusals and errors as
problem+json, an example answer."""

from pathlib import Path
from typing import Any

from .webhook_support import platform

BASE = "/api/v1/webhook-subscriptions"
ONE = BASE + "/{subscription_id}"
# Error statuses each operation documents besides 401 and 403 (422: every one with input).
EXPECTED = {
    ("post", BASE): {"409", "422"},
    ("get", BASE): set(),
    ("get", ONE): {"404", "422"},
    ("patch", ONE): {"404", "422"},
    ("delete", ONE): {"404", "422"},
    ("post", ONE + "/rotate-secret"): {"404", "422"},
    ("get", ONE + "/deliveries"): {"400", "404", "422"},
    ("post", ONE + "/redeliveries"): {"404", "409", "422"},
}


async def test_every_webhook_operation_is_documented(tmp_path: Path) -> None:
    async with platform(tmp_path) as p:
        document: dict[str, Any] = (await p.client.get("/openapi.json")).json()
    found = {
        (method, path): op
        for path, item in document["paths"].items()
        if path.startswith(BASE)
        for method, op in item.items()
    }
    assert set(found) == set(EXPECTED)
    for (method, path), op in found.items():
        where = f"{method} {path}"
        assert op.get("summary") and op.get("description"), where
        for status in {"401", "403"} | EXPECTED[(method, path)]:
            assert "application/problem+json" in op["responses"][status]["content"], (where, status)
        success = [s for s in op["responses"] if s.startswith("2")]
        assert len(success) == 1, (where, success)
        if success[0] == "204":
            assert "content" not in op["responses"]["204"], where
        else:
            example = op["responses"][success[0]]["content"]["application/json"].get("example")
            assert example, where
