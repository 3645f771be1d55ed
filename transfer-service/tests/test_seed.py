"""The demo fleet appears on start-up with seed_demo and is not doubled by a restart."""

from collections import Counter


async def test_demo_fleet_is_seeded_once(tmp_path, serve_transfers) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/transfer.db"
    for _ in range(2):
        async with serve_transfers(url, seed_demo=True) as service:
            vehicles = (await service.client.get("/api/v1/vehicles")).json()["items"]
            drivers = (await service.client.get("/api/v1/drivers")).json()["items"]

    assert Counter(v["vehicle_class"] for v in vehicles) == {
        "sedan": 2,
        "business": 1,
        "van": 1,
        "minibus": 1,
    }
    assert all(v["plate"].startswith("沪") for v in vehicles)
    assert len(drivers) == 4
    assert all(d["status"] == "active" and d["phone"].startswith("+86") for d in drivers)
