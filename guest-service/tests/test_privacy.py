"""Consents and contact preferences: staff record what the guest said, the guest changes their
own, every change publishes the whole snapshot with a new version, the latest word wins, and
bad input is refused with nothing written."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import Probe, assert_problem, eventually, principal_headers

from .conftest import GuestService

SNAPSHOT = "guest.contact_preferences_changed"
BASE = "/api/v1/guests"


def as_(service: GuestService, principal: Principal) -> dict[str, str]:
    secret = service.client._transport.app.state.settings.internal_secret  # type: ignore[attr-defined]
    return principal_headers(principal, secret)


def staff(*roles: Role) -> Principal:
    return Principal(id="staff:7", kind=Kind.STAFF, roles=frozenset(roles))


def guest(email: str) -> Principal:
    return Principal(id=f"guest:{email}", kind=Kind.GUEST, email=email)


async def snapshots(probe: Probe, count: int) -> list[Any]:
    return await eventually(lambda: probe.events(SNAPSHOT), until=lambda e: len(e) >= count)


async def test_staff_record_consents_and_preferences_and_each_change_publishes_a_snapshot(
    service: GuestService,
) -> None:
    probe = Probe(service.broker, {SNAPSHOT})
    lin = await service.create(name="Lin Mei", email="lin.mei@example.com", phone="+8613900139000")
    desk = as_(service, staff(Role.FRONT_DESK))

    untouched = await service.client.get(f"{BASE}/{lin['id']}/contact-preferences", headers=desk)
    assert untouched.status_code == 200, untouched.text
    assert untouched.json()["channels"] == [] and untouched.json()["consents"] == []

    put = await service.client.put(
        f"{BASE}/{lin['id']}/contact-preferences",
        headers=desk,
        json={
            "channels": ["sms", "email"],
            "language": "zh-Hans",
            "quiet_hours": {"start": "22:00", "end": "08:00", "timezone": "Asia/Shanghai"},
        },
    )
    assert put.status_code == 200, put.text
    granted = await service.client.post(
        f"{BASE}/{lin['id']}/consents",
        headers=desk,
        json={"channel": "email", "purpose": "marketing", "granted": True, "source": "front_desk"},
    )
    assert granted.status_code == 201, granted.text
    assert granted.json()["recorded_by"] == "staff:7"

    shown = (await service.client.get(f"{BASE}/{lin['id']}/contact-preferences")).json()
    assert shown["channels"] == ["sms", "email"]
    assert shown["quiet_hours"] == {"start": "22:00", "end": "08:00", "timezone": "Asia/Shanghai"}
    assert [(c["channel"], c["purpose"], c["granted"]) for c in shown["consents"]] == [
        ("email", "marketing", True)
    ]

    first, second = await snapshots(probe, 2)
    assert second.aggregate_version == first.aggregate_version + 1
    assert second.payload["guest_id"] == lin["id"]
    assert second.payload["emails"] == ["lin.mei@example.com"]
    assert second.payload["phones"] == ["+8613900139000"]
    assert second.payload["channels"] == ["sms", "email"]
    assert second.payload["language"] == "zh-Hans"
    assert second.payload["quiet_hours"]["timezone"] == "Asia/Shanghai"
    assert [c["purpose"] for c in second.payload["consents"]] == ["marketing"]
    assert [c["purpose"] for c in first.payload["consents"]] == []


async def test_the_latest_word_wins_and_a_late_record_of_an_earlier_word_joins_the_history(
    service: GuestService,
) -> None:
    lin = await service.create(name="Lin Mei", email="lin.mei@example.com")
    url = f"{BASE}/{lin['id']}/consents"
    now = datetime.now(UTC)
    for granted, at in ((True, now - timedelta(days=2)), (False, now - timedelta(days=1))):
        said = await service.client.post(
            url,
            json={
                "channel": "sms",
                "purpose": "marketing",
                "granted": granted,
                "source": "phone",
                "at": at.isoformat(),
            },
        )
        assert said.status_code == 201, said.text
    # Recorded last, said first: the withdrawal of yesterday still stands.
    late = await service.client.post(
        url,
        json={
            "channel": "sms",
            "purpose": "marketing",
            "granted": True,
            "source": "paper_form",
            "at": (now - timedelta(days=10)).isoformat(),
        },
    )
    assert late.status_code == 201, late.text

    current = (await service.client.get(f"{BASE}/{lin['id']}/contact-preferences")).json()
    assert [(c["granted"], c["source"]) for c in current["consents"]] == [(False, "phone")]
    history = (await service.client.get(url, params={"limit": 2})).json()
    assert [c["source"] for c in history["items"]] == ["phone", "phone"]  # newest first
    rest = (await service.client.get(url, params={"cursor": history["next_cursor"]})).json()
    assert [c["source"] for c in rest["items"]] == ["paper_form"]


async def test_a_signed_in_guest_reads_and_changes_their_own(service: GuestService) -> None:
    probe = Probe(service.broker, {SNAPSHOT})
    lin = await service.create(name="Lin Mei", email="lin.mei@example.com")
    me = as_(service, guest("lin.mei@example.com"))

    withdrawn = await service.client.post(
        f"{BASE}/me/consents",
        headers=me,
        json={"channel": "email", "purpose": "marketing", "granted": False},
    )
    assert withdrawn.status_code == 201, withdrawn.text
    assert withdrawn.json()["source"] == "app"
    put = await service.client.put(
        f"{BASE}/me/contact-preferences",
        headers=me,
        json={"channels": ["email"], "language": "en", "quiet_hours": None},
    )
    assert put.status_code == 200, put.text
    mine = (await service.client.get(f"{BASE}/me/contact-preferences", headers=me)).json()
    assert mine["guest_id"] == lin["id"] and mine["language"] == "en"
    assert [(c["purpose"], c["granted"]) for c in mine["consents"]] == [("marketing", False)]
    history = (await service.client.get(f"{BASE}/me/consents", headers=me)).json()
    assert len(history["items"]) == 1
    assert len(await snapshots(probe, 2)) == 2

    stranger = as_(service, guest("nobody@example.com"))
    assert_problem(
        await service.client.get(f"{BASE}/me/contact-preferences", headers=stranger),
        404,
        "guest_not_found",
    )


async def test_push_is_a_channel_the_guest_may_prefer_and_consent_to(
    service: GuestService,
) -> None:
    """Issue 20: the mobile app's push notices are a channel like the others, all four in the
    guest's order (the snapshot tells notification-service)."""
    probe = Probe(service.broker, {SNAPSHOT})
    lin = await service.create(name="Lin Mei", email="lin.mei@example.com", phone="+8613900139000")
    desk = as_(service, staff(Role.FRONT_DESK))
    put = await service.client.put(
        f"{BASE}/{lin['id']}/contact-preferences",
        headers=desk,
        json={"channels": ["push", "sms", "email", "phone"]},
    )
    assert put.status_code == 200, put.text
    granted = await service.client.post(
        f"{BASE}/{lin['id']}/consents",
        headers=desk,
        json={"channel": "push", "purpose": "marketing", "granted": True, "source": "front_desk"},
    )
    assert granted.status_code == 201, granted.text

    shown = (await service.client.get(f"{BASE}/{lin['id']}/contact-preferences")).json()
    assert shown["channels"] == ["push", "sms", "email", "phone"]
    assert [(c["channel"], c["granted"]) for c in shown["consents"]] == [("push", True)]
    *_, last = await snapshots(probe, 2)
    assert last.payload["channels"] == ["push", "sms", "email", "phone"]
    assert [c["channel"] for c in last.payload["consents"]] == ["push"]


