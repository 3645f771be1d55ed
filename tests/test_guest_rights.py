"""The guest's rights through the gateway, on both run modes: a guest who booked (with a
transfer and the notices it brings) gives consent, a manager exports their data, then erases
them. Afterwards no column of any service's database holds the guest's email or phone, while
the booking keeps its amounts.

Every service takes part: guest-service anonymises the profile (its profile part) and
publishes `guest.erased`; reservation-service, transfer-service and notification-service
purge their copies (notification-service's purge is its own part of issue 19)."""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from harness import Platform
from hotel_common.testing import columns_holding, eventually, stable_digits

SHANGHAI = ZoneInfo("Asia/Shanghai")


def booking(email: str, phone: str) -> dict[str, Any]:
    check_in = date.today() + timedelta(days=15)
    arrival = datetime.combine(check_in, time(9, 45), SHANGHAI)
    return {
        "guest": {"name": "Han Meimei", "email": email, "phone": phone, "language": "en"},
        "room_type_code": "KNG",
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=2)).isoformat(),
        "guests": 1,
        "special_requests": "Han Meimei prefers a quiet room",
        "transfer": {
            "flight_number": "MU5101",
            "arrival_time": arrival.isoformat(),
            "pickup_place": "Shanghai Pudong International Airport T1",
            "passengers": 1,
            "luggage": 1,
            "sign_name": "HAN MEIMEI",
        },
    }


async def notices_held(client: Any, reservation_id: str) -> None:
    """Wait until notification-service holds the booking's confirmation, so that "no copy
    afterwards" is its erasure's doing, not a notice that had not arrived yet."""
    await eventually(
        lambda: client.get("/api/v1/notifications", params={"reservation_id": reservation_id}),
        lambda r: (
            r.status_code == 200
            and "reservation_confirmed" in {n["kind"] for n in r.json()["items"]}
        ),
    )


async def test_an_erased_guest_leaves_no_copy_in_any_service_and_amounts_stay(
    platform: Platform,
) -> None:
    client = platform.client
    email = f"han.meimei.{platform.mode}@example.cn"
    digits = stable_digits(email, 8)
    phone, e164 = f"+86 137 {digits}", f"+86137{digits}"

    created = await client.post(
        "/api/v1/reservations",
        json=booking(email, phone),
        headers={"Idempotency-Key": f"rights-{email}"},
    )
    assert created.status_code == 201, created.text
    reservation = created.json()
    confirmed = await client.post(f"/api/v1/reservations/{reservation['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    await eventually(
        lambda: client.get("/api/v1/transfers", params={"reservation_id": reservation["id"]}),
        lambda r: r.status_code == 200 and len(r.json()["items"]) == 1,
    )
    profiles = await eventually(
        lambda: client.get("/api/v1/guests", params={"email": email}),
        lambda r: r.status_code == 200 and len(r.json()["items"]) == 1,
    )
    guest_id = profiles.json()["items"][0]["id"]
    await notices_held(client, reservation["id"])

    said = await client.post(
        f"/api/v1/guests/{guest_id}/consents",
        json={"channel": "email", "purpose": "marketing", "granted": True, "source": "booking"},
    )
    assert said.status_code == 201, said.text
    exported = await client.get(f"/api/v1/guests/{guest_id}/export")
    assert exported.status_code == 200, exported.text
    assert exported.json()["parts"]["privacy"]["consents"][0]["purpose"] == "marketing"

    erased = await client.post(f"/api/v1/guests/{guest_id}/erasure", json={"confirm": True})
    assert erased.status_code == 200, erased.text
    assert erased.json()["reservation_ids"] == [reservation["id"]]
    again = await client.post(f"/api/v1/guests/{guest_id}/erasure", json={"confirm": True})
    assert again.status_code == 409, again.text

    databases = {
        name: app.state.settings.database_url for name, app in platform.service_apps.items()
    }

    async def copies() -> dict[str, list[str]]:
        found = {name: await columns_holding(url, email, e164) for name, url in databases.items()}
        return {name: columns for name, columns in found.items() if columns}

    assert await eventually(copies, until=lambda found: not found, timeout=30) == {}

    kept = await client.get(f"/api/v1/reservations/{reservation['id']}")
    assert kept.status_code == 200, kept.text
    assert kept.json()["guest"]["name"] == "Erased guest"
    assert kept.json()["total_amount"] == reservation["total_amount"]
    assert kept.json()["nightly_amounts"] == reservation["nightly_amounts"]
