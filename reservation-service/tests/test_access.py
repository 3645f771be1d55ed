"""The access policy of reservation-service (docs/access.md), through the HTTP API, acting as
each identity the gateway signs: who may call which operation (401/403), which bookings each
reaches (404 otherwise, by id, list, filter, confirm, cancel and Idempotency-Key), the channel
and owner a booking records, the access token of a new booking, and masking for marketing."""

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from hotel_common.principal import (
    ANONYMOUS,
    ApiScope,
    Kind,
    Principal,
    Role,
    masked,
    verify_booking_token,
)
from hotel_common.settings import DEV_INTERNAL_SECRET
from hotel_common.testing import assert_problem, principal_headers

READ, WRITE = ApiScope.RESERVATIONS_READ, ApiScope.RESERVATIONS_WRITE
WEB = ANONYMOUS.model_copy(update={"ip": "203.0.113.5"})
PARTNER_A = Principal(
    id="partner:a", kind=Kind.PARTNER, channel="ota_a", scopes=frozenset({READ, WRITE})
)
PARTNER_B = Principal(
    id="partner:b", kind=Kind.PARTNER, channel="ota_b", scopes=frozenset({READ, WRITE})
)
A_READ_ONLY = PARTNER_A.model_copy(update={"scopes": frozenset({READ})})
A_WRITE_ONLY = PARTNER_A.model_copy(update={"scopes": frozenset({WRITE})})
LI = Principal(id="guest:li", kind=Kind.GUEST, email="li.wei@example.com")
LI_BY_PHONE = Principal(id="guest:li-phone", kind=Kind.GUEST, phone="+8613800138000")
ANNA = Principal(id="guest:anna", kind=Kind.GUEST, email="anna@example.com")
GATEWAY = Principal(id="service:gateway", kind=Kind.SERVICE)


def staff(*roles: Role, properties: frozenset[int] | None = None) -> Principal:
    name = "-".join(roles)
    return Principal(
        id=f"staff:{name}", kind=Kind.STAFF, roles=frozenset(roles), properties=properties
    )


FRONT_DESK, MANAGER, MARKETING = staff(Role.FRONT_DESK), staff(Role.MANAGER), staff(Role.MARKETING)
DESK = [FRONT_DESK, staff(Role.RESERVATIONS), MANAGER, staff(Role.ADMIN)]
NO_BOOKINGS = [staff(Role.HOUSEKEEPING), staff(Role.DISPATCHER), staff(Role.DRIVER)]
ELSEWHERE = staff(Role.FRONT_DESK, properties=frozenset({999}))  # another hotel's desk
HERE = staff(Role.FRONT_DESK, properties=frozenset({1}))  # the demo hotel's desk


def who(principal: Principal) -> dict[str, str]:
    return principal_headers(principal, DEV_INTERNAL_SECRET)


class Calls:
    """The reservation API called as one principal."""

    def __init__(self, client: httpx.AsyncClient, principal: Principal) -> None:
        self.client, self.headers = client, who(principal)

    async def create(self, body: dict[str, Any], **headers: str) -> httpx.Response:
        return await self.client.post(
            "/api/v1/reservations", json=body, headers=self.headers | headers
        )

    async def get(self, reservation_id: str) -> httpx.Response:
        return await self.client.get(f"/api/v1/reservations/{reservation_id}", headers=self.headers)

    async def list(self, **params: str) -> httpx.Response:
        return await self.client.get("/api/v1/reservations", params=params, headers=self.headers)

    async def ids(self, **params: str) -> set[str]:
        response = await self.list(**params)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    async def act(self, reservation_id: str, action: str) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/reservations/{reservation_id}/{action}", headers=self.headers
        )


def as_(hotel: Any, principal: Principal) -> Calls:
    return Calls(hotel.client, principal)


