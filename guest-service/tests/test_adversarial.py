"""Adversarial probes of the CRM's guest-facing and personal-data routes (issue 19 review).

A phone may sit on several profiles (an agency's call-centre number): a guest signed in with
that phone names nobody, so no `/me` route may answer with, change or erase one of them."""

from typing import Any

import pytest
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import assert_problem, principal_headers

from .conftest import GuestService

AGENCY_PHONE = "+8613900139111"


def by_phone(phone: str) -> dict[str, str]:
    return principal_headers(Principal(id=f"guest:{phone}", kind=Kind.GUEST, phone=phone))


async def two_people_one_phone(service: GuestService) -> tuple[dict[str, Any], dict[str, Any]]:
    first = await service.create(name="Lin Mei", email="lin.mei@example.com", phone=AGENCY_PHONE)
    second = await service.create(name="Zhao Lei", email="zhao.lei@example.com", phone=AGENCY_PHONE)
    return first, second


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/guests/me", None),
        ("GET", "/api/v1/guests/me/export", None),
        ("POST", "/api/v1/guests/me/erasure", {"confirm": True}),
        ("GET", "/api/v1/guests/me/contact-preferences", None),
        ("GET", "/api/v1/guests/me/consents", None),
        ("GET", "/api/v1/loyalty/members/me", None),
        ("POST", "/api/v1/loyalty/members/me", None),
    ],
)
async def test_a_phone_shared_by_several_profiles_opens_none_of_them(
    service: GuestService, method: str, path: str, body: dict[str, Any] | None
) -> None:
    first, _ = await two_people_one_phone(service)
    answer = await service.client.request(method, path, json=body, headers=by_phone(AGENCY_PHONE))
    assert answer.status_code == 404, answer.text
    assert "lin.mei" not in answer.text
    still = await service.guest(first["id"])
    assert still["status"] == "active"
    assert still["email"] == "lin.mei@example.com"


async def test_a_phone_shared_by_several_profiles_files_no_complaint_for_one_of_them(
    service: GuestService,
) -> None:
    first, _ = await two_people_one_phone(service)
    headers = by_phone(AGENCY_PHONE)
    mine = await service.client.get("/api/v1/complaints/me", headers=headers)
    assert mine.status_code == 200, mine.text
    assert mine.json() == []
    filed = await service.client.post(
        "/api/v1/complaints",
        json={"category": "room", "severity": "low", "subject": "Noisy at night"},
        headers=headers,
    )
    assert_problem(filed, 404, "guest_not_found")
    cases = await service.client.get("/api/v1/complaints", params={"guest_id": first["id"]})
    assert cases.status_code == 200, cases.text
    assert cases.json()["items"] == []


def staff(*roles: Role) -> dict[str, str]:
    return principal_headers(Principal(id="staff:9", kind=Kind.STAFF, roles=frozenset(roles)))


def signed_in(email: str) -> dict[str, str]:
    return principal_headers(Principal(id=f"guest:{email}", kind=Kind.GUEST, email=email))


async def test_an_export_that_holds_the_full_id_document_is_an_audited_read(
    service: GuestService,
) -> None:
    guest = await service.create(
        name="Lin Mei",
        email="lin.mei@example.com",
        document_type="passport",
        document_number="K12345678",
    )
    by_manager = await service.client.get(
        f"/api/v1/guests/{guest['id']}/export", headers=staff(Role.MANAGER)
    )
    assert by_manager.status_code == 200, by_manager.text
    assert "K12345678" in by_manager.text  # the guest's own data, whole
    by_guest = await service.client.get(
        "/api/v1/guests/me/export", headers=signed_in("lin.mei@example.com")
    )
    assert by_guest.status_code == 200, by_guest.text
    reads = await service.client.get(
        "/api/v1/guests/pii-reads", params={"guest_id": guest["id"]}, headers=staff(Role.MANAGER)
    )
    assert reads.status_code == 200, reads.text
    assert sorted((r["reader"], r["field"]) for r in reads.json()["items"]) == [
        ("guest:lin.mei@example.com", "document"),
        ("staff:9", "document"),
    ]
