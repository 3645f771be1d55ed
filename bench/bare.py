"""The reference the platform is measured against: a bare FastAPI + asyncpg app doing the
same database work as a confirmation and an availability search, and nothing else (no auth,
no events, no ORM, no middleware).

- `POST /confirm`: one transaction: hold a room on two consecutive nights (a conditional
  UPDATE ... WHERE held < rooms, both nights or none) and INSERT the booking.
- `GET /room-types`: the five room types with the rooms free over a two-night stay, one SELECT.

`prepare(dsn)` creates its tables in a database of its own; run it with uvicorn:

    BARE_DSN=postgresql://postgres@127.0.0.1:5432/bench_bare \\
        .venv/bin/python -m uvicorn --factory bare:create_app --app-dir bench --port 8100
"""

import itertools
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta

import asyncpg
from fastapi import FastAPI, HTTPException
from load import stay_offset

ROOM_TYPES = ["STD", "KNG", "BUS", "DLX", "STE"]
NIGHTS = 550  # from today: the booking horizon
ROOMS = 100_000
POOL_SIZE = 10  # as a service's DATABASE_POOL_SIZE

SCHEMA = """
CREATE TABLE IF NOT EXISTS room_types (id int PRIMARY KEY, code text NOT NULL, name text NOT NULL,
    price int NOT NULL, rooms int NOT NULL);
CREATE TABLE IF NOT EXISTS nights (room_type_id int NOT NULL REFERENCES room_types,
    night date NOT NULL, held int NOT NULL DEFAULT 0, PRIMARY KEY (room_type_id, night));
CREATE TABLE IF NOT EXISTS bookings (id uuid PRIMARY KEY, room_type_id int NOT NULL,
    check_in date NOT NULL, check_out date NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
"""

HOLD = """
UPDATE nights SET held = held + 1
WHERE room_type_id = $1 AND night >= $2 AND night < $3
  AND held < (SELECT rooms FROM room_types WHERE id = $1)
"""
INSERT = "INSERT INTO bookings (id, room_type_id, check_in, check_out) VALUES ($1, $2, $3, $4)"
SEARCH = """
SELECT t.id, t.code, t.name, t.price, t.rooms - coalesce(max(n.held), 0) AS free
FROM room_types t LEFT JOIN nights n ON n.room_type_id = t.id AND n.night >= $1 AND n.night < $2
GROUP BY t.id ORDER BY t.id
"""


async def prepare(dsn: str) -> None:
    """Tables and rows: five room types, NIGHTS nights of each from today."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(SCHEMA)
        await connection.executemany(
            "INSERT INTO room_types VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            [
                (i + 1, code, f"Room {code}", 50_000 + 1000 * i, ROOMS)
                for i, code in enumerate(ROOM_TYPES)
            ],
        )
        today = date.today()
        await connection.executemany(
            "INSERT INTO nights VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
            [(t + 1, today + timedelta(days=d)) for t in range(5) for d in range(NIGHTS)],
        )
    finally:
        await connection.close()


def create_app(dsn: str | None = None) -> FastAPI:
    dsn = dsn or os.environ["BARE_DSN"]
    pool: asyncpg.Pool | None = None
    turn = itertools.count()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(dsn, min_size=POOL_SIZE, max_size=POOL_SIZE)
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    def stay() -> tuple[int, date, date]:
        """Spread over room types and dates as the platform's load is (its rows, its locks)."""
        n = next(turn)
        check_in = date.today() + timedelta(days=stay_offset(n))
        return n % 5 + 1, check_in, check_in + timedelta(days=2)

    @app.post("/confirm")
    async def confirm() -> dict[str, str]:
        room_type, check_in, check_out = stay()
        booking = uuid.uuid4()
        assert pool is not None
        async with pool.acquire() as connection, connection.transaction():
            held = await connection.execute(HOLD, room_type, check_in, check_out)
            if held != "UPDATE 2":
                raise HTTPException(409, "no availability")  # rolls the transaction back
            await connection.execute(INSERT, booking, room_type, check_in, check_out)
        return {"id": str(booking), "status": "confirmed"}

    @app.get("/room-types")
    async def room_types() -> list[dict[str, object]]:
        _, check_in, check_out = stay()
        assert pool is not None
        rows = await pool.fetch(SEARCH, check_in, check_out)
        return [dict(row) for row in rows]

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