async def booked(hotel: Any, principal: Principal, **overrides: Any) -> dict[str, Any]:
    response = await as_(hotel, principal).create(hotel.booking(**overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# -- who may call what -----------------------------------------------------------------------------


async def test_the_channel_comes_from_the_caller_never_from_the_body(hotel):
    for principal, channel in [
        (WEB, "direct_web"),
        (LI, "mobile_app"),
        (PARTNER_A, "ota_a"),
        (PARTNER_B, "ota_b"),
        (FRONT_DESK, "front_desk"),
        (HERE, "front_desk"),
    ]:
        assert (await booked(hotel, principal))["channel"] == channel, principal.id
    first = await booked(hotel, WEB)
    holder = verify_booking_token(first["access_token"], DEV_INTERNAL_SECRET)
    assert (await booked(hotel, holder))["channel"] == "direct_web"


async def test_a_body_setting_channel_status_owner_or_prices_is_refused(hotel):
    for field, value in [
        ("channel", "ota_a"),
        ("status", "confirmed"),
        ("owner", "partner:b"),
        ("nightly_amount", 1),
        ("total_amount", 1),
        ("currency", "USD"),
        ("confirmation_number", "HVAAAAAAAA"),
    ]:
        for principal in (WEB, PARTNER_A, FRONT_DESK):
            response = await as_(hotel, principal).create(hotel.booking(**{field: value}))
            body = assert_problem(response, 422, "validation_error")
            assert [(e["field"], e["type"]) for e in body["errors"]] == [
                (f"body.{field}", "extra_forbidden")
            ]
    assert await hotel.reservations() == []


async def test_callers_who_never_handle_bookings_are_refused(hotel):
    made = await booked(hotel, PARTNER_A)
    anonymous = as_(hotel, WEB)
    assert_problem(await anonymous.list(), 401, "unauthenticated")
    assert_problem(await anonymous.get(made["id"]), 401, "unauthenticated")
    for action in ("confirm", "cancel"):
        assert_problem(await anonymous.act(made["id"], action), 401, "unauthenticated")
    for principal in NO_BOOKINGS:
        calls = as_(hotel, principal)
        assert_problem(await calls.create(hotel.booking()), 403, "forbidden")
        assert_problem(await calls.list(), 403, "forbidden")
        assert_problem(await calls.get(made["id"]), 403, "forbidden")
        for action in ("confirm", "cancel"):
            assert_problem(await calls.act(made["id"], action), 403, "forbidden")
    marketing = as_(hotel, MARKETING)  # reads, never books, confirms or cancels
    assert_problem(await marketing.create(hotel.booking()), 403, "forbidden")
    for action in ("confirm", "cancel"):
        assert_problem(await marketing.act(made["id"], action), 403, "forbidden")
    gateway = as_(hotel, GATEWAY)  # reads everything (sign-in by confirmation number), no more
    assert await gateway.ids() == {made["id"]}
    assert_problem(await gateway.create(hotel.booking()), 403, "forbidden")
    assert_problem(await gateway.act(made["id"], "cancel"), 403, "forbidden")
    assert (await hotel.reservation(made["id"]))["status"] == "requested"


async def test_a_partner_key_needs_the_scope_of_what_it_does(hotel):
    made = await booked(hotel, PARTNER_A)
    read_only, write_only = as_(hotel, A_READ_ONLY), as_(hotel, A_WRITE_ONLY)
    assert await read_only.ids() == {made["id"]}
    assert (await read_only.get(made["id"])).status_code == 200
    assert_problem(await read_only.create(hotel.booking()), 403, "forbidden")
    assert_problem(await read_only.act(made["id"], "confirm"), 403, "forbidden")
    assert_problem(await write_only.list(), 403, "forbidden")
    assert_problem(await write_only.get(made["id"]), 403, "forbidden")
    assert (await write_only.act(made["id"], "confirm")).status_code == 200
    no_channel = PARTNER_A.model_copy(update={"channel": None})
    assert_problem(await as_(hotel, no_channel).create(hotel.booking()), 403, "forbidden")


async def test_the_catalog_is_open_to_read_and_managed_by_managers(hotel):
    for path in ("/api/v1/properties", "/api/v1/room-types"):
        assert (await hotel.client.get(path, headers=who(WEB))).status_code == 200
    stay = {"check_in": hotel.stay[0], "check_out": hotel.stay[1]}
    availability = await hotel.client.get("/api/v1/availability", params=stay, headers=who(WEB))
    assert availability.status_code == 200

    creations = [
        (
            "/api/v1/properties",
            {
                "name": "Riverside Inn",
                "timezone": "Asia/Shanghai",
                "currency": "CNY",
                "check_in_time": "14:00",
                "check_out_time": "12:00",
            },
        ),
        (
            "/api/v1/room-types",
            {"code": "ACC", "name": "Accessible", "capacity": 2, "bed_type": "queen"}
            | {"base_amount": 40000, "property_id": 1},
        ),
        (
            "/api/v1/rooms",
            {"number": "1301", "floor": 13, "room_type_code": "ACC"} | {"property_id": 1},
        ),
    ]
    elsewhere = staff(Role.MANAGER, properties=frozenset({999}))
    for path, body in creations:
        refused = await hotel.client.post(path, json=body, headers=who(WEB))
        assert_problem(refused, 401, "unauthenticated")
        for principal in (FRONT_DESK, MARKETING, PARTNER_A, LI, *NO_BOOKINGS):
            refused = await hotel.client.post(path, json=body, headers=who(principal))
            assert_problem(refused, 403, "forbidden")
        if path != "/api/v1/properties":  # a manager of another hotel adds nothing here
            refused = await hotel.client.post(path, json=body, headers=who(elsewhere))
            assert_problem(refused, 403, "forbidden")
        created = await hotel.client.post(path, json=body, headers=who(MANAGER))
        assert created.status_code == 201, created.text

    rooms = "/api/v1/rooms"
    assert_problem(await hotel.client.get(rooms, headers=who(WEB)), 401, "unauthenticated")
    for principal in (MARKETING, PARTNER_A, LI, staff(Role.DRIVER), staff(Role.DISPATCHER)):
        assert_problem(await hotel.client.get(rooms, headers=who(principal)), 403, "forbidden")
    for principal in (staff(Role.HOUSEKEEPING), FRONT_DESK, HERE):
        listed = await hotel.client.get(rooms, params={"limit": 200}, headers=who(principal))
        assert len(listed.json()["items"]) == 31, principal.id
    housekeeping_elsewhere = staff(Role.HOUSEKEEPING, properties=frozenset({999}))
    listed = await hotel.client.get(rooms, headers=who(housekeeping_elsewhere))
    assert listed.json()["items"] == []


# -- whose bookings --------------------------------------------------------------------------------


async def test_partners_reach_only_their_own_bookings_on_each_database(hotel_on_each_db):
    hotel = hotel_on_each_db
    mine = await booked(hotel, PARTNER_A)
    theirs = await booked(hotel, PARTNER_B, guest={**hotel.booking()["guest"], "email": "b@x.io"})
    a, b = as_(hotel, PARTNER_A), as_(hotel, PARTNER_B)
    assert await a.ids() == {mine["id"]}
    assert await b.ids() == {theirs["id"]}
    number = mine["confirmation_number"]
    # Partner B probes partner A's booking every way it can: it does not exist for B.
    assert await b.ids(confirmation_number=number) == set()
    assert await b.ids(email="li.wei@example.com") == set()
    assert await b.ids(status="requested") == {theirs["id"]}
    assert_problem(await b.get(mine["id"]), 404, "reservation_not_found")
    for action in ("confirm", "cancel"):
        assert_problem(await b.act(mine["id"], action), 404, "reservation_not_found")
    assert (await hotel.reservation(mine["id"]))["status"] == "requested"
    # A reaches its own, every way.
    assert await a.ids(confirmation_number=number.lower()) == {mine["id"]}
    assert (await a.get(mine["id"])).json()["id"] == mine["id"]
    assert (await a.act(mine["id"], "confirm")).json()["status"] == "confirmed"
    assert (await a.act(mine["id"], "cancel")).json()["status"] == "cancelled"
    assert (await a.act(theirs["id"], "cancel")).status_code == 404


async def test_an_idempotency_key_belongs_to_its_caller(hotel_on_each_db):
    hotel = hotel_on_each_db
    body, key = hotel.booking(), {"Idempotency-Key": "order-1001"}
    a, b = as_(hotel, PARTNER_A), as_(hotel, PARTNER_B)
    first = await a.create(body, **key)
    again = await a.create(body, **key)
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json()  # the same caller: its token again, that is fine
    other = await b.create(body, **key)
    assert other.status_code == 201 and "idempotent-replayed" not in other.headers
    assert other.json()["id"] != first.json()["id"]
    assert other.json()["channel"] == "ota_b"
    assert await b.ids() == {other.json()["id"]}
    assert await a.ids() == {first.json()["id"]}


async def test_guests_reach_the_bookings_made_with_their_email_or_phone(hotel_on_each_db):
    hotel = hotel_on_each_db
    li_at_desk = await booked(hotel, FRONT_DESK)  # Li's email and phone
    li_by_ota = await booked(hotel, PARTNER_A)
    annas_guest = {"name": "Anna Berg", "email": "ANNA@example.com", "language": "en"}
    annas = await booked(hotel, ANNA, guest=annas_guest)
    li = {li_at_desk["id"], li_by_ota["id"]}
    assert await as_(hotel, LI).ids() == li
    assert await as_(hotel, LI_BY_PHONE).ids() == li
    assert await as_(hotel, ANNA).ids() == {annas["id"]}
    anna = as_(hotel, ANNA)
    assert await anna.ids(email="li.wei@example.com") == set()
    assert await anna.ids(confirmation_number=li_at_desk["confirmation_number"]) == set()
    assert_problem(await anna.get(li_at_desk["id"]), 404, "reservation_not_found")
    assert_problem(await anna.act(li_at_desk["id"], "cancel"), 404, "reservation_not_found")
    assert (await as_(hotel, LI).act(li_at_desk["id"], "cancel")).status_code == 200
    nobody = Principal(id="guest:none", kind=Kind.GUEST)  # proved no address: sees nothing
    assert await as_(hotel, nobody).ids() == set()


async def test_staff_reach_the_bookings_of_their_properties(hotel_on_each_db):
    hotel = hotel_on_each_db
    made = await booked(hotel, PARTNER_A)
    for principal in (*DESK, HERE, MARKETING):
        assert await as_(hotel, principal).ids() == {made["id"]}, principal.id
    away = as_(hotel, ELSEWHERE)
    assert await away.ids() == set()
    assert await away.ids(confirmation_number=made["confirmation_number"]) == set()
    assert_problem(await away.get(made["id"]), 404, "reservation_not_found")
    for action in ("confirm", "cancel"):
        assert_problem(await away.act(made["id"], action), 404, "reservation_not_found")
    assert_problem(await away.create(hotel.booking()), 403, "forbidden")
    assert (await as_(hotel, HERE).act(made["id"], "confirm")).status_code == 200


# -- the booking's access token --------------------------------------------------------------------


async def test_the_access_token_opens_that_booking_only(hotel_on_each_db):
    hotel = hotel_on_each_db
    made = await booked(hotel, WEB)
    other = await booked(hotel, WEB)
    holder = verify_booking_token(made["access_token"], DEV_INTERNAL_SECRET)
    assert (holder.kind, holder.reservation_id) == (Kind.BOOKING, made["id"])
    # Valid until 30 days after check-out (midnight at the hotel, UTC+8).
    until = date.fromisoformat(made["check_out"]) + timedelta(days=30)
    expected = datetime.combine(until, datetime.min.time(), ZoneInfo("Asia/Shanghai")).timestamp()
    assert abs(holder.expires - expected) < 120

    holding = as_(hotel, holder)
    got = await holding.get(made["id"])
    assert got.status_code == 200
    assert "access_token" not in got.json()  # shown in the create answer only
    assert await holding.ids() == {made["id"]}
    assert await holding.ids(confirmation_number=other["confirmation_number"]) == set()
    assert_problem(await holding.get(other["id"]), 404, "reservation_not_found")
    assert_problem(await holding.act(other["id"], "cancel"), 404, "reservation_not_found")
    assert (await holding.act(made["id"], "cancel")).json()["status"] == "cancelled"
    for item in (await as_(hotel, FRONT_DESK).list()).json()["items"]:
        assert "access_token" not in item


async def test_marketing_sees_the_guest_contact_masked(hotel):
    made = await booked(hotel, FRONT_DESK)
    full = made["guest"]
    assert (full["email"], full["phone"]) == ("li.wei@example.com", "+8613800138000")
    shown = (await as_(hotel, MARKETING).get(made["id"])).json()["guest"]
    assert shown == full | {"email": masked(full["email"]), "phone": masked(full["phone"])}
    assert "li.wei" not in str(shown) and "138000" not in str(shown)
    [listed] = (await as_(hotel, MARKETING).list()).json()["items"]
    assert listed["guest"] == shown
    both = staff(Role.MARKETING, Role.FRONT_DESK)  # a desk role needs the contact
    assert (await as_(hotel, both).get(made["id"])).json()["guest"] == full
    assert (await as_(hotel, MANAGER).get(made["id"])).json()["guest"] == full
