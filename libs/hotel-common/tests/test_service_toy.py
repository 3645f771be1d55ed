"""The shared library as a service uses it: outbox, idempotent consumer, Idempotency-Key,
problem+json errors, request ids, health - on SQLite and on PostgreSQL."""

import asyncio
import json

import pytest
from hotel_common.db import drop_database
from hotel_common.events.envelope import Envelope
from hotel_common.events.memory import InMemoryBroker
from hotel_common.logging import JsonFormatter
from hotel_common.service import ServiceSpec, create_service_app
from hotel_common.settings import ServiceSettings
from hotel_common.testing import eventually, running
from httpx import AsyncClient


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, sqlite_url: str, pg_url: str) -> str:
    return sqlite_url if request.param == "sqlite" else pg_url


@pytest.fixture
async def toy(toy_spec: ServiceSpec, db_url: str):
    broker = InMemoryBroker()
    settings = ServiceSettings(
        service_name="toy-service", database_url=db_url, retry_delays=[0.01, 0.02], log_json=False
    )
    app = create_service_app(toy_spec, settings, broker)
    async with running(app) as client:
        yield client, broker, app
    await drop_database(db_url)


async def notes(client: AsyncClient) -> list[dict]:
    return (await client.get("/api/v1/notes")).json()


async def test_state_change_and_its_event_commit_together_and_are_handled_once(toy) -> None:
    client, _, _ = toy
    r = await client.post("/api/v1/notes", json={"text": "hello"})
    assert r.status_code == 201
    rows = await eventually(lambda: notes(client), lambda n: len(n) == 2)
    assert [n["text"] for n in rows] == ["hello", "echo:hello"]


async def test_events_written_while_the_broker_is_down_arrive_when_it_is_back(toy) -> None:
    client, broker, app = toy
    broker.up = False
    r = await client.post("/api/v1/notes", json={"text": "queued"})
    assert r.status_code == 201  # the business change does not wait for the broker
    await asyncio.sleep(0.1)
    assert [n["text"] for n in await notes(client)] == ["queued"]
    assert (await client.get("/admin/outbox")).json()["pending"] == 1
    assert (await client.get("/health/ready")).status_code == 503

    broker.up = True
    app.state.runtime.relay.wake()
    rows = await eventually(lambda: notes(client), lambda n: len(n) == 2)
    assert rows[1]["text"] == "echo:queued"
    assert (await client.get("/admin/outbox")).json()["pending"] == 0


async def test_the_same_event_delivered_twice_takes_effect_once(toy) -> None:
    client, broker, _ = toy
    await client.post("/api/v1/notes", json={"text": "once"})
    rows = await eventually(lambda: notes(client), lambda n: len(n) == 2)
    event_id = rows[1]["from_event"]
    queue = broker.queues["toy-service"]
    again = Envelope.model_validate(
        {"id": event_id, "type": "toy.note_written", "source": "t", "payload": {"text": "once"}}
    )
    queue.messages.put_nowait((again, 0))
    queue.messages.put_nowait((again, 0))
    marker = Envelope.model_validate(  # one consumer, in order: handled after the copies
        {"type": "toy.note_written", "source": "t", "payload": {"text": "marker"}}
    )
    queue.messages.put_nowait((marker, 0))
    rows = await eventually(lambda: notes(client), lambda n: len(n) == 3)
    assert [n["text"] for n in rows] == ["once", "echo:once", "echo:marker"]


async def test_a_poison_event_is_parked_after_its_retries_and_the_rest_flows(toy) -> None:
    client, _, _ = toy
    await client.post("/api/v1/notes", json={"text": "poison pill"})
    await client.post("/api/v1/notes", json={"text": "fine"})
    parked = await eventually(
        lambda: client.get("/admin/dead-letters"), lambda r: len(r.json()["items"]) == 1
    )
    assert parked.json()["items"][0]["envelope"]["payload"] == {"text": "poison pill"}
    texts = [n["text"] for n in await notes(client)]
    assert "echo:fine" in texts and "echo:poison pill" not in texts


