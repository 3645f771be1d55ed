"""Adversarial erasure (issue 19 review): after a guest is erased, no database of the platform
- the gateway's included - holds their email, their phone as they typed it or in E.164, or
their name, on both run modes. The guest booked with a transfer, is a loyalty member, filed a
complaint, and was exported first."""

from typing import Any

from harness import Platform
from hotel_common.testing import columns_holding, eventually, stable_digits
from test_guest_rights import booking, notices_held


async def test_an_erased_guest_leaves_no_name_or_contact_in_any_database(
    platform: Platform,
) -> None:
    client = platform.client
    email = f"qiu.shuang.{platform.mode}@example.cn"
    digits = stable_digits(email, 8)
    phone, e164 = f"+86 136 {digits}", f"+86136{digits}"
    body: dict[str, Any] = booking(email, phone)
    body["guest"]["name"] = "Qiu Shuangxi"
    body["special_requests"] = "A quiet room please"
    body["transfer"]["sign_name"] = "QIU SHUANGXI"
    created = await client.post(
        "/api/v1/reservations", json=body, headers={"Idempotency-Key": f"adv-{email}"}
    )
    assert created.status_code == 201, created.text
    reservation = created.json()
    confirmed = await client.post(f"/api/v1/reservations/{reservation['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    profiles = await eventually(
        lambda: client.get("/api/v1/guests", params={"email": email}),
        lambda r: r.status_code == 200 and len(r.json()["items"]) == 1,
    )
    guest_id = profiles.json()["items"][0]["id"]
    enrolled = await client.post(
        "/api/v1/loyalty/members",
        json={"guest_id": guest_id, "waive_minimum": True},
        headers={"Idempotency-Key": f"adv-enrol-{email}"},
    )
    assert enrolled.status_code == 201, enrolled.text
    filed = await client.post(
        "/api/v1/complaints",
        json={
            "guest_id": guest_id,
            "channel": "phone",
            "category": "room",
            "subject": "Qiu Shuangxi found the room noisy",
        },
        headers={"Idempotency-Key": f"adv-complaint-{email}"},
    )
    assert filed.status_code == 201, filed.text
    prefs = await client.put(
        f"/api/v1/guests/{guest_id}/contact-preferences",
        json={"channels": ["email"], "language": "en"},
    )
    assert prefs.status_code == 200, prefs.text
    await notices_held(client, reservation["id"])
    exported = await client.get(f"/api/v1/guests/{guest_id}/export")
    assert exported.status_code == 200, exported.text

    erased = await client.post(f"/api/v1/guests/{guest_id}/erasure", json={"confirm": True})
    assert erased.status_code == 200, erased.text

    databases = {
        name: app.state.settings.database_url for name, app in platform.service_apps.items()
    }
    databases["gateway"] = platform.gateway_settings.database_url

    async def copies() -> dict[str, list[str]]:
        found = {
            name: await columns_holding(url, email, e164, phone, "Qiu Shuangxi", "QIU SHUANGXI")
            for name, url in databases.items()
        }
        return {name: columns for name, columns in found.items() if columns}

    assert await eventually(copies, until=lambda found: not found, timeout=30) == {}
