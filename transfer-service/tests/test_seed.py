"""The demo fleet and places appear on start-up with seed_demo and are not doubled by a
restart; the drivers' standing shifts cover every hour of the day."""

from collections import Counter
from datetime import date, time


def _hours(driver: dict) -> set[int]:
    start = time.fromisoformat(driver["shift_start"]).hour
    end = time.fromisoformat(driver["shift_end"]).hour
    length = (end - start) % 24
    return {(start + h) % 24 for h in range(length)}


async def test_demo_fleet_is_seeded_once(tmp_path, serve_transfers) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/transfer.db"
    for _ in range(2):
        async with serve_transfers(url, seed_demo=True) as service:
            vehicles = (await service.client.get("/api/v1/vehicles")).json()["items"]
            drivers = (await service.client.get("/api/v1/drivers")).json()["items"]
            places = (await service.client.get("/api/v1/places")).json()["items"]
            times = (await service.client.get("/api/v1/travel-times")).json()["items"]

    assert Counter(v["vehicle_class"] for v in vehicles) == {
        "sedan": 2,
        "business": 1,
        "van": 1,
        "minibus": 1,
    }
    assert all(v["plate"].startswith("沪") for v in vehicles)
    assert any(v["wheelchair_accessible"] for v in vehicles)
    assert sum(v["child_seats"] for v in vehicles) >= 4
    assert all(date.fromisoformat(v["next_service_date"]) > date.today() for v in vehicles)
    assert len(drivers) == 6
    assert all(d["status"] == "active" and d["phone"].startswith("+86") for d in drivers)
    assert all(
        date.fromisoformat(d["licence_expires_on"]).year >= date.today().year + 4 for d in drivers
    )
    on = Counter(hour for d in drivers for hour in _hours(d))
    assert all(on[hour] >= 2 for hour in range(24)), on
    assert all(on[hour] >= 3 for hour in range(12, 17)), on
    assert {p["code"] for p in places} == {"PVG", "SHA", "SHHQ", "HARBOUR"}
    assert len(times) == 6
