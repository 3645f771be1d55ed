"""hotel_common.text: request text without control characters, and the guard that keeps them
out of paths and query strings for every service built by the factory."""

import re
from typing import Annotated

import pytest
from fastapi import FastAPI
from hotel_common.db import drop_database
from hotel_common.events.memory import InMemoryBroker
from hotel_common.service import ServiceSpec, create_service_app
from hotel_common.settings import ServiceSettings
from hotel_common.testing import running
from hotel_common.text import SINGLE_LINE, MultilineText, Text, document_control_characters
from pydantic import BaseModel, Field, StringConstraints, ValidationError


class Form(BaseModel):
    name: Text = Field(min_length=1, max_length=5)
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z]+$"), SINGLE_LINE] = "A"
    note: MultilineText | None = None


@pytest.mark.parametrize(
    "bad",
    ["A\u0000B", "A\u0007B", "A\u009bB", "A\u007fB", "A\nB", "A\tB", "A\u2028B", "A\ud800B"],
)
def test_one_line_text_refuses_control_characters(bad: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Form(name=bad)
    [error] = raised.value.errors()
    assert (error["loc"], error["type"]) == (("name",), "control_characters")


def test_one_line_text_is_trimmed_and_normalised_before_its_limits() -> None:
    assert Form(name="  Zoe\u0308 ").name == "Zo\u00eb"  # NFC: one code point
    assert Form(name=" abcde ").name == "abcde"  # the limit applies to the trimmed value
    with pytest.raises(ValidationError) as raised:
        Form(name="   ")
    assert raised.value.errors()[0]["type"] == "string_too_short"
    with pytest.raises(ValidationError) as raised:
        Form(name="ok", code="A\u0000")
    assert raised.value.errors()[0]["type"] == "control_characters"


def test_multi_line_text_keeps_line_breaks_and_tabs_only() -> None:
    assert Form(name="x", note=" a\r\nb\rc\n\td ").note == "a\nb\nc\n\td"
    for bad in ("a\u0000", "a\u000bb", "a\u0085b", "a\u001bb"):
        with pytest.raises(ValidationError):
            Form(name="x", note=bad)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def toy_client(request: pytest.FixtureRequest, toy_spec: ServiceSpec, sqlite_url, pg_url):
    url = sqlite_url if request.param == "sqlite" else pg_url
    settings = ServiceSettings(service_name="toy-service", database_url=url, log_json=False)
    try:
        async with running(create_service_app(toy_spec, settings, InMemoryBroker())) as client:
            yield client
    finally:
        await drop_database(url)


@pytest.mark.parametrize(
    ("target", "field"),
    [
        ("/api/v1/notes?text=a%00b", "query.text"),
        ("/api/v1/notes?a=1&text=%07", "query.text"),
        ("/api/v1/notes?text=%C2%9B", "query.text"),  # U+009B, C1 CSI
        ("/api/v1/notes?te%00xt=a", "query"),
        ("/api/v1/notes%00", "path"),
    ],
)
async def test_control_characters_in_path_or_query_are_422_problems(toy_client, target, field):
    response = await toy_client.get(target, headers={"X-Request-ID": "req-14"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-14"
    body = response.json()
    assert (body["code"], body["request_id"]) == ("validation_error", "req-14")
    assert body["errors"] == [
        {
            "field": field,
            "message": "may not contain control characters",
            "type": "control_characters",
        }
    ]
    # Nothing reached the route: a POST with the same query writes nothing either.
    posted = await toy_client.post(target, json={"text": "never"})
    assert posted.status_code == 422
    assert (await toy_client.get("/api/v1/notes")).json() == []


async def test_ordinary_queries_pass_the_guard(toy_client) -> None:
    response = await toy_client.get("/api/v1/notes?text=caf%C3%A9+au+lait&x=%E4%BD%A0%FF")
    # Past the guard; the route declares neither parameter, so the strict rule names both.
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert {(e["field"], e["type"]) for e in errors} == {
        ("query.text", "extra_forbidden"),
        ("query.x", "extra_forbidden"),
    }


def test_the_document_states_the_characters_text_refuses() -> None:
    """What the schema allows is what the API takes: the control-character rule is in the
    document, for body fields and for path and query parameters."""
    app = FastAPI()

    class Remark(BaseModel):
        line: Text = Field(max_length=20)
        note: MultilineText | None = None

    @app.post("/remarks/{code}")
    async def remark(code: str, body: Remark, tag: str | None = None) -> None: ...

    doc = document_control_characters(app.openapi())
    fields = doc["components"]["schemas"]["Remark"]["properties"]
    note = next(s for s in fields["note"]["anyOf"] if s["type"] == "string")
    for schema, allowed, refused in [
        (fields["line"], "café au lait", "bell\x07"),
        (note, "two\nlines\tand a tab", "nul\x00"),
    ]:
        assert re.fullmatch(schema["pattern"], allowed)
        assert not re.fullmatch(schema["pattern"], refused)
    params = {p["name"]: p["schema"] for p in doc["paths"]["/remarks/{code}"]["post"]["parameters"]}
    tag = next(s for s in params["tag"]["anyOf"] if s["type"] == "string")
    for schema in (params["code"], tag):
        assert not re.fullmatch(schema["pattern"], "esc\x1b[0m")
