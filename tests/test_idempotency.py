"""Idempotency-Key through the gateway, on both run modes: a burst of retries of one booking
makes one booking and one answer, a retry right after the answer is a replay, and retried
confirms announce the booking once (one pickup). Every POST of the merged OpenAPI document
declares the header."""

import asyncio
import uuid

from harness import Platform
from hotel_common.testing import eventually
from test_journey import booking


async def test_thirty_creates_with_one_key_make_one_booking_and_one_answer(
    platform: Platform,
) -> None:
    client = platform.client
    email = f"burst.{uuid.uuid4().hex[:8]}@example.cn"
    body, key = booking(email), {"Idempotency-Key": f"ota-{uuid.uuid4()}"}
    answers = await asyncio.gather(
        *(client.post("/api/v1/reservations", json=body, headers=key) for _ in range(30))
    )
    assert [r.status_code for r in answers] == [201] * 30, [r.text for r in answers]
    first = answers[0].json()
    assert all(r.json() == first for r in answers)
    assert sum("idempotent-replayed" in r.headers for r in answers) == 29
    assert len({r.headers["location"] for r in answers}) == 1

    # A client that got its answer and sends the request again at once gets it again.
    again = await client.post("/api/v1/reservations", json=body, headers=key)
    assert (again.status_code, again.json()) == (201, first)
    assert again.headers["idempotent-replayed"] == "true"
    found = await client.get("/api/v1/reservations", params={"email": email})
    assert [r["id"] for r in found.json()["items"]] == [first["id"]]

    # Retried confirms: the booking is announced once, so it gets one pickup.
    confirm = {"Idempotency-Key": f"confirm-{first['id']}"}
    confirms = await asyncio.gather(
        *(
            client.post(f"/api/v1/reservations/{first['id']}/confirm", headers=confirm)
            for _ in range(10)
        )
    )
    assert {r.status_code for r in confirms} == {200}, [r.text for r in confirms]
    assert len({r.text for r in confirms}) == 1
    transfers = await eventually(
        lambda: client.get("/api/v1/transfers", params={"reservation_id": first["id"]}),
        lambda r: r.status_code == 200 and len(r.json()["items"]) >= 1,
        timeout=20,
    )
    assert len(transfers.json()["items"]) == 1


# The gateway's own POSTs that take no key: a retried sign-in is a new sign-in; a key's
# creation answers with the key, never stored to be replayed (gateway/identity/idempotent.py).
WITHOUT_KEY = ("/api/v1/auth/", "/api/v1/partners/{partner_id}/keys")


async def test_the_merged_document_declares_the_key_on_every_post(platform: Platform) -> None:
    doc = (await platform.client.get("/openapi.json")).json()
    posts = {
        path: item["post"]
        for path, item in doc["paths"].items()
        if "post" in item and not path.startswith(WITHOUT_KEY)
    }
    assert {"/api/v1/reservations", "/api/v1/guests", "/api/v1/partners"} <= set(posts)
    for path, op in posts.items():
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "header"]
        assert "Idempotency-Key" in names, path
        assert "request_in_progress" in op["responses"]["409"]["description"], path
        assert "idempotency_key_reused" in op["responses"]["422"]["description"], path
        assert op["responses"]["503"]["description"].startswith("database_unavailable"), path
        for status, response in op["responses"].items():
            if status.startswith("2"):
                assert "Idempotent-Replayed" in response["headers"], (path, status)
