"""Input bounds through the gateway, on both run modes (issue 13, point 14): control characters
in a body, a path or a query, and a pickup not tied to the stay, are 422 problem+json from every
service, and nothing is written."""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from harness import Platform

SHANGHAI = ZoneInfo("Asia/Shanghai")


def booking(**changes: Any) -> dict[str, Any]:
    check_in = date.today() + timedelta(days=40)
    body: dict[str, Any] = {
        "guest": {"name": "Li Lei", "email": "bounds@example.com", "language": "en"},
        "room_type_code": "KNG",
        "check_in": check_in.isoformat(),
        "check_out": (check_in + timedelta(days=2)).isoformat(),
        "guests": 1,
        "transfer": {
            "arrival_time": datetime.combine(check_in, time(10, 30), SHANGHAI).isoformat(),
            "pickup_place": "Pudong Airport T1",
        },
    }
    return body | changes


async def test_control_characters_and_unbound_pickups_are_422_everywhere(
    platform: Platform,
) -> None:
    client = platform.client
    early = datetime.combine(date.today() + timedelta(days=20), time(10, 30), SHANGHAI)
    refused = {
        "NUL in the name": booking(guest={"name": "A\u0000B", "email": "bounds@example.com"}),
        "CSI in the name": booking(guest={"name": "A\u009bB", "email": "bounds@example.com"}),
        "arrival 20 days early": booking(
            transfer={"arrival_time": early.isoformat(), "pickup_place": "PVG"}
        ),
    }
    for case, body in refused.items():
        r = await client.post("/api/v1/reservations", json=body)
        assert r.status_code == 422, (case, r.text)
        assert r.headers["content-type"] == "application/problem+json", case
    for target in [
        "/api/v1/reservations?email=a%00b@example.com",
        "/api/v1/reservations/x%00y",
        "/api/v1/guests?name=A%00",
        "/api/v1/transfers?reservation_id=r%00",
        "/api/v1/notifications?reservation_id=r%00",
    ]:
        r = await client.get(target)
        assert r.status_code == 422, (target, r.text)
        assert r.headers["content-type"] == "application/problem+json", target
        assert r.json()["errors"][0]["type"] == "control_characters", target
    found = await client.get("/api/v1/reservations", params={"email": "bounds@example.com"})
    assert found.status_code == 200 and found.json()["items"] == []
