"""Partner API keys through the gateway's HTTP API: shown once, used as X-API-Key, rotated with
an overlap, revoked at once; the partner's channel and scopes reach the service signed."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from gateway.identity.testing import Gateway, gateway_on
from hotel_common.testing import assert_problem, eventually

DBS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)]


@pytest.fixture(params=DBS)
async def gw(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Gateway]:
    async with gateway_on(request.param, tmp_path) as gateway:
        yield gateway


async def new_partner(gw: Gateway, headers: dict[str, str], channel: str = "ota_a") -> str:
    partner = await gw.client.post(
        "/api/v1/partners", json={"name": "OTA", "channel": channel}, headers=headers
    )
    assert partner.status_code == 201, partner.text
    assert partner.json()["channel"] == channel
    partner_id: str = partner.json()["id"]
    return partner_id


async def test_a_key_is_shown_once_and_signs_the_partner_in(gw: Gateway) -> None:
    admin = await gw.admin_headers()
    partner_id = await new_partner(gw, admin)
    created = await gw.client.post(
        f"/api/v1/partners/{partner_id}/keys",
        json={"scopes": ["reservations:read", "reservations:write"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key.startswith("pk_") and len(key) > 40
    listed = await gw.client.get(f"/api/v1/partners/{partner_id}/keys", headers=admin)
    assert [k["id"] for k in listed.json()] == [created.json()["id"]]
    assert key not in listed.text
    me = await gw.client.get("/api/v1/me", headers={"X-API-Key": key})
    assert me.json() == {
        "id": f"partner:{partner_id}",
        "kind": "partner",
        "roles": [],
        "scopes": ["reservations:read", "reservations:write"],
        "channel": "ota_a",
        "properties": None,
    }
    # Proxied: the service gets the partner, its channel from the key, signed by the gateway.
    answer = await gw.client.get("/api/v1/reservations/r-9", headers={"X-API-Key": key})
    seen = answer.json()["as"]
    assert (seen["id"], seen["kind"], seen["channel"]) == (
        f"partner:{partner_id}",
        "partner",
        "ota_a",
    )


async def test_a_wrong_key_is_401_and_never_anonymous(gw: Gateway) -> None:
    answer = await gw.client.get("/api/v1/reservations/r-9", headers={"X-API-Key": "pk_guess"})
    assert_problem(answer, 401, "invalid_credentials")
    assert "www-authenticate" in answer.headers
    assert gw.reservations.seen == []


async def test_rotation_keeps_the_old_key_for_the_overlap_then_not(gw: Gateway) -> None:
    admin = await gw.admin_headers()
    partner_id = await new_partner(gw, admin)
    old = await gw.client.post(
        f"/api/v1/partners/{partner_id}/keys", json={"scopes": ["reservations:read"]}, headers=admin
    )
    rotated = await gw.client.post(
        f"/api/v1/partners/{partner_id}/keys/{old.json()['id']}/rotate",
        json={"overlap_seconds": 3600},
        headers=admin,
    )
    assert rotated.status_code == 201, rotated.text
    assert rotated.json()["scopes"] == ["reservations:read"]
    for key in (old.json()["key"], rotated.json()["key"]):
        me = await gw.client.get("/api/v1/me", headers={"X-API-Key": key})
        assert me.json()["id"] == f"partner:{partner_id}"  # one tenant, both keys
    keys = await gw.client.get(f"/api/v1/partners/{partner_id}/keys", headers=admin)
    expiring = {k["id"]: k["expires_at"] for k in keys.json()}
    assert expiring[old.json()["id"]] is not None and expiring[rotated.json()["id"]] is None
    # No overlap: the key the rotation replaces stops at once.
    again = await gw.client.post(
        f"/api/v1/partners/{partner_id}/keys/{rotated.json()['id']}/rotate",
        json={"overlap_seconds": 0},
        headers=admin,
    )
    assert_problem(
        await gw.client.get("/api/v1/me", headers={"X-API-Key": rotated.json()["key"]}),
        401,
        "invalid_credentials",
    )
    assert (await gw.client.get("/api/v1/me", headers={"X-API-Key": again.json()["key"]})).json()[
        "kind"
    ] == "partner"


async def test_a_revoked_key_is_refused_at_once(gw: Gateway) -> None:
    admin = await gw.admin_headers()
    partner_id = await new_partner(gw, admin)
    created = await gw.client.post(
        f"/api/v1/partners/{partner_id}/keys", json={"scopes": ["ari:write"]}, headers=admin
    )
    key = {"X-API-Key": created.json()["key"]}
    assert (await gw.client.get("/api/v1/me", headers=key)).status_code == 200
    revoked = await gw.client.delete(
        f"/api/v1/partners/{partner_id}/keys/{created.json()['id']}", headers=admin
    )
    assert revoked.status_code == 204
    assert_problem(await gw.client.get("/api/v1/me", headers=key), 401, "invalid_credentials")
    # Reloaded from the database (as another replica would): still refused.
    await gw.app.state.key_cache.load(gw.app.state.runtime.sessions)
    assert_problem(await gw.client.get("/api/v1/me", headers=key), 401, "invalid_credentials")
    actions = await gw.client.get("/api/v1/audit", headers=admin)
    assert [e["action"] for e in actions.json()["items"]][:3] == [
        "partner_key.revoke",
        "partner_key.create",
        "partner.create",
    ]


async def test_a_key_revoked_on_another_replica_stops_within_the_refresh(
    tmp_path: Path,
) -> None:
    """Two gateways on one database: a revocation on one reaches the other's cache."""
    async with (
        gateway_on("sqlite", tmp_path, key_cache_refresh_seconds=0.2) as one,
        gateway_on(
            "sqlite",
            tmp_path,
            key_cache_refresh_seconds=0.2,
            token_secret=one.settings.token_secret,
            # Polled every 20 ms: each 401 while the caches catch up draws on the strict
            # per-IP bucket, which a slow (shared) machine would empty before the 401 shows.
            rate_limit_auth=1000,
        ) as two,
    ):
        admin = await one.admin_headers()
        partner_id = await new_partner(one, admin)
        created = await one.client.post(
            f"/api/v1/partners/{partner_id}/keys",
            json={"scopes": ["reservations:read"]},
            headers=admin,
        )
        key = {"X-API-Key": created.json()["key"]}

        async def status() -> int:
            return (await two.client.get("/api/v1/me", headers=key)).status_code

        await eventually(status, lambda s: s == 200, timeout=5)
        await one.client.delete(
            f"/api/v1/partners/{partner_id}/keys/{created.json()['id']}", headers=admin
        )
        await eventually(status, lambda s: s == 401, timeout=5)