@pytest.mark.parametrize(
    "body",
    [
        {"channels": ["email", "email"]},
        {"channels": ["push", "push"]},
        {"channels": ["pigeon"]},
        {"channels": [], "quiet_hours": {"start": "25:00", "end": "08:00", "timezone": "UTC"}},
        {"channels": [], "quiet_hours": {"start": "22:00", "end": "22:00", "timezone": "UTC"}},
        {"channels": [], "quiet_hours": {"start": "22:00", "end": "08:00", "timezone": "Mars/X"}},
        {"channels": [], "language": "not a language"},
        {"channels": [], "colour": "blue"},
    ],
)
async def test_bad_preferences_are_refused_and_nothing_is_written(
    service: GuestService, body: dict[str, Any]
) -> None:
    probe = Probe(service.broker, {SNAPSHOT})
    lin = await service.create(name="Lin Mei", email="lin.mei@example.com")
    url = f"{BASE}/{lin['id']}/contact-preferences"
    assert_problem(await service.client.put(url, json=body), 422, "validation_error")
    assert (await service.client.get(url)).json()["updated_at"] is None
    assert probe.events() == []


@pytest.mark.parametrize(
    "body",
    [
        {"channel": "email", "purpose": "marketing", "granted": True},  # no source
        {"channel": "email", "purpose": "spam", "granted": True, "source": "phone"},
        {"channel": "fax", "purpose": "service", "granted": True, "source": "phone"},
        {"channel": "email", "purpose": "service", "granted": True, "source": "rumour"},
        {
            "channel": "email",
            "purpose": "service",
            "granted": True,
            "source": "phone",
            "at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        },
        {
            "channel": "email",
            "purpose": "service",
            "granted": True,
            "source": "phone",
            "at": "2030-01-01T10:00:00",  # no time zone
        },
    ],
)
async def test_bad_consents_are_refused_and_nothing_is_written(
    service: GuestService, body: dict[str, Any]
) -> None:
    lin = await service.create(name="Lin Mei", email="lin.mei@example.com")
    url = f"{BASE}/{lin['id']}/consents"
    assert_problem(await service.client.post(url, json=body), 422, "validation_error")
    assert (await service.client.get(url)).json()["items"] == []


async def test_who_may_read_and_record(service: GuestService) -> None:
    lin = await service.create(name="Lin Mei", email="lin.mei@example.com")
    prefs = f"{BASE}/{lin['id']}/contact-preferences"
    consent = {"channel": "sms", "purpose": "service", "granted": True, "source": "phone"}
    client: httpx.AsyncClient = service.client

    marketing = as_(service, staff(Role.MARKETING))
    assert (await client.get(prefs, headers=marketing)).status_code == 200
    assert_problem(
        await client.post(f"{BASE}/{lin['id']}/consents", headers=marketing, json=consent),
        403,
        "forbidden",
    )
    housekeeping = as_(service, staff(Role.HOUSEKEEPING))
    assert_problem(await client.get(prefs, headers=housekeeping), 403, "forbidden")
    a_guest = as_(service, guest("lin.mei@example.com"))
    assert_problem(await client.get(prefs, headers=a_guest), 403, "forbidden")
    assert_problem(
        await client.get(f"{BASE}/me/consents", headers=as_(service, staff(Role.MANAGER))),
        403,
        "forbidden",
    )
    assert_problem(await client.get(f"{BASE}/no-such-guest/consents"), 404, "guest_not_found")
