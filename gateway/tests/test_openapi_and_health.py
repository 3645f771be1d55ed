"""One merged OpenAPI document, interactive docs, and readiness across the services."""

from fastapi import APIRouter, FastAPI
from gateway.config import Settings
from gateway.main import create_app
from gateway.openapi import merge
from gateway.upstream import AsgiUpstream, Upstream, UpstreamResponse, UpstreamUnavailable
from hotel_common.testing import running
from pydantic import BaseModel


class Money(BaseModel):  # the same in both services: kept once
    amount: int
    currency: str


def reservation_app() -> FastAPI:
    class Item(BaseModel):
        room_type: str
        nights: int
        price: Money

    app = FastAPI(title="Reservations")
    rooms = APIRouter(prefix="/api/v1/rooms", tags=["rooms"])

    @rooms.get("/{room_id}")
    async def get_room(room_id: int) -> Item:
        return Item(room_type="deluxe", nights=1, price=Money(amount=100, currency="EUR"))

    @app.post("/api/v1/reservations")
    async def book(item: Item) -> Item:  # no tag: grouped under the service
        return item

    @app.get("/api/v1/guests")  # not the reservation service's to publish
    async def stray() -> dict[str, str]:
        return {}

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    app.include_router(rooms)
    return app


def transfer_app() -> FastAPI:
    class Item(BaseModel):  # same name, different content: one per service
        vehicle: str
        fare: Money

    app = FastAPI(title="Transfers")

    @app.get("/api/v1/transfers/{transfer_id}", tags=["transfers"])
    async def get_transfer(transfer_id: str) -> Item:
        return Item(vehicle="van", fare=Money(amount=50, currency="EUR"))

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return app


class Switchable(AsgiUpstream):
    """An in-process service a test can take down (connection refused) and bring back."""

    down = False

    async def forward(self, *args, **kwargs) -> UpstreamResponse:
        if self.down:
            raise UpstreamUnavailable(self.name, "connection refused")
        return await super().forward(*args, **kwargs)


def platform(transfers_down: bool = False) -> tuple[FastAPI, Switchable]:
    transfers = Switchable("transfer-service", transfer_app())
    transfers.down = transfers_down
    upstreams: dict[str, Upstream] = {
        "reservation-service": AsgiUpstream("reservation-service", reservation_app()),
        "transfer-service": transfers,
    }
    return create_app(Settings(log_json=False), upstreams), transfers


async def test_merged_document_has_every_service_paths_and_resolves_name_clashes() -> None:
    app, _ = platform()
    async with running(app) as client:
        doc = (await client.get("/openapi.json")).json()

    assert doc["info"]["title"] == "Hotel guest platform API"
    assert set(doc["paths"]) == {
        "/api/v1/rooms/{room_id}",
        "/api/v1/reservations",
        "/api/v1/transfers/{transfer_id}",
        "/api/v1/me/trips",  # the gateway's own
    }  # no /health, and no path routed to another service
    assert "x-missing-services" not in doc
    schemas = doc["components"]["schemas"]
    assert "Money" in schemas
    assert "Item" not in schemas
    assert set(schemas["reservation-service.Item"]["properties"]) == {
        "room_type",
        "nights",
        "price",
    }
    assert set(schemas["transfer-service.Item"]["properties"]) == {"vehicle", "fare"}
    assert schemas["transfer-service.Item"]["properties"]["fare"]["$ref"] == (
        "#/components/schemas/Money"
    )

    room = doc["paths"]["/api/v1/rooms/{room_id}"]["get"]
    assert room["tags"] == ["rooms"]
    ok = room["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"] == "#/components/schemas/reservation-service.Item"
    book = doc["paths"]["/api/v1/reservations"]["post"]
    assert book["tags"] == ["reservation-service"]
    body = book["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"] == "#/components/schemas/reservation-service.Item"
    transfer = doc["paths"]["/api/v1/transfers/{transfer_id}"]["get"]
    ok = transfer["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"] == "#/components/schemas/transfer-service.Item"
    # Every reference points at a schema the document has.
    refs = _refs(doc)
    assert refs and all(r.removeprefix("#/components/schemas/") in schemas for r in refs)


async def test_a_service_that_is_down_is_named_and_picked_up_once_back() -> None:
    app, transfers = platform(transfers_down=True)
    async with running(app) as client:
        first = (await client.get("/openapi.json")).json()
        transfers.down = False
        second = (await client.get("/openapi.json")).json()

    assert first["x-missing-services"] == ["transfer-service"]
    assert "/api/v1/rooms/{room_id}" in first["paths"]
    assert "/api/v1/transfers/{transfer_id}" not in first["paths"]
    assert "Item" in first["components"]["schemas"]  # no clash while alone
    assert "x-missing-services" not in second
    assert "/api/v1/transfers/{transfer_id}" in second["paths"]


async def test_docs_page_points_at_the_merged_document() -> None:
    app, _ = platform()
    async with running(app) as client:
        r = await client.get("/docs")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
    assert "/openapi.json" in r.text


def test_identical_definitions_that_refer_to_clashing_ones_are_split_too() -> None:
    def doc(line_fields: dict) -> dict:
        return {
            "paths": {},
            "components": {
                "schemas": {
                    "Line": {"type": "object", "properties": line_fields},
                    "Folio": {"properties": {"line": {"$ref": "#/components/schemas/Line"}}},
                }
            },
        }

    merged = merge(
        {"a": doc({"x": {"type": "integer"}}), "b": doc({"y": {"type": "string"}})},
        title="t",
        version="1",
    )
    schemas = merged["components"]["schemas"]
    assert set(schemas) == {"a.Line", "b.Line", "a.Folio", "b.Folio"}
    assert schemas["b.Folio"]["properties"]["line"]["$ref"] == "#/components/schemas/b.Line"


async def test_liveness_needs_nothing_readiness_needs_every_service() -> None:
    app, transfers = platform()
    async with running(app) as client:
        assert (await client.get("/health/live")).json() == {"status": "ok"}
        ready = await client.get("/health/ready")
        transfers.down = True
        not_ready = await client.get("/health/ready")

    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "services": {"reservation-service": "ready", "transfer-service": "ready"},
    }
    assert not_ready.status_code == 503
    assert not_ready.headers["content-type"] == "application/problem+json"
    problem = not_ready.json()
    assert problem["failing"] == ["transfer-service"]
    assert "transfer-service" in problem["detail"]
    assert problem["services"]["reservation-service"] == "ready"
    assert problem["services"]["transfer-service"] == "down: connection refused"


async def test_a_service_answering_not_ready_makes_the_gateway_not_ready(echo) -> None:
    service = echo("guest-service")
    service.state.ready = False
    upstreams: dict[str, Upstream] = {"guest-service": AsgiUpstream("guest-service", service)}
    async with running(create_app(Settings(log_json=False), upstreams)) as client:
        r = await client.get("/health/ready")
    assert r.status_code == 503
    assert r.json()["services"] == {"guest-service": "not ready (status 503)"}


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [
            r for v in node.values() for r in _refs(v)
        ]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []
