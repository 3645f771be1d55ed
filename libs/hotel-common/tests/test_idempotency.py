"""Idempotency-Key as a client sees it, on SQLite and on PostgreSQL: the first answer commits
with the effect and is what every retry gets, whatever the timing; request bodies are bounded.

The toy service of conftest.py gets a few extra routes here that misbehave on purpose.
"""

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Body, Depends
from hotel_common.db import drop_database
from hotel_common.deps import SessionDep
from hotel_common.events.memory import InMemoryBroker
from hotel_common.idempotency import stored_key
from hotel_common.principal import Kind, Principal
from hotel_common.service import ServiceSpec, create_service_app
from hotel_common.settings import ServiceSettings
from hotel_common.testing import TEST_ADMIN, eventually, principal_headers, running, serving
from pydantic import BaseModel
from pydantic import Field as PField
from sqlalchemy import insert, text
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

extra = APIRouter(prefix="/api/v1")

ADMIN = principal_headers(TEST_ADMIN)  # what the gateway sends for the clients below


class NoteIn(BaseModel):
    text: str = PField(min_length=1, max_length=50)


async def add_note(session: AsyncSession, note: NoteIn) -> int:
    """A row in the toy's notes table (conftest.py), as the toy's own route writes it."""
    notes = SQLModel.metadata.tables["toy_notes"]
    result = await session.exec(insert(notes).values(text=note.text).returning(notes.c.id))  # type: ignore[call-overload]
    return int(result.scalar_one())


# Gates a test opens to let a gated route go on; keyed by the note's text.
GATES: dict[str, asyncio.Event] = {}
ENTERED: dict[str, asyncio.Event] = {}


@extra.post("/fragile-notes", status_code=201)
async def write_then_fail(note: Annotated[NoteIn, Body()], session: SessionDep) -> dict:
    """Commits the note, then fails: a 500 after the commit."""
    await add_note(session, note)
    await session.commit()
    raise RuntimeError("failed after the commit")


async def slow_tail() -> AsyncIterator[None]:
    # Work after the answer has gone out (FastAPI runs a dependency's exit after sending):
    # it widens the window between sending the response and finishing the request.
    yield
    await asyncio.sleep(0.3)


@extra.post("/slow-tail-notes", status_code=201, dependencies=[Depends(slow_tail)])
async def write_with_slow_tail(note: Annotated[NoteIn, Body()], session: SessionDep) -> dict:
    note_id = await add_note(session, note)
    await session.commit()
    return {"id": note_id, "text": note.text}


@extra.post("/gated-notes", status_code=201)
async def write_when_let(note: Annotated[NoteIn, Body()], session: SessionDep) -> dict:
    """Writes the note, then waits for the test to open its gate before committing."""
    note_id = await add_note(session, note)
    ENTERED.setdefault(note.text, asyncio.Event()).set()
    await GATES.setdefault(note.text, asyncio.Event()).wait()
    await session.commit()
    return {"id": note_id, "text": note.text}


@pytest.fixture
def spec(toy_spec: ServiceSpec) -> ServiceSpec:
    return dataclasses.replace(toy_spec, routers=[*toy_spec.routers, extra])


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, sqlite_url: str, pg_url: str) -> str:
    return sqlite_url if request.param == "sqlite" else pg_url


def settings_for(url: str, **overrides: Any) -> ServiceSettings:
    return ServiceSettings(
        service_name="toy-service",
        database_url=url,
        retry_delays=[0.01],
        log_json=False,
        **overrides,
    )


