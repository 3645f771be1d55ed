"""Staff sign-in through the gateway's HTTP API: the password flow, lockout, refresh-token
rotation and reuse, staff accounts (admin only), /me and the audit log."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from gateway.identity.testing import ADMIN_EMAIL, Gateway, bearer, gateway_on, staff_token
from hotel_common.testing import assert_problem

DBS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)]


@pytest.fixture(params=DBS)
async def gw(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Gateway]:
    async with gateway_on(request.param, tmp_path, lockout_failures=3) as gateway:
        yield gateway


async def test_the_password_flow_answers_tokens_that_sign_the_caller_in(gw: Gateway) -> None:
    tokens = await gw.login(ADMIN_EMAIL.upper(), "correct horse battery")
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    assert tokens["refresh_token"]
    me = await gw.client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["kind"] == "staff" and me.json()["roles"] == ["admin"]
    assert me.json()["properties"] is None


async def test_a_wrong_password_or_an_unknown_email_is_401(gw: Gateway) -> None:
    for email, password in [(ADMIN_EMAIL, "not the password"), ("nobody@example.com", "x")]:
        answer = await gw.client.post(
            "/api/v1/auth/token", data={"username": email, "password": password}
        )
        assert_problem(answer, 401, "invalid_credentials")
        assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_repeated_failures_lock_the_account_with_retry_after(gw: Gateway) -> None:
    for _ in range(3):  # lockout_failures=3 in this fixture
        await gw.login(ADMIN_EMAIL, "wrong password", status=401)
    answer = await gw.client.post(
        "/api/v1/auth/token", data={"username": ADMIN_EMAIL, "password": "correct horse battery"}
    )
    assert_problem(answer, 423, "account_locked")
    assert 800 < int(answer.headers["retry-after"]) <= 901
    # An admin resetting the password lifts the lock; the lockout is in the audit log.
    other = await gw.client.post(
        "/api/v1/staff-users",
        json={
            "email": "second@example.com",
            "name": "Second admin",
            "password": "another long password",
            "roles": ["admin"],
        },
        headers=bearer(staff_token(gw.settings)),
    )
    second = bearer((await gw.login("second@example.com", "another long password"))["access_token"])
    log = await gw.client.get("/api/v1/audit", params={"action": "login.lockout"}, headers=second)
    assert [e["actor"] for e in log.json()["items"]] == ["staff:1"]
    await gw.client.patch(
        "/api/v1/staff-users/1", json={"password": "a brand new password"}, headers=second
    )
    await gw.login(ADMIN_EMAIL, "a brand new password")
    assert other.status_code == 201


async def test_a_refresh_token_rotates_and_its_reuse_revokes_the_family(gw: Gateway) -> None:
    first = await gw.login(ADMIN_EMAIL, "correct horse battery")
    second = await gw.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200, second.text
    assert second.json()["refresh_token"] != first["refresh_token"]
    # The first one again: stolen. It and every descendant stop working.
    reused = await gw.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert_problem(reused, 401, "invalid_credentials")
    later = await gw.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second.json()["refresh_token"]}
    )
    assert_problem(later, 401, "invalid_credentials")
    headers = await gw.admin_headers()
    log = await gw.client.get(
        "/api/v1/audit", params={"action": "refresh_token.reuse"}, headers=headers
    )
    assert [e["outcome"] for e in log.json()["items"]] == ["refused"]


async def test_staff_accounts_are_admin_only_and_carry_roles_and_properties(gw: Gateway) -> None:
    headers = await gw.admin_headers()
    body = {
        "email": "Desk@Example.com",
        "name": "Front desk",
        "password": "a long enough password",
        "roles": ["front_desk"],
        "properties": [2, 1],
    }
    created = await gw.client.post("/api/v1/staff-users", json=body, headers=headers)
    assert created.status_code == 201, created.text
    user = created.json()
    assert user | {"id": 0} == {
        "id": 0,
        "email": "desk@example.com",
        "name": "Front desk",
        "roles": ["front_desk"],
        "properties": [1, 2],
        "driver_id": None,
        "active": True,
    }
    assert "password" not in created.text
    desk = await gw.login("desk@example.com", "a long enough password")
    desk_refresh = desk["refresh_token"]
    desk_headers = {"Authorization": f"Bearer {desk['access_token']}"}
    me = await gw.client.get("/api/v1/me", headers=desk_headers)
    assert (me.json()["id"], me.json()["properties"]) == (f"staff:{user['id']}", [1, 2])
    # A desk clerk is not an admin: no staff accounts, no audit log.
    assert_problem(
        await gw.client.post("/api/v1/staff-users", json=body, headers=desk_headers),
        403,
        "forbidden",
    )
    assert_problem(await gw.client.get("/api/v1/audit", headers=desk_headers), 403, "forbidden")
    assert_problem(await gw.client.get("/api/v1/audit"), 401, "unauthenticated")
    # Twice the same email: 409.
    assert_problem(
        await gw.client.post("/api/v1/staff-users", json=body, headers=headers), 409, "email_taken"
    )
    # Deactivated: no more sign-in.
    changed = await gw.client.patch(
        f"/api/v1/staff-users/{user['id']}",
        json={"active": False, "roles": ["manager"]},
        headers=headers,
    )
    assert (changed.json()["active"], changed.json()["roles"]) == (False, ["manager"])
    await gw.login("desk@example.com", "a long enough password", status=401)
    refreshed = await gw.client.post("/api/v1/auth/refresh", json={"refresh_token": desk_refresh})
    assert_problem(refreshed, 401, "invalid_credentials")
    listed = await gw.client.get("/api/v1/staff-users", headers=headers)
    assert [u["email"] for u in listed.json()["items"]] == [ADMIN_EMAIL, "desk@example.com"]


async def test_unknown_fields_are_refused_not_ignored(gw: Gateway) -> None:
    headers = await gw.admin_headers()
    body = {
        "email": "sneaky@example.com",
        "name": "Sneaky",
        "password": "a long enough password",
        "roles": ["front_desk"],
        "active": True,
        "failed_logins": 0,
    }
    answer = await gw.client.post("/api/v1/staff-users", json=body, headers=headers)
    problem = assert_problem(answer, 422, "validation_error")
    assert {e["field"] for e in problem["errors"]} == {"body.active", "body.failed_logins"}
    patch = await gw.client.patch(
        "/api/v1/staff-users/1", json={"password_hash": "x"}, headers=headers
    )
    assert_problem(patch, 422, "validation_error")
    unknown_query = await gw.client.get("/api/v1/staff-users?role=admin", headers=headers)
    assert_problem(unknown_query, 422, "validation_error")


async def test_the_audit_log_records_sign_ins_failures_and_role_changes(gw: Gateway) -> None:
    await gw.login(ADMIN_EMAIL, "wrong password", status=401)
    headers = await gw.admin_headers()
    created = await gw.client.post(
        "/api/v1/staff-users",
        json={
            "email": "d@example.com",
            "name": "D",
            "password": "a long enough password",
            "roles": ["driver"],
            "driver_id": 7,
        },
        headers=headers,
    )
    user_id = created.json()["id"]
    await gw.client.patch(
        f"/api/v1/staff-users/{user_id}", json={"roles": ["dispatcher"]}, headers=headers
    )
    page = await gw.client.get("/api/v1/audit", params={"limit": 3}, headers=headers)
    entries = page.json()["items"]
    assert [(e["action"], e["outcome"]) for e in entries] == [
        ("staff.update", "success"),
        ("staff.create", "success"),
        ("login", "success"),
    ]
    assert entries[0]["target"] == f"staff:{user_id}" and "dispatcher" in entries[0]["detail"]
    assert entries[0]["actor"] == entries[2]["actor"] and entries[0]["actor_kind"] == "staff"
    more = await gw.client.get(
        "/api/v1/audit",
        params={"limit": 3, "cursor": page.json()["next_cursor"]},
        headers=headers,
    )
    failure = more.json()["items"][0]
    assert (failure["action"], failure["actor"], failure["outcome"]) == (
        "login",
        ADMIN_EMAIL,
        "failure",
    )
    assert failure["ip"] == "127.0.0.1"
    only_failures = await gw.client.get(
        "/api/v1/audit", params={"actor": ADMIN_EMAIL}, headers=headers
    )
    assert [e["outcome"] for e in only_failures.json()["items"]] == ["failure"]
