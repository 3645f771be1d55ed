"""Vehicles and drivers over HTTP: registered with checked input, listed with paging."""

from datetime import date, timedelta

import pytest

GOOD_VEHICLE = {
    "plate": "沪A·D1234",
    "description": "Toyota Alphard (black)",
    "vehicle_class": "business",
    "seats": 6,
    "luggage_capacity": 5,
}
GOOD_DRIVER = {
    "name": "Wang Wei",
    "phone": "+86 138-0013-8000",
    "licence_number": "SH-DL-1",
    "licence_expires_on": (date.today() + timedelta(days=700)).isoformat(),
}


async def test_vehicle_is_registered_and_listed(service) -> None:
    response = await service.client.post(
        "/api/v1/vehicles", json={**GOOD_VEHICLE, "plate": " 沪a·d1234 "}
    )

    assert response.status_code == 201
    created = response.json()
    assert created["plate"] == "沪A·D1234"
    assert created["status"] == "available"
    listed = (await service.client.get("/api/v1/vehicles")).json()
    assert listed == {"items": [created], "next_cursor": None}


async def test_driver_is_registered_with_normalised_phone(service) -> None:
    response = await service.client.post(
        "/api/v1/drivers", json={**GOOD_DRIVER, "languages": ["en", "zh-Hans", "en"]}
    )

    assert response.status_code == 201
    driver = response.json()
    assert driver["phone"] == "+8613800138000"
    assert driver["languages"] == ["en", "zh-Hans"]
    assert driver["status"] == "active"
    assert (await service.client.get("/api/v1/drivers")).json()["items"] == [driver]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"seats": 0}, "body.seats"),
        ({"seats": 61}, "body.seats"),
        ({"plate": "   "}, "body.plate"),
        ({"plate": "沪A·D1234-TOO-LONG-PLATE"}, "body.plate"),
        ({"vehicle_class": "limousine"}, "body.vehicle_class"),
        ({"luggage_capacity": -1}, "body.luggage_capacity"),
        ({"status": "on_fire"}, "body.status"),
        ({"description": None}, "body.description"),
        ({"colour": "black"}, "body.colour"),  # unknown fields are refused, never dropped
    ],
)
async def test_bad_vehicle_is_refused_and_nothing_written(service, change, field) -> None:
    response = await service.client.post("/api/v1/vehicles", json={**GOOD_VEHICLE, **change})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert field in [e["field"] for e in problem["errors"]]
    assert (await service.client.get("/api/v1/vehicles")).json()["items"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "call me"}, "body.phone"),
        ({"phone": "+86 12"}, "body.phone"),
        ({"phone": 8613800138000}, "body.phone"),
        ({"phone": "138 0013 8000"}, "body.phone"),  # no international prefix
        ({"phone": "+86 138 0013 8000 1234"}, "body.phone"),  # 17 digits
        ({"name": ""}, "body.name"),
        ({"licence_number": " "}, "body.licence_number"),
        ({"languages": []}, "body.languages"),
        ({"languages": ["french!"]}, "body.languages.0"),
        ({"status": "retired"}, "body.status"),
        ({"rating": 5}, "body.rating"),
    ],
)
async def test_bad_driver_is_refused_and_nothing_written(service, change, field) -> None:
    response = await service.client.post("/api/v1/drivers", json={**GOOD_DRIVER, **change})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert (await service.client.get("/api/v1/drivers")).json()["items"] == []


async def test_duplicate_plate_is_a_conflict(service) -> None:
    first = await service.client.post("/api/v1/vehicles", json=GOOD_VEHICLE)
    again = await service.client.post(
        "/api/v1/vehicles", json={**GOOD_VEHICLE, "description": "Another car"}
    )

    assert first.status_code == 201
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "vehicle_plate_taken"
    assert len((await service.client.get("/api/v1/vehicles")).json()["items"]) == 1


async def test_duplicate_licence_is_a_conflict(service) -> None:
    assert (await service.client.post("/api/v1/drivers", json=GOOD_DRIVER)).status_code == 201
    again = await service.client.post("/api/v1/drivers", json={**GOOD_DRIVER, "name": "Li Na"})

    assert again.status_code == 409
    assert again.json()["code"] == "driver_licence_taken"


async def test_vehicles_page_by_cursor_and_filter(service) -> None:
    plates = [(await service.add_vehicle())["plate"] for _ in range(3)]
    van = await service.add_vehicle("van", seats=9, luggage=10)

    first = (await service.client.get("/api/v1/vehicles", params={"limit": 2})).json()
    rest = (
        await service.client.get(
            "/api/v1/vehicles", params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    vans = (await service.client.get("/api/v1/vehicles", params={"vehicle_class": "van"})).json()

    assert [v["plate"] for v in first["items"] + rest["items"]] == [*plates, van["plate"]]
    assert rest["next_cursor"] is None
    assert [v["id"] for v in vans["items"]] == [van["id"]]


async def test_bad_cursor_and_limit_are_problems(service) -> None:
    bad_cursor = await service.client.get("/api/v1/drivers", params={"cursor": "bm90LWFuLWlk"})
    bad_limit = await service.client.get("/api/v1/vehicles", params={"limit": 201})

    assert bad_cursor.status_code == 400
    assert bad_cursor.json()["code"] == "invalid_cursor"
    assert bad_limit.status_code == 422


async def test_create_with_idempotency_key_replays_first_answer(service) -> None:
    headers = {"Idempotency-Key": "fleet-import-1"}
    first = await service.client.post("/api/v1/vehicles", json=GOOD_VEHICLE, headers=headers)
    retry = await service.client.post("/api/v1/vehicles", json=GOOD_VEHICLE, headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert len((await service.client.get("/api/v1/vehicles")).json()["items"]) == 1


async def test_phone_with_00_and_a_language_tag_in_any_case_are_normalised(service) -> None:
    response = await service.client.post(
        "/api/v1/drivers",
        json={**GOOD_DRIVER, "phone": "0044 (7700) 900.123", "languages": ["EN-gb", "zh-hans"]},
    )

    assert response.status_code == 201, response.text
    assert response.json()["phone"] == "+447700900123"
    assert response.json()["languages"] == ["en-GB", "zh-Hans"]


async def test_unknown_filter_is_refused_not_ignored(service) -> None:
    response = await service.client.get("/api/v1/vehicles", params={"colour": "black"})

    assert response.status_code == 422
    assert "query.colour" in [e["field"] for e in response.json()["errors"]]


async def test_a_cursor_only_works_where_it_was_issued(service) -> None:
    for _ in range(2):
        await service.add_vehicle()
        await service.add_driver()
    cursor = (await service.client.get("/api/v1/vehicles", params={"limit": 1})).json()[
        "next_cursor"
    ]

    elsewhere = await service.client.get("/api/v1/drivers", params={"limit": 1, "cursor": cursor})
    other_filter = await service.client.get(
        "/api/v1/vehicles", params={"limit": 1, "cursor": cursor, "status": "available"}
    )
    here = await service.client.get("/api/v1/vehicles", params={"limit": 1, "cursor": cursor})

    assert elsewhere.status_code == other_filter.status_code == 400
    assert elsewhere.json()["code"] == "invalid_cursor"
    assert here.status_code == 200 and len(here.json()["items"]) == 1