async def test_partner_routes_are_admin_only_and_strict(gw: Gateway) -> None:
    admin = await gw.admin_headers()
    partner_id = await new_partner(gw, admin)
    created = await gw.client.post(
        f"/api/v1/partners/{partner_id}/keys",
        json={"scopes": ["reservations:write"]},
        headers=admin,
    )
    key = {"X-API-Key": created.json()["key"]}
    assert_problem(
        await gw.client.post(
            f"/api/v1/partners/{partner_id}/keys", json={"scopes": ["ari:write"]}, headers=key
        ),
        403,
        "forbidden",
    )
    assert_problem(await gw.client.get("/api/v1/partners"), 401, "unauthenticated")
    unknown_scope = await gw.client.post(
        f"/api/v1/partners/{partner_id}/keys", json={"scopes": ["admin"]}, headers=admin
    )
    assert_problem(unknown_scope, 422, "validation_error")
    extra = await gw.client.post(
        "/api/v1/partners", json={"name": "X", "channel": "x_ota", "id": "beef"}, headers=admin
    )
    assert_problem(extra, 422, "validation_error")
    assert_problem(
        await gw.client.post(
            "/api/v1/partners/ffff/keys", json={"scopes": ["ari:write"]}, headers=admin
        ),
        404,
        "partner_not_found",
    )


async def test_a_retried_partner_creation_with_its_key_makes_one_partner(gw: Gateway) -> None:
    admin = await gw.admin_headers()
    retry = admin | {"Idempotency-Key": "new-ota-1"}
    body = {"name": "Retried OTA", "channel": "ota_retry"}
    first = await gw.client.post("/api/v1/partners", json=body, headers=retry)
    again = await gw.client.post("/api/v1/partners", json=body, headers=retry)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    listed = await gw.client.get("/api/v1/partners", headers=admin)
    assert [p["id"] for p in listed.json() if p["channel"] == "ota_retry"] == [first.json()["id"]]
    other = await gw.client.post("/api/v1/partners", json=body | {"name": "x"}, headers=retry)
    assert_problem(other, 422, "idempotency_key_reused")
