"""The shared list, unique-insert and strict-input helpers, through a small FastAPI app."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Query
from hotel_common.errors import ProblemError, install_problem_handlers
from hotel_common.pagination import Page, PagingDep, encode_cursor, keyset_page
from hotel_common.strict import StrictModel, reject_unknown_query
from hotel_common.uniques import insert_unique, try_insert
from httpx import ASGITransport, AsyncClient
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlmodel import AutoString
from sqlmodel.ext.asyncio.session import AsyncSession

metadata = MetaData()  # not SQLModel's: these tables belong to no service
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("name", String(20), unique=True),
    Column("code", AutoString(8), nullable=False),  # its python_type is `object`, read as text
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class ItemIn(StrictModel):
    name: str


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[AsyncClient]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(
            insert(items),
            # Five share one instant: the id decides their order.
            [
                {
                    "id": i,
                    "kind": "ab"[i % 2],
                    "created_at": T0 + timedelta(minutes=i // 5),
                    "code": f"c{i:02d}",
                }
                for i in range(1, 13)
            ],
        )
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

    async def session() -> AsyncIterator[AsyncSession]:
        async with sessions() as s:
            yield s

    Session = Annotated[AsyncSession, Depends(session)]
    app = FastAPI(dependencies=[Depends(reject_unknown_query)])
    install_problem_handlers(app)

    def plain(page: Page[Any]) -> Page[dict[str, Any]]:
        return page.map(lambda r: {"id": r.id, "kind": r.kind})

    @app.get("/by-id")
    async def by_id(s: Session, paging: PagingDep, kind: str | None = None) -> Page[dict[str, Any]]:
        query = select(items)
        if kind is not None:
            query = query.where(items.c.kind == kind)
        return plain(await keyset_page(s, query, paging, items.c.id))

    @app.get("/newest")
    async def newest(
        s: Session, paging: PagingDep, kind: Annotated[str | None, Query(alias="type")] = None
    ) -> Page[dict[str, Any]]:
        query = select(items)
        if kind is not None:
            query = query.where(items.c.kind == kind)
        order = (items.c.created_at, items.c.code)
        return plain(await keyset_page(s, query, paging, *order, descending=True))

    @app.post("/items", status_code=201)
    async def create(body: ItemIn, s: Session) -> dict[str, Any]:
        await s.execute(
            insert(items).values(id=100, kind="a", created_at=T0, name=body.name, code="x")
        )
        await s.commit()
        return {"name": body.name}

    async with AsyncClient(transport=ASGITransport(app), base_url="http://t") as c:
        yield c
    await engine.dispose()


async def walk(client: AsyncClient, path: str, **params: Any) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        more = {"cursor": cursor} if cursor else {}
        body = (await client.get(path, params={**params, **more})).json()
        pages.append([item["id"] for item in body["items"]])
        if (cursor := body["next_cursor"]) is None:
            return pages


async def test_pages_follow_the_order_and_end_without_a_cursor(client: AsyncClient) -> None:
    assert await walk(client, "/by-id", limit=5) == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12]]
    assert await walk(client, "/by-id", limit=4, kind="a") == [[2, 4, 6, 8], [10, 12]]
    # Newest first; rows of one instant in id order, descending, across a page boundary.
    newest = await walk(client, "/newest", limit=4)
    assert newest == [[12, 11, 10, 9], [8, 7, 6, 5], [4, 3, 2, 1]]
    assert await walk(client, "/newest", limit=12) == [list(range(12, 0, -1))]


async def test_a_cursor_works_only_where_it_was_issued_and_with_its_filters(
    client: AsyncClient,
) -> None:
    first = (await client.get("/by-id", params={"limit": 2, "kind": "a"})).json()
    cursor = first["next_cursor"]
    ok = await client.get("/by-id", params={"kind": "a", "limit": 3, "cursor": cursor})
    assert [i["id"] for i in ok.json()["items"]] == [6, 8, 10]  # a new limit is fine
    for path, params in [
        ("/by-id", {}),  # filter dropped
        ("/by-id", {"kind": "b"}),  # another filter
        ("/newest", {"type": "a"}),  # another endpoint
    ]:
        r = await client.get(path, params={**params, "cursor": cursor})
        assert r.status_code == 400, (path, params)
        assert r.json()["code"] == "invalid_cursor"
    for forged in ["%%%", encode_cursor("not json"), encode_cursor('["x", 1]')]:
        r = await client.get("/by-id", params={"cursor": forged})
        assert r.status_code == 400 and r.json()["code"] == "invalid_cursor"


async def test_unknown_query_parameters_and_body_fields_are_422_naming_them(
    client: AsyncClient,
) -> None:
    r = await client.get("/by-id", params={"kind": "a", "channel": "x", "check_out_from": "y"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"query.channel", "query.check_out_from"}
    # Declared by alias (`type`) and by a dependency (`limit`, `cursor`): accepted.
    assert (await client.get("/newest", params={"type": "a", "limit": 1})).status_code == 200
    assert (await client.get("/newest", params={"kind": "a"})).status_code == 422

    r = await client.post("/items", json={"name": "n", "ota_reservation_id": "X1"})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["body.ota_reservation_id"]
    assert [e["type"] for e in r.json()["errors"]] == ["extra_forbidden"]
    r = await client.post("/items", params={"dry": "1"}, json={"name": "n"})
    assert r.status_code == 422
    # Nothing was written on either 422.
    listed = (await client.get("/by-id", params={"limit": 200})).json()["items"]
    assert [i["id"] for i in listed][-1] == 12


async def test_unique_insert_is_a_409_and_the_transaction_goes_on(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'u.db'}")

    class Base(DeclarativeBase):  # its own metadata: a table of no service
        pass

    class Thing(Base):
        __tablename__ = "things"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(10), unique=True)

    local = Base.metadata
    async with engine.begin() as conn:
        await conn.run_sync(local.create_all)
    async with AsyncSession(engine, expire_on_commit=False) as s:
        await insert_unique(s, Thing(name="a"), "thing_exists", "taken")
        assert await try_insert(s, Thing(name="a")) is False
        with pytest.raises(ProblemError) as refused:
            await insert_unique(s, Thing(name="a"), "thing_exists", "A thing named a exists.")
        assert (refused.value.status, refused.value.code) == (409, "thing_exists")
        await insert_unique(s, Thing(name="b"), "thing_exists", "taken")  # still usable
        await s.commit()
        names = (await s.exec(select(Thing.name).order_by(Thing.name))).all()
        assert [n for (n,) in names] == ["a", "b"]
    await engine.dispose()
