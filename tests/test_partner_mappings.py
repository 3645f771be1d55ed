"""Issue 21 through the gateway: an admin maps a partner's codes at the hotel; the partner's key
books with its own codes, reads its own mapping, and is told which code it has not mapped."""

import uuid

import httpx
from harness import Platform, tonight
from hotel_common.testing import assert_problem

API = "/api/v1"


async def test_a_partner_key_books_with_its_own_codes_through_the_gateway(embedded: Platform):
    gw = embedded.client  # signed in as the bootstrap admin
    partner = await gw.post(f"{API}/partners", json={"name": "Mapped OTA", "channel": "mapped"})
    assert partner.status_code == 201, partner.text
    partner_id = partner.json()["id"]
    key = await gw.post(
        f"{API}/partners/{partner_id}/keys",
        json={"scopes": ["reservations:read", "reservations:write"]},
    )
    assert key.status_code == 201, key.text
    partner_gw = httpx.AsyncClient(
        transport=gw._transport,  # the same gateway, without the admin's Authorization
        base_url=gw.base_url,
        headers={"X-API-Key": key.json()["key"]},
    )
    async with partner_gw:
        await _journey(gw, partner_gw, partner_id)


async def _journey(gw: httpx.AsyncClient, partner_gw: httpx.AsyncClient, partner_id: str) -> None:

    put = await gw.put(
        f"{API}/partner-mappings/{partner_id}/properties/1",
        json={"room_types": {"DBL-SEA": "KNG"}, "rate_plans": {"RO": "BASE"}},
    )
    assert put.status_code == 200, put.text

    check_in, check_out = tonight()
    body = {
        "guest": {"name": "Ana Lima", "email": f"ana-{uuid.uuid4().hex[:6]}@example.com"},
        "room_type_code": "DBL-SEA",
        "rate_plan_code": "RO",
        "check_in": check_in,
        "check_out": check_out,
        "guests": 1,
    }
    made = await partner_gw.post(f"{API}/reservations", json=body)
    assert made.status_code == 201, made.text
    assert (made.json()["room_type_code"], made.json()["channel"]) == ("KNG", "mapped")

    refused = await partner_gw.post(
        f"{API}/reservations", json=body | {"room_type_code": "DBL-GDN"}
    )
    problem = assert_problem(refused, 422, "unmapped_code")
    assert "DBL-GDN" in problem["detail"]

    own = await partner_gw.get(f"{API}/partner-mappings")
    assert own.status_code == 200, own.text
    assert [(m["partner_id"], m["room_types"]) for m in own.json()["items"]] == [
        (str(partner_id), {"DBL-SEA": "KNG"})
    ]
    # The key changes nothing: mappings are the hotel's to set.
    denied = await partner_gw.delete(f"{API}/partner-mappings/{partner_id}/properties/1")
    assert_problem(denied, 403, "forbidden")