async def test_dead_letters_page_and_replay_one_or_a_selection_over_http(toy) -> None:
    client, _, _ = toy
    for n in range(4):
        await client.post("/api/v1/notes", json={"text": f"poison {n}"})
    listed = await eventually(
        lambda: client.get("/admin/dead-letters", params={"limit": 50}),
        lambda r: len(r.json()["items"]) == 4,
    )
    dead = listed.json()["items"]
    ids = [d["id"] for d in dead]
    assert dead[0]["attempts"] == 3 and dead[0]["error_type"] == "RuntimeError"
    assert dead[0]["handler"] == "toy.echo_note" and dead[0]["service"] == "toy-service"
    first = (await client.get("/admin/dead-letters", params={"limit": 3})).json()
    assert [d["id"] for d in first["items"]] == ids[:3] and first["next_cursor"]
    rest = await client.get("/admin/dead-letters", params={"cursor": first["next_cursor"]})
    assert [d["id"] for d in rest.json()["items"]] == ids[3:] and rest.json()["next_cursor"] is None

    one = await client.post(f"/admin/dead-letters/{ids[1]}/replay")
    assert one.status_code == 200 and one.json() == {"replayed": [ids[1]], "not_found": []}
    missing = await client.post(f"/admin/dead-letters/{ids[1]}/replay")
    assert missing.status_code == 404 and missing.json()["code"] == "dead_letter_not_found"
    some = await client.post("/admin/dead-letters/replay", json={"ids": [ids[0], "nope"]})
    assert some.json() == {"replayed": [ids[0]], "not_found": ["nope"]}
    for bad in ({}, {"ids": [ids[2]], "all": True}, {"ids": []}):
        refused = await client.post("/admin/dead-letters/replay", json=bad)
        assert refused.status_code == 422, bad
        assert refused.headers["content-type"].startswith("application/problem+json")
    bad_cursor = await client.get("/admin/dead-letters", params={"cursor": "!!"})
    assert bad_cursor.status_code == 400 and bad_cursor.json()["code"] == "invalid_cursor"
    # The poison fails again and is parked again: replayed, never lost.
    await eventually(
        lambda: client.get("/admin/dead-letters"), lambda r: len(r.json()["items"]) == 4
    )
    everything = await client.post("/admin/dead-letters/replay", json={"all": True})
    assert sorted(everything.json()["replayed"]) == sorted(ids)


