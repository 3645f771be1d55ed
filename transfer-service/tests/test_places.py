"""Places and the travel-time table, over HTTP on SQLite and PostgreSQL; and how the scheduler
finds a place from an event's text and the minutes between two places (`places.resolve`,
`places.travel_minutes`, the in-memory `Atlas`), read from what staff entered."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hotel_common.db import create_engine, create_session_factory, drop_database
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import principal_headers, scratch_url
from transfer_service import places

from .conftest import Service, serve


@dataclass
class World:
    service: Service
    url: str

    @property
    def client(self) -> Any:
        return self.service.client

    async def place(self, code: str, name: str, kind: str = "airport", **extra: Any) -> dict:
        made = await self.client.post(
            "/api/v1/places", json={"code": code, "name": name, "kind": kind, **extra}
        )
        assert made.status_code == 201, made.text
        return dict(made.json())

    async def minutes(self, a: dict, b: dict, minutes: int) -> Any:
        return await self.client.put(
            f"/api/v1/travel-times/{a['id']}/{b['id']}", json={"minutes": minutes}
        )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    url = scratch_url(request.param, tmp_path, "places")
    try:
        async with serve(url) as service:
            yield World(service, url)
    finally:
        if request.param == "postgresql":
            await drop_database(url)


def staff(role: Role) -> dict[str, str]:
    return principal_headers(Principal(id="staff:3", kind=Kind.STAFF, roles=[role]))


async def test_a_place_is_added_with_its_code_upper_case_and_aliases_cleaned(
    world: World,
) -> None:
    made = await world.client.post(
        "/api/v1/places",
        json={
            "code": " pvg ",
            "name": " Shanghai Pudong International Airport ",
            "kind": "airport",
            "aliases": ["Pudong  Airport", "pudong airport", "浦东机场"],
        },
    )

    assert made.status_code == 201, made.text
    place = made.json()
    assert place["code"] == "PVG"
    assert place["name"] == "Shanghai Pudong International Airport"
    assert place["aliases"] == ["Pudong Airport", "浦东机场"]
    assert (await world.client.get(f"/api/v1/places/{place['id']}")).json() == place
    listed = await world.client.get("/api/v1/places", params={"kind": "airport"})
    assert listed.json() == {"items": [place], "next_cursor": None}
    assert (await world.client.get("/api/v1/places", params={"kind": "station"})).json()[
        "items"
    ] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": ""}, "body.code"),
        ({"code": "P V G"}, "body.code"),
        ({"code": "X" * 21}, "body.code"),
        ({"name": "  "}, "body.name"),
        ({"kind": "harbour"}, "body.kind"),
        ({"aliases": [""]}, "body.aliases"),
        ({"aliases": "PVG"}, "body.aliases"),
        ({"aliases": [f"a{i}" for i in range(21)]}, "body.aliases"),
        ({"timezone": "Asia/Shanghai"}, "body.timezone"),
    ],
)
async def test_a_bad_place_is_refused_and_nothing_written(
    world: World, change: dict[str, Any], field: str
) -> None:
    body = {"code": "PVG", "name": "Pudong", "kind": "airport"} | change

    refused = await world.client.post("/api/v1/places", json=body)

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert any(e["field"].startswith(field) for e in refused.json()["errors"]), refused.json()
    assert (await world.client.get("/api/v1/places")).json()["items"] == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"code": "pvg", "name": "Another"}, "place_code_taken"),
        ({"code": "PD", "name": "pudong  AIRPORT"}, "place_name_taken"),  # the other's alias
        ({"code": "PD", "name": "Other", "aliases": ["PVG"]}, "place_name_taken"),  # its code
        ({"code": "PD", "name": "Other", "aliases": ["Shanghai Pudong"]}, "place_name_taken"),
    ],
)
async def test_a_spelling_names_one_place_only(
    world: World, body: dict[str, Any], code: str
) -> None:
    first = await world.place("PVG", "Shanghai Pudong", aliases=["Pudong Airport"])

    refused = await world.client.post("/api/v1/places", json={"kind": "airport"} | body)

    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == code
    assert refused.json()["place_id"] == first["id"]
    assert len((await world.client.get("/api/v1/places")).json()["items"]) == 1


async def test_patch_replaces_the_fields_given(world: World) -> None:
    place = await world.place("HQ", "Hongqiao", "station", aliases=["虹桥站"])
    other = await world.place("PVG", "Pudong")
    path = f"/api/v1/places/{place['id']}"

    patched = await world.client.patch(
        path, json={"code": "shhq", "aliases": ["Hongqiao Railway Station"]}
    )

    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["code"], body["name"], body["kind"]) == ("SHHQ", "Hongqiao", "station")
    assert body["aliases"] == ["Hongqiao Railway Station"]
    assert body["updated_at"] >= place["updated_at"]
    clash = await world.client.patch(path, json={"aliases": ["pudong"]})
    assert clash.status_code == 409 and clash.json()["place_id"] == other["id"]
    missing = await world.client.patch("/api/v1/places/999", json={"name": "X"})
    assert missing.status_code == 404 and missing.json()["code"] == "place_not_found"
    assert (await world.client.get(path)).json() == body


async def test_travel_times_are_set_changed_listed_and_removed(world: World) -> None:
    pvg = await world.place("PVG", "Pudong")
    hotel = await world.place("HOTEL", "Harbour View Hotel", "property")
    sha = await world.place("SHA", "Hongqiao Airport")

    first = await world.minutes(pvg, hotel, 55)
    again = await world.minutes(pvg, hotel, 65)
    await world.minutes(sha, hotel, 35)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() | {"updated_at": None} == {
        "from_place_id": pvg["id"],
        "from_code": "PVG",
        "to_place_id": hotel["id"],
        "to_code": "HOTEL",
        "minutes": 65,
        "updated_at": None,
    }
    listed = (await world.client.get("/api/v1/travel-times")).json()["items"]
    assert [(t["from_code"], t["to_code"], t["minutes"]) for t in listed] == [
        ("PVG", "HOTEL", 65),
        ("SHA", "HOTEL", 35),
    ]
    of_sha = await world.client.get("/api/v1/travel-times", params={"place_id": sha["id"]})
    assert [t["from_code"] for t in of_sha.json()["items"]] == ["SHA"]

    removed = await world.client.delete(f"/api/v1/travel-times/{pvg['id']}/{hotel['id']}")
    assert removed.status_code == 200 and removed.json()["minutes"] == 65
    gone = await world.client.delete(f"/api/v1/travel-times/{pvg['id']}/{hotel['id']}")
    assert gone.status_code == 404 and gone.json()["code"] == "travel_time_not_found"
    left = (await world.client.get("/api/v1/travel-times")).json()["items"]
    assert [t["from_code"] for t in left] == ["SHA"]


@pytest.mark.parametrize(
    ("pair", "minutes", "status", "code"),
    [
        ("same", 10, 422, "same_place"),
        ("unknown", 10, 404, "place_not_found"),
        ("ok", 0, 422, "validation_error"),
        ("ok", 721, 422, "validation_error"),
    ],
)
async def test_a_bad_travel_time_is_refused(
    world: World, pair: str, minutes: int, status: int, code: str
) -> None:
    a = await world.place("A", "Alpha")
    b = {"same": a, "unknown": {"id": 999}, "ok": await world.place("B", "Beta")}[pair]

    refused = await world.minutes(a, b, minutes)

    assert refused.status_code == status, refused.text
    assert refused.json()["code"] == code
    assert (await world.client.get("/api/v1/travel-times")).json()["items"] == []


async def test_managers_keep_places_and_dispatch_reads_them(world: World) -> None:
    a = await world.place("A", "Alpha")
    b = await world.place("B", "Beta")

    for role, read, write in (
        (Role.DISPATCHER, 200, 403),
        (Role.MANAGER, 200, 201),
        (Role.FRONT_DESK, 403, 403),
    ):
        headers = staff(role)
        listed = await world.client.get("/api/v1/places", headers=headers)
        times = await world.client.get("/api/v1/travel-times", headers=headers)
        made = await world.client.post(
            "/api/v1/places",
            json={"code": f"X{role.value[:3].upper()}", "name": role.value, "kind": "other"},
            headers=headers,
        )
        put = await world.client.put(
            f"/api/v1/travel-times/{a['id']}/{b['id']}", json={"minutes": 9}, headers=headers
        )
        assert (listed.status_code, times.status_code) == (read, read), role
        assert made.status_code == write, role
        assert put.status_code in ((200, 201) if write == 201 else (write,)), role


async def test_the_scheduler_finds_places_and_minutes_as_staff_entered_them(
    world: World,
) -> None:
    pvg = await world.place("PVG", "Shanghai Pudong International Airport", aliases=["浦东机场"])
    sha = await world.place(
        "SHA", "Shanghai Hongqiao International Airport", aliases=["Shanghai Hongqiao"]
    )
    station = await world.place(
        "SHHQ", "Shanghai Hongqiao Railway Station", "station", aliases=["Hongqiao Station"]
    )
    hotel = await world.place("HARBOUR", "Harbour View Hotel", "property")
    await world.minutes(pvg, hotel, 55)
    await world.minutes(hotel, sha, 35)

    engine = create_engine(world.url)
    try:
        async with create_session_factory(engine)() as session:
            atlas = await places.Atlas.load(session)
            texts = {
                "PVG": pvg,
                " pvg ": pvg,
                "Shanghai  PUDONG International Airport": pvg,
                "ShanghaiPudongInternationalAirport": pvg,  # spacing ignored
                "Shanghai Pudong International Airport T2, arrivals exit 5": pvg,
                "浦东机场": pvg,
                "PVG T1": pvg,
                "Shanghai Hongqiao T2, arrivals exit 5": sha,
                "Shanghai Hongqiao Railway Station, exit 3": station,  # the longest spelling
                "hongqiao station": station,
                "Harbour View Hotel": hotel,
                "harbour": hotel,  # its code
                "Harbour View": hotel,  # its code, then more words
                "Harbourside Inn": None,  # no separator after the code
                "Harbour View Hot": hotel,  # (the code again: a cut name still starts with it)
                "View Hotel": None,  # a fragment of a name is no spelling
                "PVGX": None,  # no separator after the code
                "Bund Garden Hotel": None,
                "": None,
            }
            for text, expected in texts.items():
                found = await places.resolve(session, text)
                in_memory = atlas.resolve(text)
                want = None if expected is None else expected["id"]
                assert (found.id if found else None) == want, text
                assert (in_memory.id if in_memory else None) == want, text

            pairs = [
                (pvg, hotel, 55),
                (hotel, pvg, 55),  # the other direction falls back
                (sha, hotel, 35),
                (pvg, sha, 60),  # no row either way: the default
                (hotel, hotel, 0),
            ]
            for a, b, expected in pairs:
                assert await places.travel_minutes(session, a["id"], b["id"], 60) == expected
                assert atlas.minutes(a["id"], b["id"], 60) == expected
            assert await places.travel_minutes(session, None, hotel["id"], 45) == 45
            assert atlas.minutes(pvg["id"], None, 45) == 45
    finally:
        await engine.dispose()

    # A direction of its own overrides the fallback.
    await world.minutes(hotel, pvg, 70)
    engine = create_engine(world.url)
    try:
        async with create_session_factory(engine)() as session:
            atlas = await places.Atlas.load(session)
            assert atlas.minutes(hotel["id"], pvg["id"], 60) == 70
            assert atlas.minutes(pvg["id"], hotel["id"], 60) == 55
            assert await places.travel_minutes(session, hotel["id"], pvg["id"], 60) == 70
    finally:
        await engine.dispose()