@pytest.fixture
async def toy(spec: ServiceSpec, db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app(spec, settings_for(db_url), InMemoryBroker())
    try:
        async with running(app) as client:
            yield client
    finally:
        await drop_database(db_url)


async def written(client: httpx.AsyncClient) -> list[str]:
    """Texts of the notes written by requests (not the echoes the toy's consumer adds)."""
    return [n["text"] for n in (await client.get("/api/v1/notes")).json() if not n["from_event"]]


async def test_a_retry_sent_as_soon_as_the_answer_arrives_gets_it_again(
    spec: ServiceSpec, db_url: str
) -> None:
    """Over real HTTP: the answer must be committed before it is sent, so a client that got it
    and retries at once gets a replay, never 409 request_in_progress."""
    app = create_service_app(spec, settings_for(db_url), InMemoryBroker())
    try:
        async with serving(app) as url, httpx.AsyncClient(base_url=url, headers=ADMIN) as client:
            for i in range(3):
                key = {"Idempotency-Key": f"at-once-{i}"}
                body = {"text": f"at once {i}"}
                first = await client.post("/api/v1/slow-tail-notes", json=body, headers=key)
                again = await client.post("/api/v1/slow-tail-notes", json=body, headers=key)
                assert first.status_code == 201, first.text
                assert (again.status_code, again.json()) == (201, first.json()), again.text
                assert again.headers["idempotent-replayed"] == "true"
                assert "idempotent-replayed" not in first.headers
            assert await written(client) == [f"at once {i}" for i in range(3)]
    finally:
        await drop_database(db_url)


async def test_thirty_concurrent_creates_with_one_key_make_one_note_and_one_answer(toy) -> None:
    key = {"Idempotency-Key": "burst-of-thirty"}
    answers = await asyncio.gather(
        *(toy.post("/api/v1/notes", json={"text": "once"}, headers=key) for _ in range(30))
    )
    # Every twin waits for the first attempt to commit (well within the wait bound here),
    # then replays its answer.
    assert [r.status_code for r in answers] == [201] * 30, [r.text for r in answers]
    assert len({r.content for r in answers}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in answers) == 29
    assert await written(toy) == ["once"]


async def test_an_answer_lost_on_its_way_out_is_replayed_whole_and_nothing_is_done_twice(
    spec: ServiceSpec, db_url: str
) -> None:
    """The process dies (here: the task is cancelled) after the route has returned, while the
    answer is being sent: the retry must get that answer, not do the work again."""
    app = create_service_app(spec, settings_for(db_url), InMemoryBroker())
    die_on_send = True

    async def dying(scope: Any, receive: Any, send: Any) -> None:
        async def send_or_die(message: Any) -> None:
            if die_on_send and message["type"] == "http.response.start":
                raise asyncio.CancelledError
            await send(message)

        await app(scope, receive, send_or_die)

    try:
        async with running(app) as client:
            lost = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=dying), base_url="http://t", headers=ADMIN
            )
            key = {"Idempotency-Key": "answer-lost"}
            with pytest.raises(asyncio.CancelledError):
                await lost.post("/api/v1/notes", json={"text": "lost"}, headers=key)
            die_on_send = False
            retry = await client.post("/api/v1/notes", json={"text": "lost"}, headers=key)
            assert retry.status_code == 201, retry.text
            assert retry.headers["idempotent-replayed"] == "true"
            assert retry.json()["text"] == "lost" and isinstance(retry.json()["id"], int)
            assert await written(client) == ["lost"]
    finally:
        await drop_database(db_url)


async def test_a_500_after_the_route_committed_leaves_no_effect_and_no_key(
    spec: ServiceSpec, db_url: str
) -> None:
    app = create_service_app(spec, settings_for(db_url), InMemoryBroker())
    try:
        async with (
            running(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                base_url="http://t",
                headers=ADMIN,
            ) as client,
        ):
            key = {"Idempotency-Key": "fails-late"}
            failed = await client.post("/api/v1/fragile-notes", json={"text": "half"}, headers=key)
            assert failed.status_code == 500
            assert failed.json()["code"] == "internal_error"
            assert await written(client) == []
            # Not an answer worth repeating: the same key may be tried again for real.
            again = await client.post("/api/v1/fragile-notes", json={"text": "half"}, headers=key)
            assert again.status_code == 500 and "idempotent-replayed" not in again.headers
            assert await written(client) == []
    finally:
        await drop_database(db_url)


async def test_the_same_json_spelled_differently_is_the_same_request(toy) -> None:
    key = {"Idempotency-Key": "spelling", "Content-Type": "application/json"}
    first = await toy.post("/api/v1/notes", content=b'{"text":"caf\\u00e9","x":[1,2]}', headers=key)
    assert first.status_code == 201, first.text
    for spelling in (
        b'{ "x" : [1, 2],\n  "text" : "caf\xc3\xa9" }',
        b'{"x":[1,2],"text":"caf\\u00e9"}',
    ):
        again = await toy.post("/api/v1/notes", content=spelling, headers=key)
        assert (again.status_code, again.json()) == (201, first.json()), again.text
        assert again.headers["idempotent-replayed"] == "true"
    other = await toy.post("/api/v1/notes", content=b'{"text":"cafe","x":[1,2]}', headers=key)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert await written(toy) == ["café"]