async def test_idempotency_key_replays_the_first_answer_and_rejects_a_changed_body(toy) -> None:
    client, _, _ = toy
    key = {"Idempotency-Key": "note-1"}
    first = await client.post("/api/v1/notes", json={"text": "a"}, headers=key)
    again = await client.post("/api/v1/notes", json={"text": "a"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    changed = await client.post("/api/v1/notes", json={"text": "b"}, headers=key)
    assert changed.status_code == 422
    assert changed.json()["code"] == "idempotency_key_reused"
    assert [n["text"] for n in await notes(client) if not n["from_event"]] == ["a"]


async def test_concurrent_retries_with_one_key_create_one_thing(toy) -> None:
    client, _, _ = toy
    key = {"Idempotency-Key": "burst"}
    answers = await asyncio.gather(
        *(client.post("/api/v1/notes", json={"text": "x"}, headers=key) for _ in range(8))
    )
    assert {r.status_code for r in answers} <= {201, 409}
    assert len([n for n in await notes(client) if not n["from_event"]]) == 1


async def test_bad_input_is_problem_json_with_field_paths_and_writes_nothing(toy) -> None:
    client, _, _ = toy
    r = await client.post("/api/v1/notes", json={"text": ""})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["field"] == "body.text"
    missing = await client.get("/api/v1/nowhere")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    assert await notes(client) == []


async def test_request_id_is_echoed_or_made(toy) -> None:
    client, _, _ = toy
    given = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/health/live")
    assert len(made.headers["x-request-id"]) == 36
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "bus": "ok", "outbox": "ok"}


async def test_published_events_are_kept_for_their_retention_then_purged(
    toy_spec: ServiceSpec, sqlite_url: str
) -> None:
    settings = ServiceSettings(
        service_name="toy-service",
        database_url=sqlite_url,
        published_events_retention_hours=0.0002,  # 0.72 s
        retention_interval_seconds=0.1,
        log_json=False,
    )
    async with running(create_service_app(toy_spec, settings, InMemoryBroker())) as client:
        await client.post("/api/v1/notes", json={"text": "kept a while"})
        kept = await eventually(
            lambda: client.get("/admin/outbox"), lambda r: r.json()["kept"] == 1, timeout=5
        )
        assert kept.json()["pending"] == 0
        await eventually(
            lambda: client.get("/admin/outbox"), lambda r: r.json()["kept"] == 0, timeout=5
        )


async def test_idempotency_keys_expire_after_their_retention(
    toy_spec: ServiceSpec, sqlite_url: str
) -> None:
    settings = ServiceSettings(
        service_name="toy-service",
        database_url=sqlite_url,
        idempotency_key_retention_hours=0.0001,  # 0.36 s
        retention_interval_seconds=0.1,
        log_json=False,
    )
    async with running(create_service_app(toy_spec, settings, InMemoryBroker())) as client:
        key = {"Idempotency-Key": "short-lived"}
        assert (
            await client.post("/api/v1/notes", json={"text": "a"}, headers=key)
        ).status_code == 201
        reused = await client.post("/api/v1/notes", json={"text": "b"}, headers=key)
        assert reused.status_code == 422  # still remembered
        # Once its retention has passed, the key is forgotten: the same key is a new request.
        fresh = await eventually(
            lambda: client.post("/api/v1/notes", json={"text": "b"}, headers=key),
            lambda r: r.status_code == 201,
            timeout=5,
            interval=0.2,
        )
        assert fresh.json()["text"] == "b"


async def test_logs_are_json_lines_with_the_request_and_correlation_ids(
    toy, caplog: pytest.LogCaptureFixture
) -> None:
    client, _, _ = toy
    caplog.set_level("INFO")
    headers = {"X-Request-ID": "req-42", "X-Correlation-ID": "booking-flow-9"}
    await client.post("/api/v1/notes", json={"text": "logged"}, headers=headers)
    [access] = [r for r in caplog.records if r.name == "hotel.access"]
    line = json.loads(JsonFormatter("toy-service").format(access))
    assert line["request_id"] == "req-42"
    assert line["correlation_id"] == "booking-flow-9"
    assert line["service"] == "toy-service"
    assert (line["method"], line["path"], line["status"]) == ("POST", "/api/v1/notes", 201)


async def test_the_document_names_the_problems_any_operation_of_its_shape_may_answer(toy) -> None:
    client, _, _ = toy
    doc = (await client.get("/openapi.json")).json()
    listing, creating = doc["paths"]["/api/v1/notes"]["get"], doc["paths"]["/api/v1/notes"]["post"]
    assert {"401", "503"} <= set(listing["responses"]) and "400" not in listing["responses"]
    assert "bad_request" in creating["responses"]["400"]["description"]
    outbox = doc["paths"]["/admin/outbox"]["get"]["responses"]
    assert "invalid_cursor" in outbox["400"]["description"]
    assert "401" not in doc["paths"]["/health/live"]["get"]["responses"]
    # What an unreadable body is answered with is what the document says.
    bad = await client.post(
        "/api/v1/notes", content=b'{"text": "\xff"}', headers={"content-type": "application/json"}
    )
    assert bad.status_code == 400 and bad.json()["code"] == "bad_request"
    bare = await client.get("/api/v1/notes", headers={"x-principal": ""})
    assert bare.status_code == 401
