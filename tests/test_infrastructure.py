"""The machine's PostgreSQL and RabbitMQ belong to the test bed: missing means red, not skipped."""

import aio_pika
import asyncpg
import pytest

pytestmark = pytest.mark.infra


async def test_postgresql_is_reachable() -> None:
    try:
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres", timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required by the tests: {exc!r}")
    assert await conn.fetchval("SELECT 1") == 1
    await conn.close()


async def test_rabbitmq_is_reachable() -> None:
    try:
        conn = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/", timeout=5)
    except Exception as exc:
        pytest.fail(f"RabbitMQ at 127.0.0.1:5672 is required by the tests: {exc!r}")
    assert not conn.is_closed
    await conn.close()