async def test_a_key_belongs_to_its_caller_and_endpoint(toy) -> None:
    """Another client sending the same key and body runs its own request and never receives
    the first one's answer; the same key on another endpoint is another key."""
    key = {"Idempotency-Key": "shared-by-chance"}
    first = await toy.post("/api/v1/notes", json={"text": "mine"}, headers=key)
    assert first.status_code == 201, first.text
    partner = Principal(id="partner:other", kind=Kind.PARTNER, channel="other")
    theirs = await toy.post(
        "/api/v1/notes", json={"text": "mine"}, headers=key | principal_headers(partner)
    )
    assert theirs.status_code == 201, theirs.text
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["id"] != first.json()["id"]
    elsewhere = await toy.post("/api/v1/slow-tail-notes", json={"text": "mine"}, headers=key)
    assert elsewhere.status_code == 201 and "idempotent-replayed" not in elsewhere.headers
    replay = await toy.post("/api/v1/notes", json={"text": "mine"}, headers=key)
    assert replay.json() == first.json() and replay.headers["idempotent-replayed"] == "true"
    assert await written(toy) == ["mine", "mine", "mine"]


@pytest.mark.parametrize(
    "key", ["", "x" * 256, "tab\there", b"caf\xe9"], ids=["empty", "long", "control", "latin1"]
)
async def test_an_idempotency_key_outside_its_limits_is_refused(toy, key: str | bytes) -> None:
    r = await toy.post("/api/v1/notes", json={"text": "a"}, headers={"Idempotency-Key": key})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "invalid_idempotency_key"
    longest = await toy.post(
        "/api/v1/notes", json={"text": "a"}, headers={"Idempotency-Key": "~" * 255}
    )
    assert longest.status_code == 201
    assert await written(toy) == ["a"]


async def test_an_event_staged_by_an_idempotent_post_is_relayed_at_its_commit(
    spec: ServiceSpec, db_url: str
) -> None:
    """The relay is woken by the request's real commit (not by the route's own commit, which
    is a savepoint inside it): with the poll far away, the event still arrives at once."""
    app = create_service_app(spec, settings_for(db_url, outbox_poll_seconds=60), InMemoryBroker())
    try:
        async with running(app) as client:
            await asyncio.sleep(0.2)  # let the relay's first (empty) round pass
            for i in range(3):
                r = await client.post(
                    "/api/v1/notes", json={"text": f"n{i}"}, headers={"Idempotency-Key": f"k{i}"}
                )
                assert r.status_code == 201
                echoes = await eventually(
                    lambda: client.get("/api/v1/notes"),
                    lambda r: f"echo:n{i}" in [n["text"] for n in r.json()],  # noqa: B023
                    timeout=5,
                )
                assert echoes.status_code == 200
    finally:
        await drop_database(db_url)


async def test_a_body_over_the_limit_gets_413_and_a_slow_body_408_writing_nothing(
    spec: ServiceSpec, db_url: str
) -> None:
    settings = settings_for(db_url, max_body_bytes=1000, body_read_timeout_seconds=0.3)
    try:
        async with running(create_service_app(spec, settings, InMemoryBroker())) as client:
            big = {"text": "a", "padding": "x" * 2000}
            for headers in ({}, {"Idempotency-Key": "too-big"}):
                r = await client.post("/api/v1/notes", json=big, headers=headers)
                assert r.status_code == 413, r.text
                assert r.headers["content-type"] == "application/problem+json"
                assert r.json()["code"] == "request_too_large"

            async def streamed(chunks: int, pause: float) -> AsyncIterator[bytes]:
                yield b'{"text": "a", "padding": "'
                for _ in range(chunks):
                    await asyncio.sleep(pause)
                    yield b"x" * 100
                yield b'"}'

            # No Content-Length: the limit holds while the body streams in.
            chunked = await client.post(
                "/api/v1/notes", content=streamed(20, 0), headers={"Idempotency-Key": "too-big"}
            )
            assert chunked.status_code == 413 and chunked.json()["code"] == "request_too_large"
            slow = await client.post(
                "/api/v1/notes", content=streamed(3, 0.5), headers={"Idempotency-Key": "slow"}
            )
            assert slow.status_code == 408, slow.text
            assert slow.json()["code"] == "request_body_timeout"
            assert await written(client) == []
            # Neither left its key behind: the keys are free for a proper request.
            for key in ("too-big", "slow"):
                ok = await client.post(
                    "/api/v1/notes", json={"text": key}, headers={"Idempotency-Key": key}
                )
                assert ok.status_code == 201 and "idempotent-replayed" not in ok.headers
            assert await written(client) == ["too-big", "slow"]
    finally:
        await drop_database(db_url)


