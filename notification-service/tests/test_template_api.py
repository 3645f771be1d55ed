"""Staff templates through the API: the list shows what serves each kind, channel and language
(the file, or an override); a preview renders the kind's sample; a saved override is what the
next guest receives (the real SMTP server's message), deleting it brings the file back; a bad
template is refused when saved (syntax, unknown variable, failing or sandbox-refused render)
and nothing is stored."""

import asyncio
from collections.abc import AsyncIterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from hotel_common.db import drop_database
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import MailServer, principal_headers, scratch_url
from notification_service.models import Kind as NoticeKind

from .conftest import Samples, Service, StartService

API = "/api/v1/notification-templates"
CONFIRMED_EN = f"{API}/reservation_confirmed/email/en"
OVERRIDE = {
    "subject": "Your room is ready for you: {{ confirmation_number }}",
    "body": "Hello {{ guest_name }},\n\nSee you on {{ check_in }} at {{ property_name }}.\n",
}


def staff(*roles: Role) -> dict[str, str]:
    return principal_headers(Principal(id="staff:t", kind=Kind.STAFF, roles=frozenset(roles)))


MANAGER = staff(Role.MANAGER)
MARKETING = staff(Role.MARKETING)


def file_text(language: str, name: str) -> str:
    return (files("notification_service") / "templates" / language / name).read_text()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.infra)])
async def svc(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    start_service: StartService,
    mail_server: MailServer,
) -> AsyncIterator[Service]:
    url = scratch_url(request.param, tmp_path, "notification_templates")
    try:
        async with start_service(database_url=url, smtp_url=mail_server.url) as service:
            yield service
    finally:
        if request.param == "postgresql":
            await drop_database(url)


async def put(svc: Service, path: str, body: dict[str, Any]) -> Any:
    return await svc.client.put(path, json=body, headers=MANAGER)


async def test_the_list_shows_every_file_default(svc: Service) -> None:
    response = await svc.client.get(API, params={"kind": "reservation_confirmed"})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert {(i["channel"], i["language"]) for i in items} == {
        (c, lang)
        for c in ("email", "inbox", "sms", "push")
        for lang in ("en", "zh-Hans", "zh-Hant")
    }
    assert {i["source"] for i in items} == {"file"}
    [sms] = [i for i in items if i["channel"] == "sms" and i["language"] == "zh-Hant"]
    assert sms["body"] == file_text("zh-Hant", "reservation_confirmed.short.txt")
    [email] = [i for i in items if i["channel"] == "email" and i["language"] == "en"]
    assert email["subject"] == file_text("en", "reservation_confirmed.txt").split("\n")[0]
    assert "confirmation_number" in email["variables"]
    every = (await svc.client.get(API, params={"channel": "push", "language": "en"})).json()
    assert len(every["items"]) == len(NoticeKind)


async def test_preview_renders_the_sample_per_channel(svc: Service) -> None:
    def preview(channel: str, **more: Any) -> Any:
        body = {"kind": "transfer_assigned", "channel": channel, "language": "zh-Hant", **more}
        return svc.client.post(f"{API}/preview", json=body, headers=MARKETING)

    email = (await preview("email")).json()
    assert "Wang Qiang" in email["body"] and email["html"].startswith("<!DOCTYPE html>")
    sms = (await preview("sms")).json()
    assert "司機Wang Qiang" in sms["body"] and sms["html"] is None
    assert len(sms["body"]) < len(email["body"])
    push = (await preview("push")).json()
    assert push["subject"] == email["subject"] and push["body"] == sms["body"]
    mine = (await preview("sms", variables={"driver_name": "Chen Jun"})).json()
    assert "司機Chen Jun" in mine["body"]
    unknown = await preview("sms", variables={"room_number": "1208"})
    assert unknown.status_code == 422
    assert unknown.json()["type"].endswith("unknown_template_variable")
    assert "room_number" in unknown.json()["detail"]
    tried = await preview("sms", template={"body": "{{ driver_name }} {{ pickup_time }}"})
    assert tried.json()["body"] == "Wang Qiang 2030-06-01 15:00\n"


async def test_a_saved_override_is_what_the_next_guest_receives(
    svc: Service, mail_server: MailServer, samples: Samples
) -> None:
    saved = await put(svc, CONFIRMED_EN, OVERRIDE)
    assert saved.status_code == 200, saved.text
    assert saved.json()["source"] == "override" and saved.json()["version"] == 1
    assert saved.json()["updated_by"] == "staff:t"
    again = await put(svc, CONFIRMED_EN, OVERRIDE)  # idempotent: nothing new
    assert again.json()["version"] == 1

    event = samples.confirmed("en")
    svc.deliver(event)
    notice = await svc.wait_for(event.reservation_id, lambda n: n["status"] == "sent")

    [message] = mail_server.to(event.guest.email)
    assert message["Subject"] == f"Your room is ready for you: {event.confirmation_number}"
    text = message.get_body(("plain",)).get_content()
    assert f"Hello {event.guest.name}," in text and "See you on Saturday 1 June 2030" in text
    assert notice["subject"] == message["Subject"]
    # Another language keeps its file.
    other = samples.confirmed("zh-Hans")
    svc.deliver(other)
    await svc.wait_for(other.reservation_id, lambda n: n["status"] == "sent")
    [chinese] = mail_server.to(other.guest.email)
    assert "预订确认" in chinese["Subject"]


