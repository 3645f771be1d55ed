"""Fixtures for the shared library's tests, and a toy service built on it to test the
library as a service uses it."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, ClassVar

import pytest
from fastapi import APIRouter, Body
from hotel_common import db
from hotel_common.deps import SessionDep
from hotel_common.events.envelope import IntegrationEvent
from hotel_common.events.inbox import ProcessedEvent
from hotel_common.events.outbox import add_event
from hotel_common.migrations import autogenerate
from hotel_common.service import Runtime, ServiceSpec
from pydantic import BaseModel
from pydantic import Field as PField
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession


class Note(SQLModel, table=True):
    __tablename__ = "toy_notes"
    id: int | None = Field(default=None, primary_key=True)
    text: str
    from_event: str | None = None


class NoteWritten(IntegrationEvent):
    event_type: ClassVar[str] = "toy.note_written"
    text: str


class NoteIn(BaseModel):
    text: str = PField(min_length=1, max_length=50)


router = APIRouter(prefix="/api/v1/notes")


@router.post("", status_code=201)
async def write(note: Annotated[NoteIn, Body()], session: SessionDep) -> dict:
    row = Note(text=note.text)
    session.add(row)
    add_event(session, NoteWritten(text=note.text))
    await session.commit()
    return {"id": row.id, "text": row.text}


@router.get("")
async def notes(session: SessionDep) -> list[dict]:
    rows = (await session.exec(select(Note).order_by(Note.id))).all()  # type: ignore[arg-type]
    return [{"id": n.id, "text": n.text, "from_event": n.from_event} for n in rows]


async def on_note_written(session: AsyncSession, event: NoteWritten) -> None:
    if event.text.startswith("poison"):
        raise RuntimeError("this note can never be handled")
    session.add(Note(text=f"echo:{event.text}", from_event=event.event_id))


def subscribe(runtime: Runtime) -> None:
    runtime.handle(NoteWritten, on_note_written, name="toy.echo_note")


def make_spec(migrations_dir: Path, *, consume: bool = True) -> ServiceSpec:
    """A toy spec whose schema comes from a migration generated on the fly."""
    if not (migrations_dir / "env.py").exists():
        (migrations_dir / "versions").mkdir(parents=True)
        (migrations_dir / "env.py").write_text(
            f"from hotel_common.migrations import run_env\nrun_env({Note.__module__!r})\n"
        )
        autogenerate(migrations_dir, "toy schema")
    return ServiceSpec(
        name="toy-service",
        title="Toy",
        routers=[router],
        migrations_dir=migrations_dir,
        subscribe=subscribe if consume else None,
    )


@pytest.fixture(scope="session")
def toy_spec(tmp_path_factory: pytest.TempPathFactory) -> ServiceSpec:
    return make_spec(tmp_path_factory.mktemp("toy") / "migrations")


@pytest.fixture
def pg_url() -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/toy.db"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def sessions(
    request: pytest.FixtureRequest, sqlite_url: str, pg_url: str
) -> AsyncIterator[db.SessionFactory]:
    """Sessions on a database holding only the processed-events table (inbox tests)."""
    url = sqlite_url if request.param == "sqlite" else pg_url
    await db.ensure_database(url)
    engine = db.create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: ProcessedEvent.__table__.create(c))  # type: ignore[attr-defined]
        yield db.create_session_factory(engine)
    finally:
        await engine.dispose()
        await db.drop_database(url)