async def test_a_twin_waits_for_the_first_attempt_then_replays_it(toy) -> None:
    key = {"Idempotency-Key": "twins"}
    GATES["twin"], ENTERED["twin"] = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(toy.post("/api/v1/gated-notes", json={"text": "twin"}, headers=key))
    await asyncio.wait_for(ENTERED["twin"].wait(), timeout=10)
    twin = asyncio.create_task(toy.post("/api/v1/gated-notes", json={"text": "twin"}, headers=key))
    await asyncio.sleep(0.1)
    assert not twin.done()  # it waits for the first attempt, it does not run the route
    GATES["twin"].set()
    answers = await asyncio.gather(first, twin)
    assert [r.status_code for r in answers] == [201, 201]
    assert answers[1].json() == answers[0].json()
    assert answers[1].headers["idempotent-replayed"] == "true"
    assert await written(toy) == ["twin"]


async def test_on_postgresql_a_twin_waits_at_most_the_configured_time_then_gets_409(
    spec: ServiceSpec, pg_url: str
) -> None:
    settings = settings_for(pg_url, idempotency_wait_seconds=0.3)
    GATES["long"], ENTERED["long"] = asyncio.Event(), asyncio.Event()
    try:
        async with running(create_service_app(spec, settings, InMemoryBroker())) as client:
            key = {"Idempotency-Key": "long-running"}
            body = {"text": "long"}
            first = asyncio.create_task(client.post("/api/v1/gated-notes", json=body, headers=key))
            await asyncio.wait_for(ENTERED["long"].wait(), timeout=10)
            busy = await client.post("/api/v1/gated-notes", json=body, headers=key)
            assert busy.status_code == 409, busy.text
            assert busy.json()["code"] == "request_in_progress"
            GATES["long"].set()
            assert (await first).status_code == 201
            later = await client.post("/api/v1/gated-notes", json=body, headers=key)
            assert (later.status_code, later.json()) == (201, (await first).json())
            assert await written(client) == ["long"]
    finally:
        await drop_database(pg_url)


async def test_a_key_left_without_an_answer_is_taken_over_by_one_retry_only(
    spec: ServiceSpec, db_url: str
) -> None:
    """A row an earlier version left half-done (claimed, never answered) is taken over
    conditionally: of many concurrent retries, one does the work, the others replay it."""
    app = create_service_app(spec, settings_for(db_url), InMemoryBroker())
    try:
        async with running(app) as client:
            probe = await client.post(
                "/api/v1/notes", json={"text": "left"}, headers={"Idempotency-Key": "probe"}
            )
            assert probe.status_code == 201

            def stored(key: bytes) -> str:
                return stored_key(TEST_ADMIN.id, "POST", "/api/v1/notes", key)

            async with app.state.runtime.engine.begin() as conn:
                fingerprint = await conn.scalar(
                    text("SELECT fingerprint FROM idempotency_keys WHERE key = :k"),
                    {"k": stored(b"probe")},
                )
                await conn.execute(
                    text(
                        "INSERT INTO idempotency_keys (key, fingerprint, created_at) "
                        "VALUES (:k, :f, :t)"
                    ),
                    {
                        "k": stored(b"abandoned"),
                        "f": fingerprint,
                        "t": datetime(2000, 1, 1, tzinfo=UTC),
                    },
                )
            key = {"Idempotency-Key": "abandoned"}
            answers = await asyncio.gather(
                *(
                    client.post("/api/v1/notes", json={"text": "left"}, headers=key)
                    for _ in range(10)
                )
            )
            assert [r.status_code for r in answers] == [201] * 10, [r.text for r in answers]
            assert len({r.json()["id"] for r in answers}) == 1
            assert await written(client) == ["left", "left"]  # the probe's and one retry's
    finally:
        await drop_database(db_url)


async def test_every_post_documents_the_idempotency_key_and_its_answers(toy) -> None:
    doc = (await toy.get("/openapi.json")).json()
    posts = [(path, item["post"]) for path, item in doc["paths"].items() if "post" in item]
    assert len(posts) >= 4
    for path, op in posts:
        [param] = [p for p in op.get("parameters", []) if p["name"] == "Idempotency-Key"]
        assert param["in"] == "header" and param["required"] is False, path
        assert param["schema"]["maxLength"] == 255 and param["schema"]["minLength"] == 1
        assert param["schema"]["pattern"] == "^[\\x20-\\x7e]+$"
        for status in ("400", "408", "409", "413", "422", "503"):
            assert status in op["responses"], (path, status)
        assert "idempotency_key_reused" in op["responses"]["422"]["description"]
        assert "request_in_progress" in op["responses"]["409"]["description"]
        answers = [s for s in op["responses"] if s.startswith("2")]
        for status in answers:
            assert "Idempotent-Replayed" in op["responses"][status]["headers"], (path, status)
    assert "Problem" in doc["components"]["schemas"]
