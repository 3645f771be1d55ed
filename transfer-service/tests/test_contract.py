"""The OpenAPI document is the contract an integrator reads: every operation has a summary, a
description, its refusals and errors, and an example answer; schema names do not collide with
guest-service's; a query parameter that takes one value says so (and a second value is a 422)."""

from typing import Any

import pytest

from .conftest import Service

Operation = tuple[str, str, dict[str, Any]]


async def operations(service: Service) -> list[Operation]:
    document = (await service.client.get("/openapi.json")).json()
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        if path.startswith("/api/")
        for method, op in item.items()
    ]


# Error statuses each operation documents besides 401, 403 and 422.
EXPECTED = {
    ("get", "/api/v1/transfers"): {"400"},
    ("post", "/api/v1/transfers"): set(),
    ("get", "/api/v1/transfers/{transfer_id}"): {"404"},
    ("post", "/api/v1/transfers/{transfer_id}/progress"): {"404", "409"},
    ("get", "/api/v1/drivers"): {"400"},
    ("post", "/api/v1/drivers"): {"409"},
    ("get", "/api/v1/vehicles"): {"400"},
    ("post", "/api/v1/vehicles"): {"409"},
    # issue 18, money and quality
    ("get", "/api/v1/fares"): {"400"},
    ("post", "/api/v1/fares"): {"409"},
    ("get", "/api/v1/fares/{fare_id}"): {"404"},
    ("patch", "/api/v1/fares/{fare_id}"): {"404"},
    ("delete", "/api/v1/fares/{fare_id}"): {"404"},
    ("get", "/api/v1/transfers/{transfer_id}/receipt"): {"404"},
    ("get", "/api/v1/dispatch-board"): set(),
    ("get", "/api/v1/analytics/transfers"): set(),
    # issue 18, fleet
    ("get", "/api/v1/vehicles/{vehicle_id}"): {"404"},
    ("patch", "/api/v1/vehicles/{vehicle_id}"): {"404", "409"},
    ("post", "/api/v1/vehicles/{vehicle_id}/maintenance"): {"404", "409"},
    ("get", "/api/v1/vehicles/{vehicle_id}/maintenance"): {"400", "404"},
    ("post", "/api/v1/vehicles/{vehicle_id}/maintenance/{maintenance_id}/end"): {"404"},
    ("get", "/api/v1/drivers/{driver_id}"): {"404"},
    ("patch", "/api/v1/drivers/{driver_id}"): {"404", "409"},
    ("post", "/api/v1/drivers/{driver_id}/shifts"): {"404", "409"},
    ("get", "/api/v1/drivers/{driver_id}/shifts"): {"400", "404"},
    ("delete", "/api/v1/drivers/{driver_id}/shifts/{shift_id}"): {"404", "409"},
    ("get", "/api/v1/places"): {"400"},
    ("post", "/api/v1/places"): {"409"},
    ("get", "/api/v1/places/{place_id}"): {"404"},
    ("patch", "/api/v1/places/{place_id}"): {"404", "409"},
    ("get", "/api/v1/travel-times"): {"400"},
    ("put", "/api/v1/travel-times/{from_place_id}/{to_place_id}"): {"404"},
    ("delete", "/api/v1/travel-times/{from_place_id}/{to_place_id}"): {"404"},
    # issue 18, dispatch & live
    ("post", "/api/v1/transfers/{transfer_id}/assign"): {"404", "409"},
    ("post", "/api/v1/transfers/{transfer_id}/swap"): {"404", "409"},
    ("post", "/api/v1/transfers/{transfer_id}/unassign"): {"404", "409"},
    ("post", "/api/v1/transfers/{transfer_id}/cancel"): {"404", "409"},
    ("get", "/api/v1/transfers/{transfer_id}/audit"): {"404"},
    ("post", "/api/v1/transfers/{transfer_id}/en-route"): {"404", "409"},
    ("post", "/api/v1/transfers/{transfer_id}/on-site"): {"404", "409"},
    ("post", "/api/v1/transfers/{transfer_id}/on-board"): {"404", "409"},
    ("post", "/api/v1/transfers/{transfer_id}/complete"): {"404", "409"},
    ("post", "/api/v1/transfers/{transfer_id}/no-show"): {"404", "409"},
    ("post", "/api/v1/incidents"): {"404"},
    ("get", "/api/v1/incidents"): {"400"},
    ("get", "/api/v1/incidents/{incident_id}"): {"404"},
    ("post", "/api/v1/incidents/{incident_id}/resolve"): {"404", "409"},
    ("post", "/api/v1/flight-updates"): set(),
}


async def test_every_operation_is_documented(service: Service) -> None:
    found = await operations(service)
    assert {(method, path) for method, path, _ in found} == set(EXPECTED)
    for method, path, op in found:
        where = f"{method} {path}"
        assert op.get("summary") and op.get("description"), where
        responses = op["responses"]
        assert {"401", "403", "422"} | EXPECTED[(method, path)] <= set(responses), where
        for status in ("401", "403", "422", *EXPECTED[(method, path)]):
            content = responses[status]["content"]
            assert "application/problem+json" in content, (where, status)
        success = next(s for s in responses if s.startswith("2"))
        if success != "204":  # no content, nothing to show
            assert responses[success]["content"]["application/json"].get("example"), where


async def test_schema_names_are_the_services_own(service: Service) -> None:
    document = (await service.client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert "GuestPublic" not in schemas and "TransferGuest" in schemas
    transfer = schemas["TransferPublic"]["properties"]
    for unit_field in ("pickup_time", "passengers", "luggage", "driver_on_site_at"):
        assert transfer[unit_field].get("description"), unit_field


async def test_one_value_parameters_say_so_and_refuse_a_second(service: Service) -> None:
    for _method, path, op in await operations(service):
        for parameter in op.get("parameters", []):
            if parameter["in"] == "query":
                assert "Takes one value" in parameter.get("description", ""), (path, parameter)
    response = await service.client.get(
        "/api/v1/transfers", params=[("status", "assigned"), ("status", "requested")]
    )
    assert response.status_code == 422


@pytest.mark.parametrize("path", ["/api/v1/transfers", "/api/v1/drivers", "/api/v1/vehicles"])
async def test_a_bad_cursor_is_the_documented_400(service: Service, path: str) -> None:
    response = await service.client.get(path, params={"cursor": "bm90LWEtY3Vyc29y"})
    assert response.status_code == 400 and response.json()["code"] == "invalid_cursor"
