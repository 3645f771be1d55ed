import asyncio
from pathlib import Path
from typing import ClassVar

import httpx
from fastapi import APIRouter
from sqlmodel import Field, SQLModel, select

from hotel_common.deps import RuntimeDep, SessionDep
from hotel_common.events.envelope import IntegrationEvent
from hotel_common.events.memory import InMemoryBroker
from hotel_common.events.outbox import add_event
from hotel_common.service import ServiceSpec, create_service_app
from hotel_common.settings import ServiceSettings


class Thing(SQLModel, table=True):
    __tablename__ = "smoke_things"
    id: int | None = Field(default=None, primary_key=True)
    name: str


class ThingMade(IntegrationEvent):
    event_type: ClassVar[str] = "thing.made"
    name: str


router = APIRouter()


@router.post("/things", status_code=201)
async def make(name: str, session: SessionDep, rt: RuntimeDep) -> dict:
    t = Thing(name=name)
    session.add(t)
    add_event(session, ThingMade(name=name), rt.settings.service_name)
    await session.commit()
    return {"id": t.id}


@router.get("/things")
async def things(session: SessionDep) -> list[str]:
    return [t.name for t in (await session.exec(select(Thing))).all()]


async def test_smoke(tmp_path: Path) -> None:
    mig = tmp_path / "mig"
    (mig / "versions").mkdir(parents=True)
    (mig / "env.py").write_text("from hotel_common.migrations import run_env\nrun_env({'smoke_things'})\n")
    from hotel_common.migrations import autogenerate
    autogenerate(mig, "init")
    print(list((mig / "versions").iterdir()))
    got = []

    def subscribe(rt):
        async def on_made(session, env):
            session.add(Thing(name="seen-" + env.payload["name"]))
            got.append(env)
        rt.handle("thing.made", on_made)

    spec = ServiceSpec("smoke", "Smoke", [router], mig, subscribe=subscribe)
    s = ServiceSettings(service_name="smoke", database_url=f"sqlite+aiosqlite:///{tmp_path}/s.db")
    broker = InMemoryBroker()
    app = create_service_app(spec, s, broker)
    async with app.router.lifespan_context(app):
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        r = await c.post("/things", params={"name": "a"}, headers={"Idempotency-Key": "k1"})
        assert r.status_code == 201, r.text
        r2 = await c.post("/things", params={"name": "a"}, headers={"Idempotency-Key": "k1"})
        assert r2.json() == r.json() and r2.headers["idempotent-replayed"] == "true"
        r3 = await c.post("/things", params={"name": "b"}, headers={"Idempotency-Key": "k1"})
        assert r3.status_code == 422, r3.text
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.01)
        assert len(got) == 1
        await asyncio.sleep(0.1)
        print((await c.get("/things")).json())
        print((await c.get("/health/ready")).json(), r.headers)
        print((await c.get("/admin/outbox")).json())
