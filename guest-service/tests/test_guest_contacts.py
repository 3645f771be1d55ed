"""A profile's several emails and phones: added, made primary, removed; an email is one
profile's, a phone may be several profiles'; a booking under an added email joins the profile.
And the signed-in guest's own profile: what they may change of it."""

from typing import Any

from hotel_common.principal import Kind, Principal
from hotel_common.testing import assert_problem, principal_headers

from .conftest import GuestService, booking

ADA = {"name": "Ada Wong", "email": "ada@example.com", "phone": "+8613700137000"}


async def contacts(service: GuestService, guest_id: str) -> list[tuple[str, str, bool]]:
    response = await service.client.get(f"/api/v1/guests/{guest_id}/contacts")
    assert response.status_code == 200, response.text
    return [(c["kind"], c["value"], c["is_primary"]) for c in response.json()]


async def add(service: GuestService, guest_id: str, **body: Any) -> dict[str, Any]:
    response = await service.client.post(f"/api/v1/guests/{guest_id}/contacts", json=body)
    assert response.status_code == 201, response.text
    added: dict[str, Any] = response.json()
    return added


async def test_a_profile_holds_several_emails_and_phones(service: GuestService) -> None:
    ada = await service.create(**ADA)

    work = await add(service, ada["id"], kind="email", value=" Ada.Wong@Work.Example.com ")
    await add(service, ada["id"], kind="phone", value="+852 9123 4567", primary=True)

    assert await contacts(service, ada["id"]) == [
        ("email", "ada@example.com", True),
        ("phone", "+85291234567", True),
        ("phone", "+8613700137000", False),
        ("email", "ada.wong@work.example.com", False),
    ]
    made = await service.client.patch(
        f"/api/v1/guests/{ada['id']}/contacts/{work['id']}", json={"is_primary": True}
    )
    assert made.status_code == 200 and made.json()["is_primary"] is True
    shown = await service.guest(ada["id"])
    assert (shown["email"], shown["phone"]) == ("ada.wong@work.example.com", "+85291234567")
    # Both emails find her.
    for email in ("ada@example.com", "ADA.WONG@work.example.com"):
        assert [g["id"] for g in await service.find(email=email)] == [ada["id"]]


async def test_a_booking_under_an_added_email_joins_the_profile(service: GuestService) -> None:
    ada = await service.create(**ADA)
    await add(service, ada["id"], kind="email", value="ada.wong@work.example.com")

    service.deliver(booking(email="ada.wong@work.example.com", phone=None, name="Ada Wong"))

    profile = await service.profile_with_stays("ada.wong@work.example.com", 1)
    assert profile["id"] == ada["id"]
    assert len(await service.find()) == 1


async def test_an_email_is_one_profiles_a_phone_may_be_shared(service: GuestService) -> None:
    ada = await service.create(**ADA)
    bo = await service.create(name="Bo Li", email="bo@example.com")

    taken = await service.client.post(
        f"/api/v1/guests/{bo['id']}/contacts", json={"kind": "email", "value": "ADA@example.com"}
    )
    assert assert_problem(taken, 409, "guest_exists")["guest_id"] == ada["id"]
    twice = await service.client.post(
        f"/api/v1/guests/{ada['id']}/contacts", json={"kind": "phone", "value": "+8613700137000"}
    )
    assert_problem(twice, 409, "contact_exists")
    await add(service, bo["id"], kind="phone", value="+86 137 0013 7000")

    assert await contacts(service, bo["id"]) == [
        ("email", "bo@example.com", True),
        ("phone", "+8613700137000", True),  # the first phone of the profile
    ]
    assert {g["id"] for g in await service.find(phone="+8613700137000")} == {ada["id"], bo["id"]}


