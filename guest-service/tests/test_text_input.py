"""Control characters in profile text or in a query are a 422, on SQLite and on PostgreSQL
(which cannot store NUL at all); nothing is written (issue 13, point 14)."""

import uuid
from pathlib import Path

import pytest
from guest_service.config import Settings
from guest_service.main import create_app
from hotel_common.db import drop_database
from hotel_common.events.memory import InMemoryBroker
from hotel_common.testing import running

from .conftest import GuestService, sqlite_settings

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"
BAD = ["A\u0000B", "A\u0007B", "A\u009bB"]


async def _refuses_control_characters(service: GuestService) -> None:
    for name in BAD:
        response = await service.client.post(
            "/api/v1/guests", json={"name": name, "email": "emily@example.com"}
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        [error] = response.json()["errors"]
        assert (error["field"], error["type"]) == ("body.name", "control_characters")
    assert await service.find() == []

    created = await service.create(name="Emily Carter", email="emily@example.com")
    for change in ({"name": "Emily\u0000"}, {"phone": "+44\u00077700900123"}):
        response = await service.client.patch(f"/api/v1/guests/{created['id']}", json=change)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["type"] == "control_characters"
    assert (await service.guest(created["id"]))["name"] == "Emily Carter"

    for query, field in (("name=Emily%00", "query.name"), ("email=e%00@x.com", "query.email")):
        response = await service.client.get(f"/api/v1/guests?{query}")
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def test_control_characters_are_refused(db: str, tmp_path: Path) -> None:
    if db == "sqlite":
        settings = sqlite_settings(tmp_path)
    else:
        settings = Settings(
            database_url=f"{PG}/test_{uuid.uuid4().hex}", retry_delays=[0.01], log_json=False
        )
    broker = InMemoryBroker()
    try:
        async with running(create_app(settings, broker=broker)) as client:
            await _refuses_control_characters(GuestService(client, broker))
    finally:
        await drop_database(settings.database_url)