async def test_deleting_the_override_brings_the_file_back(
    svc: Service, mail_server: MailServer, samples: Samples
) -> None:
    assert (await put(svc, CONFIRMED_EN, OVERRIDE)).status_code == 200
    deleted = await svc.client.delete(CONFIRMED_EN, headers=MANAGER)
    assert deleted.status_code == 204
    shown = (await svc.client.get(CONFIRMED_EN)).json()
    assert shown["source"] == "file"
    assert shown["subject"] == file_text("en", "reservation_confirmed.txt").split("\n")[0]
    assert (await svc.client.delete(CONFIRMED_EN, headers=MANAGER)).status_code == 204

    event = samples.confirmed("en")
    svc.deliver(event)
    await svc.wait_for(event.reservation_id, lambda n: n["status"] == "sent")
    [message] = mail_server.to(event.guest.email)
    assert message["Subject"].startswith("Booking confirmed")


@pytest.mark.parametrize(
    ("template", "problem", "named"),
    [
        ({"subject": "Hi", "body": "Dear {{ guest_name }\n"}, "template_syntax_error", "line 1"),
        (
            {"subject": "Hi", "body": "Line one\n\n{% if nights %}open block\n"},
            "template_syntax_error",
            "line",
        ),
        (
            {"subject": "Hi {{ room_number }}", "body": "x"},
            "unknown_template_variable",
            "room_number",
        ),
        ({"subject": "Hi", "body": "{{ ''.__class__.__mro__ }}"}, "template_render_error", ""),
        ({"subject": "Hi", "body": "{{ guest_name.__class__ }}"}, "template_render_error", ""),
        ({"subject": "Hi", "body": "{{ guest_name.missing.deeper }}"}, "template_render_error", ""),
        ({"subject": "Hi", "body": "{{ nights | no_such_filter }}"}, "template_syntax_error", ""),
        ({"subject": "Hi", "body": "{{ total + 1 }}"}, "template_render_error", ""),
        ({"body": "no subject"}, "template_invalid", "subject"),
        ({"subject": "Hi", "body": "{{ 1 }}", "extra": "x"}, "validation_error", ""),
    ],
)
async def test_a_bad_template_is_refused_and_nothing_is_stored(
    svc: Service, template: dict[str, Any], problem: str, named: str
) -> None:
    response = await put(svc, CONFIRMED_EN, template)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith(problem)
    assert named in response.json()["detail"]
    assert (await svc.client.get(CONFIRMED_EN)).json()["source"] == "file"
    listed = (await svc.client.get(API, params={"kind": "reservation_confirmed"})).json()
    assert {i["source"] for i in listed["items"]} == {"file"}


async def test_a_sign_in_template_must_show_the_code(svc: Service) -> None:
    path = f"{API}/sign_in_code/sms/en"
    refused = await put(svc, path, {"body": "Welcome back, valid {{ minutes }} minutes."})
    assert refused.status_code == 422 and "code" in refused.json()["detail"]
    assert (
        await put(svc, path, {"body": "Code {{ code }} ({{ minutes }} min)"})
    ).status_code == 200


async def test_unknown_kind_channel_or_language_is_not_found(svc: Service) -> None:
    for path in (
        "no_such/email/en",
        "reservation_confirmed/fax/en",
        "reservation_confirmed/email/fr",
    ):
        response = await put(svc, f"{API}/{path}", OVERRIDE)
        assert response.status_code == 404 and response.json()["type"].endswith(
            "template_not_found"
        )
        assert (await svc.client.get(f"{API}/{path}")).status_code == 404
    assert (await svc.client.get(API, params={"kind": "no_such"})).status_code == 422


async def test_who_may_read_and_who_may_write(svc: Service) -> None:
    for role in (Role.MANAGER, Role.MARKETING, Role.FRONT_DESK, Role.ADMIN):
        assert (await svc.client.get(CONFIRMED_EN, headers=staff(role))).status_code == 200
    for role in (Role.RESERVATIONS, Role.DRIVER, Role.DISPATCHER):
        assert (await svc.client.get(CONFIRMED_EN, headers=staff(role))).status_code == 403
    for role in (Role.MARKETING, Role.FRONT_DESK):
        assert (
            await svc.client.put(CONFIRMED_EN, json=OVERRIDE, headers=staff(role))
        ).status_code == 403
        assert (await svc.client.delete(CONFIRMED_EN, headers=staff(role))).status_code == 403
    guest = principal_headers(Principal(id="guest:g", kind=Kind.GUEST, email="g@example.com"))
    assert (await svc.client.get(API, headers=guest)).status_code == 403
    assert (await svc.client.get(CONFIRMED_EN)).json()["source"] == "file"


async def test_an_override_failing_on_real_data_sends_the_file_text(
    svc: Service, mail_server: MailServer, samples: Samples
) -> None:
    """The sample has a pickup; a booking without one makes this override fail at send time:
    the guest still gets the notice, in the file's words."""
    risky = {"subject": "Booked", "body": "Pickup at {{ transfer_place.upper() }}\n"}
    assert (await put(svc, CONFIRMED_EN, risky)).status_code == 200
    event = samples.confirmed("en")  # no transfer
    svc.deliver(event)
    await svc.wait_for(event.reservation_id, lambda n: n["status"] == "sent")
    [message] = mail_server.to(event.guest.email)
    assert message["Subject"].startswith("Booking confirmed")


async def test_the_same_first_override_saved_twice_at_once_is_stored_once(svc: Service) -> None:
    """Two managers (or a retried PUT on another replica) create the first override together:
    both are answered 200 with the same override, none a 500 from the key."""
    both = await asyncio.gather(*(put(svc, CONFIRMED_EN, OVERRIDE) for _ in range(4)))
    listed = await svc.client.get(
        "/api/v1/notification-templates",
        params={"kind": "reservation_confirmed", "channel": "email", "language": "en"},
    )

    assert [r.status_code for r in both] == [200] * 4, [r.text for r in both]
    assert len({r.json()["version"] for r in both}) == 1
    assert [e["source"] for e in listed.json()["items"]] == ["override"]
