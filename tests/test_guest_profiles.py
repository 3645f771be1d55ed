"""Guest profiles through the gateway, on both run modes: the front desk records a guest with
her ID document and a second email; marketing sees her masked; the full document is read by
the front desk only and every read is on the manager's audit; the guest, signed in, changes
what she likes; bad input is a problem and writes nothing."""

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from gateway.identity.testing import bearer, guest_token, staff_token
from harness import Platform


def as_staff(platform: Platform, role: str, user_id: str) -> dict[str, str]:
    return bearer(staff_token(platform.gateway_settings, [role], user_id=user_id))


async def call(
    platform: Platform, method: str, path: str, headers: dict[str, str], **kwargs: Any
) -> httpx.Response:
    return await platform.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)


def _words(body: Any) -> list[str]:
    """Every value of a profile but its ids and timestamps: a random uuid or a timestamp's
    microseconds hold four given digits in about one response of three hundred."""
    if isinstance(body, dict):
        return [
            word
            for key, value in body.items()
            if key != "id" and not key.endswith(("_id", "_at"))
            for word in _words(value)
        ]
    if isinstance(body, list):
        return [word for value in body for word in _words(value)]
    return [str(body)]


async def test_a_profile_is_recorded_protected_and_audited(platform: Platform) -> None:
    run = uuid.uuid4().hex[:8]
    email = f"wang.fang.{run}@example.cn"
    desk = as_staff(platform, "front_desk", "desk-1")
    marketing = as_staff(platform, "marketing", "mkt-1")
    manager = as_staff(platform, "manager", "gm-1")
    expiry = (date.today() + timedelta(days=900)).isoformat()

    future = (date.today() + timedelta(days=30)).isoformat()
    refused = await call(
        platform,
        "POST",
        "/guests",
        desk,
        json={"name": "Wang Fang", "email": email, "birth_date": future},
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await call(platform, "GET", "/guests", desk, params={"email": email})).json()[
        "items"
    ] == []

    created = await call(
        platform,
        "POST",
        "/guests",
        desk,
        json={
            "name": "Wang Fang",
            "native_name": "王芳",
            "email": email,
            "birth_date": "1988-03-14",
            "nationality": "CN",
            "document_type": "passport",
            "document_number": "E 2345 6789",
            "document_expiry": expiry,
            "preferences": {"floor": "high"},
        },
    )
    assert created.status_code == 201, created.text
    gid = created.json()["id"]
    work = await call(
        platform,
        "POST",
        f"/guests/{gid}/contacts",
        desk,
        json={"kind": "email", "value": f"fang.{run}@work.example.cn"},
    )
    assert work.status_code == 201, work.text

    seen = await call(platform, "GET", f"/guests/{gid}", marketing)
    assert seen.status_code == 200
    said = " ".join(_words(seen.json()))
    assert email not in said and "6789" not in said and "1988" not in said
    assert (seen.json()["native_name"], seen.json()["preferences"]) == ("王芳", {"floor": "high"})

    document = await call(platform, "GET", f"/guests/{gid}/document", desk)
    assert document.status_code == 200 and document.json()["document_number"] == "E23456789"
    for role in ("reservations", "marketing"):
        other = as_staff(platform, role, f"{role}-1")
        assert (await call(platform, "GET", f"/guests/{gid}/document", other)).status_code == 403
    audit = await call(platform, "GET", "/guests/pii-reads", manager, params={"guest_id": gid})
    assert [(r["reader"], r["field"]) for r in audit.json()["items"]] == [
        ("staff:desk-1", "document")
    ]

    guest = bearer(guest_token(platform.gateway_settings, email=email))
    changed = await call(
        platform, "PATCH", "/guests/me", guest, json={"preferences": {"pillow": "soft"}}
    )
    assert changed.status_code == 200, changed.text
    hers = await call(platform, "GET", "/guests/me", guest)
    assert hers.json()["id"] == gid and hers.json()["preferences"] == {"pillow": "soft"}
    not_hers = await call(platform, "PATCH", "/guests/me", guest, json={"vip_level": 5})
    assert not_hers.status_code == 422
    assert (await call(platform, "GET", f"/guests/{gid}", desk)).json()["vip_level"] == 0
