"""The merged OpenAPI document as an integrator reads it: the gateway's own routes, how to
authenticate, the gateway's errors, and names unique across services."""

from importlib.metadata import entry_points
from typing import Any

import pytest
from gateway.config import Settings
from gateway.main import create_app
from gateway.openapi import GATEWAY, collisions, merge
from gateway.upstream import AsgiUpstream, Upstream
from hotel_common.service import create_service_app

SERVICES = ["reservation-service", "transfer-service", "guest-service", "notification-service"]
PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def service_docs() -> dict[str, dict[str, Any]]:
    """The real services' own documents."""
    specs = {ep.name: ep.load() for ep in entry_points(group="hotel.services")}
    return {name: create_service_app(specs[name]).openapi() for name in SERVICES}


async def test_the_document_tells_how_to_authenticate_and_what_the_gateway_answers(
    tokens, clients
) -> None:
    specs = {ep.name: ep.load() for ep in entry_points(group="hotel.services")}
    upstreams: dict[str, Upstream] = {
        n: AsgiUpstream(n, create_service_app(specs[n])) for n in SERVICES
    }
    settings = Settings(log_json=False, public_urls=["https://api.hotel.example"])
    app = create_app(settings, upstreams, authenticator=tokens({}))
    async with clients(app) as (client,):
        doc = (await client.get("/openapi.json")).json()

    assert "X-API-Key" in doc["info"]["description"]
    assert "429" in doc["info"]["description"]
    assert doc["servers"] == [{"url": "https://api.hotel.example"}]
    schemes = doc["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {**schemes["ApiKey"], "type": "apiKey", "in": "header"}
    assert schemes["ApiKey"]["name"] == "X-API-Key"
    assert schemes["OAuth2"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert schemes["Bearer"]["scheme"] == "bearer"
    assert "Problem" in doc["components"]["schemas"]

    trips = doc["paths"]["/api/v1/me/trips"]["get"]  # the gateway's own route
    assert trips["operationId"] == "my_trips"
    assert {"ApiKey": []} in trips["security"] and {} not in trips["security"]
    assert "Trips" in doc["components"]["schemas"]

    proxied = [
        (path, method, op)
        for path, item in doc["paths"].items()
        if path != "/api/v1/me/trips"
        for method, op in item.items()
    ]
    assert len(proxied) > 20
    for path, method, op in proxied:
        for status in ("401", "429", "502", "503", "504"):
            content = op["responses"][status]["content"]
            assert content["application/problem+json"]["schema"] == PROBLEM, (path, status)
        assert "Retry-After" in op["responses"]["429"]["headers"]
        assert "Retry-After" in op["responses"]["503"]["headers"]
        assert op["security"], (path, method)


async def test_anonymous_operations_and_sign_in_routes_say_so(service_docs) -> None:
    from gateway.openapi import describe

    doc = describe(merge(service_docs, title="t", version="1"), [{"url": "/"}])
    assert {} in doc["paths"]["/api/v1/availability"]["get"]["security"]
    assert {} in doc["paths"]["/api/v1/reservations"]["post"]["security"]
    assert {} not in doc["paths"]["/api/v1/reservations"]["get"]["security"]
    assert {} not in doc["paths"]["/api/v1/guests"]["get"]["security"]
    # Issue 19: a guest answers the survey by its link, and reads the rewards, unsigned.
    assert {} in doc["paths"]["/api/v1/surveys/{token}"]["get"]["security"]
    assert {} in doc["paths"]["/api/v1/surveys/{token}/response"]["post"]["security"]
    assert {} in doc["paths"]["/api/v1/loyalty/rewards"]["get"]["security"]
    assert {} not in doc["paths"]["/api/v1/surveys/results"]["get"]["security"]
    assert {} not in doc["paths"]["/api/v1/loyalty/members"]["get"]["security"]
    auth = {"paths": {"/api/v1/auth/token": {"post": {"responses": {"200": {}}}}}}
    described = describe({**auth, "info": {}}, [{"url": "/"}])
    op = described["paths"]["/api/v1/auth/token"]["post"]
    assert op["security"] == []  # no credential to sign in
    assert "429" in op["responses"] and "502" not in op["responses"]


def test_a_name_used_twice_across_services_is_reported() -> None:
    def doc(op_id: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "paths": {f"/api/v1/{op_id}s": {"get": {"operationId": "list_things"}}},
            "components": {"schemas": {"GuestPublic": schema, "Page": {"type": "object"}}},
        }

    found = collisions(
        {
            "guest-service": doc("guest", {"properties": {"email": {"type": "string"}}}),
            "transfer-service": doc("transfer", {"properties": {"name": {"type": "string"}}}),
        }
    )
    assert len(found) == 2
    assert "operationId 'list_things'" in found[0]
    assert found[1] == "schema 'GuestPublic' differs in guest-service, transfer-service"


def test_operation_ids_and_schema_names_are_unique_across_services(service_docs) -> None:
    assert collisions({GATEWAY: {}, **service_docs}) == []


def test_every_schema_gets_a_title_unique_in_the_document() -> None:
    """Generators name classes after titles: two services' `Kind`, or FastAPI's two
    module-keyed `Tier`s of one service, must not share one (the second was dropped)."""

    def doc(schemas: dict[str, Any]) -> dict[str, Any]:
        return {"paths": {}, "components": {"schemas": schemas}}

    kind = {"type": "string", "title": "Kind"}
    merged = merge(
        {
            GATEWAY: doc({"Kind": {**kind, "enum": ["staff", "partner"]}}),
            "guest-service": doc(
                {
                    "guest_service__models__loyalty__Tier": {"type": "string", "title": "Tier"},
                    "guest_service__models__segments__Tier": {"type": "string", "title": "Tier"},
                    "Page_GuestPublic_": {"type": "object", "title": "Page[GuestPublic]"},
                }
            ),
            "notification-service": doc({"Kind": {**kind, "enum": ["reservation_confirmed"]}}),
        },
        title="t",
        version="1",
    )
    titles = {name: s["title"] for name, s in merged["components"]["schemas"].items()}
    assert titles == {
        "gateway.Kind": "GatewayKind",
        "notification-service.Kind": "NotificationServiceKind",
        "guest_service__models__loyalty__Tier": "LoyaltyTier",
        "guest_service__models__segments__Tier": "SegmentsTier",
        "Page_GuestPublic_": "PageGuestPublic",
    }


def test_a_body_described_inline_becomes_a_named_schema() -> None:
    receipt = {"type": "object", "title": "Receipt", "properties": {"id": {"type": "string"}}}
    service = {
        "paths": {
            "/api/v1/receipts": {
                "post": {
                    "operationId": "record_receipt",
                    "requestBody": {"content": {"application/json": {"schema": receipt}}},
                    "responses": {"200": {"content": {"application/json": {"schema": {}}}}},
                }
            }
        }
    }
    merged = merge(
        {"notification-service": service},
        title="t",
        version="1",
        owner=lambda p: "notification-service",
    )
    body = merged["paths"]["/api/v1/receipts"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/Receipt"}
    assert merged["components"]["schemas"]["Receipt"]["properties"] == receipt["properties"]
    assert "components" not in service  # the service's own document is left as it was