async def test_bad_contacts_are_refused_and_nothing_is_written(service: GuestService) -> None:
    ada = await service.create(**ADA)
    for body in (
        {"kind": "email", "value": "not-an-email"},
        {"kind": "phone", "value": "0138 0013 8000"},
        {"kind": "fax", "value": "+8613700137001"},
        {"kind": "phone", "value": "+8613700137001", "verified": True},
    ):
        response = await service.client.post(f"/api/v1/guests/{ada['id']}/contacts", json=body)
        assert_problem(response, 422, "validation_error")
    unknown = await service.client.post(
        "/api/v1/guests/nobody/contacts", json={"kind": "phone", "value": "+8613700137001"}
    )
    assert_problem(unknown, 404, "guest_not_found")
    assert len(await contacts(service, ada["id"])) == 2


async def test_removing_the_primary_promotes_the_oldest_and_the_last_contact_stays(
    service: GuestService,
) -> None:
    bo = await service.create(name="Bo Li", phone="+85291234567")
    second = await add(service, bo["id"], kind="phone", value="+85291234568")
    third = await add(service, bo["id"], kind="phone", value="+85291234569")
    first_id = next(c["id"] for c in (await service.guest(bo["id"]))["contacts"] if c["is_primary"])

    gone = await service.client.delete(f"/api/v1/guests/{bo['id']}/contacts/{first_id}")
    assert gone.status_code == 204
    assert await contacts(service, bo["id"]) == [
        ("phone", "+85291234568", True),
        ("phone", "+85291234569", False),
    ]
    await service.client.delete(f"/api/v1/guests/{bo['id']}/contacts/{second['id']}")
    last = await service.client.delete(f"/api/v1/guests/{bo['id']}/contacts/{third['id']}")
    assert_problem(last, 422, "contact_required")
    assert await contacts(service, bo["id"]) == [("phone", "+85291234569", True)]
    other = await service.create(name="Cy", email="cy@example.com")
    foreign = await service.client.delete(f"/api/v1/guests/{other['id']}/contacts/{third['id']}")
    assert_problem(foreign, 404, "contact_not_found")


# -- the signed-in guest's own profile ---------------------------------------------------------
def me(email: str | None = None, phone: str | None = None) -> dict[str, str]:
    return principal_headers(Principal(id="guest:g", kind=Kind.GUEST, email=email, phone=phone))


async def test_a_guest_changes_what_is_theirs_to_change(service: GuestService) -> None:
    ada = await service.create(**ADA, tags=["vip"], notes="Regular since 2020.")

    response = await service.client.patch(
        "/api/v1/guests/me",
        headers=me("ada@example.com"),
        json={
            "latin_name": "WONG ADA",
            "birth_date": "1990-07-01",
            "nationality": "hk",
            "preferences": {"pillow": "soft", "dietary": ["vegetarian"]},
        },
    )

    assert response.status_code == 200, response.text
    shown = await service.guest(ada["id"])
    assert (shown["latin_name"], shown["birth_date"], shown["nationality"]) == (
        "WONG ADA",
        "1990-07-01",
        "HK",
    )
    assert shown["preferences"] == {"pillow": "soft", "dietary": ["vegetarian"]}
    assert (shown["tags"], shown["notes"]) == (["vip"], "Regular since 2020.")


async def test_a_guest_may_not_change_what_is_the_hotels(service: GuestService) -> None:
    ada = await service.create(**ADA)
    for body in (
        {"tags": ["vip"]},
        {"vip_level": 5},
        {"notes": "Upgrade me"},
        {"document_number": "E12345678"},
        {"email": "other@example.com"},
        {"referrer_id": ada["id"]},
        {"birth_date": "2999-01-01"},
    ):
        response = await service.client.patch(
            "/api/v1/guests/me", headers=me("ada@example.com"), json=body
        )
        assert_problem(response, 422, "validation_error")
    assert (await service.guest(ada["id"]))["updated_at"] == ada["updated_at"]


async def test_a_phone_on_several_profiles_names_none_of_them(service: GuestService) -> None:
    await service.create(name="Ada Wong", phone="+8613700137000")
    await service.create(name="Other Person", phone="+8613700137000")

    for method in ("GET", "PATCH"):
        response = await service.client.request(
            method, "/api/v1/guests/me", headers=me(phone="+8613700137000"), json={"name": "X"}
        )
        assert_problem(response, 404, "guest_not_found")
