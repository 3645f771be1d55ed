"""The hotel's catalog through the API: the seeded demo hotel, room types and rooms."""

from collections import Counter

from hotel_common.testing import running
from reservation_service.config import Settings
from reservation_service.main import create_app

PROBLEM = "application/problem+json"


async def test_demo_hotel_is_seeded(hotel):
    properties = (await hotel.client.get("/api/v1/properties")).json()["items"]
    assert [(p["name"], p["timezone"], p["currency"]) for p in properties] == [
        ("Harbour View Hotel", "Asia/Shanghai", "CNY")
    ]
    assert (properties[0]["check_in_time"], properties[0]["check_out_time"]) == (
        "14:00:00",
        "12:00:00",
    )
    types = (await hotel.client.get("/api/v1/room-types")).json()["items"]
    assert [(t["code"], t["capacity"], t["base_amount"], t["currency"]) for t in types] == [
        ("STD", 2, 48800, "CNY"),
        ("KNG", 2, 52800, "CNY"),
        ("BUS", 2, 68800, "CNY"),
        ("DLX", 3, 88800, "CNY"),
        ("STE", 4, 168800, "CNY"),
    ]
    rooms = (await hotel.client.get("/api/v1/rooms", params={"limit": 200})).json()["items"]
    assert len(rooms) == 30
    assert {r["floor"] for r in rooms} == set(range(3, 13))
    assert set(Counter(r["room_type_code"] for r in rooms)) == {"STD", "KNG", "BUS", "DLX", "STE"}
    features = Counter(f for r in rooms for f in r["features"])
    assert features["non-smoking"] and features["accessible"] and features["sea-view"]


async def test_seeding_twice_changes_nothing(sqlite_url, broker):
    settings = Settings(database_url=sqlite_url, log_json=False, seed_demo=True)
    counts = []
    for _ in range(2):  # the second start-up seeds the same database again
        async with running(create_app(settings, broker=broker)) as client:
            counts.append(
                [
                    len((await client.get(path, params={"limit": 200})).json()["items"])
                    for path in ("/api/v1/properties", "/api/v1/room-types", "/api/v1/rooms")
                ]
            )
    assert counts == [[1, 5, 30], [1, 5, 30]]


async def test_room_types_and_rooms_are_added_and_filtered(hotel):
    created = await hotel.client.post(
        "/api/v1/room-types",
        json={
            "code": "fam",  # codes are upper-cased
            "name": "Family Room",
            "capacity": 4,
            "bed_type": "two queens",
            "base_amount": 99900,
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["code"] == "FAM" and created.json()["currency"] == "CNY"

    room = await hotel.client.post(
        "/api/v1/rooms",
        json={
            "number": "1205A",
            "floor": 12,
            "room_type_code": "FAM",
            "features": ["Sea-View", "sea-view", "family"],
            "housekeeping_status": "dirty",
        },
    )
    assert room.status_code == 201, room.text
    assert room.json()["features"] == ["sea-view", "family"]

    by_type = await hotel.client.get("/api/v1/rooms", params={"room_type_code": "fam"})
    assert [r["number"] for r in by_type.json()["items"]] == ["1205A"]
    dirty = await hotel.client.get("/api/v1/rooms", params={"status": "dirty"})
    assert [r["number"] for r in dirty.json()["items"]] == ["1205A"]


async def test_catalog_conflicts_and_bad_input_are_problems(hotel):
    same_code = await hotel.client.post(
        "/api/v1/room-types",
        json={"code": "STD", "name": "x", "capacity": 2, "bed_type": "twin", "base_amount": 1},
    )
    assert same_code.status_code == 409 and same_code.json()["code"] == "room_type_exists"

    same_number = await hotel.client.post(
        "/api/v1/rooms", json={"number": "301", "floor": 3, "room_type_code": "STD"}
    )
    assert same_number.status_code == 409 and same_number.json()["code"] == "room_number_taken"

    unknown_type = await hotel.client.post(
        "/api/v1/rooms", json={"number": "999", "floor": 9, "room_type_code": "NOPE"}
    )
    assert unknown_type.status_code == 422
    assert unknown_type.headers["content-type"] == PROBLEM
    assert unknown_type.json()["code"] == "unknown_room_type"
    assert unknown_type.json()["errors"][0]["field"] == "body.room_type_code"

    bad_status = await hotel.client.get("/api/v1/rooms", params={"status": "sparkling"})
    assert bad_status.status_code == 422
    assert bad_status.json()["errors"][0]["field"] == "query.status"

    rooms = (await hotel.client.get("/api/v1/rooms", params={"limit": 200})).json()["items"]
    assert len(rooms) == 30


async def test_rooms_page_with_a_cursor(hotel):
    numbers, params = [], {"limit": 7}
    while True:
        page = (await hotel.client.get("/api/v1/rooms", params=params)).json()
        assert len(page["items"]) <= 7
        numbers += [r["number"] for r in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert len(numbers) == len(set(numbers)) == 30

    bad = await hotel.client.get("/api/v1/rooms", params={"cursor": "not-ours!"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_cursor"
