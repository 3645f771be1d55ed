"""The signed principal: what a service accepts from the gateway, and what it refuses."""

import base64
import time

import pytest
from hotel_common.events.memory import InMemoryBroker
from hotel_common.principal import (
    ANONYMOUS,
    DEFAULT_LIFETIME_SECONDS,
    InvalidPrincipal,
    Kind,
    Principal,
    Purpose,
    Role,
    booking_token,
    sign,
    signed_header,
    verify,
    verify_booking_token,
)
from hotel_common.service import ServiceSpec, create_service_app
from hotel_common.settings import ServiceSettings
from hotel_common.testing import assert_problem, principal_headers, running

SECRET = "s" * 32
CLERK = Principal(id="staff:1", kind=Kind.STAFF, roles=frozenset({Role.FRONT_DESK}))


def test_a_signed_principal_round_trips_and_any_change_is_refused() -> None:
    partner = Principal(id="partner:7", kind=Kind.PARTNER, channel="ota_x")
    value = sign(partner, SECRET)
    assert verify(value, SECRET).model_copy(update={"expires": 0}) == partner
    payload, mac = value.split(".")
    forged = sign(partner.model_copy(update={"channel": "ota_y"}), SECRET).split(".")[0]
    # One bit of the signature's bytes flipped: always another signature (writing "AA" over
    # its last two characters left it whole whenever it ended in "AA").
    raw = bytearray(base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4)))
    raw[-1] ^= 0x01
    tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert tampered != mac
    for bad in (f"{forged}.{mac}", f"{payload}.{tampered}", payload, "", "a.b.c"):
        with pytest.raises(InvalidPrincipal):
            verify(bad, SECRET)
    with pytest.raises(InvalidPrincipal):
        verify(value, "t" * 32)


def test_expiry_and_purpose_are_part_of_the_signature() -> None:
    value = sign(CLERK, SECRET, lifetime=60)
    with pytest.raises(InvalidPrincipal, match="expired"):
        verify(value, SECRET, now=time.time() + 61)
    token = booking_token("r-1", SECRET, lifetime=3600)
    assert verify_booking_token(token, SECRET).reservation_id == "r-1"
    with pytest.raises(InvalidPrincipal):  # a booking token is not a header, nor the reverse
        verify(token.removeprefix("bk_"), SECRET)
    with pytest.raises(InvalidPrincipal):
        verify_booking_token("bk_" + value, SECRET)
    with pytest.raises(InvalidPrincipal):
        verify(value, SECRET, Purpose.BOOKING_TOKEN)


def test_roles_and_properties() -> None:
    admin = Principal(id="staff:0", kind=Kind.STAFF, roles=frozenset({Role.ADMIN}))
    assert admin.has(Role.DRIVER) and CLERK.has(Role.FRONT_DESK, Role.MANAGER)
    assert not CLERK.has(Role.MANAGER)
    scoped = CLERK.model_copy(update={"properties": frozenset({2})})
    assert scoped.sees_property(2) and not scoped.sees_property(3) and CLERK.sees_property(3)
    web = ANONYMOUS.model_copy(update={"ip": "10.0.0.1"})
    assert web.idempotency_owner == "anonymous@10.0.0.1" and CLERK.idempotency_owner == "staff:1"


async def test_a_service_answers_only_a_signed_principal(toy_spec: ServiceSpec, tmp_path) -> None:
    settings = ServiceSettings(
        service_name="toy-service",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/toy.db",
        internal_secret=SECRET,
        log_json=False,
    )
    app = create_service_app(toy_spec, settings, InMemoryBroker())
    async with running(app, principal=None) as client:
        assert (await client.get("/health/live")).status_code == 200
        assert (await client.get("/openapi.json")).status_code == 200
        assert_problem(await client.get("/api/v1/notes"), 401, "unauthenticated")
        wrong_key = principal_headers(CLERK)  # signed with the development secret
        assert_problem(await client.get("/api/v1/notes", headers=wrong_key), 401, "unauthenticated")
        clerk = principal_headers(CLERK, SECRET)
        assert (await client.get("/api/v1/notes", headers=clerk)).status_code == 200
        assert_problem(await client.get("/admin/outbox", headers=clerk), 403, "forbidden")
        admin = principal_headers(
            CLERK.model_copy(update={"roles": frozenset({Role.ADMIN})}), SECRET
        )
        assert (await client.get("/admin/outbox", headers=admin)).status_code == 200


def test_a_signed_header_is_reused_only_for_the_same_principal_and_secret() -> None:
    first = signed_header(CLERK, SECRET)
    assert signed_header(CLERK, SECRET) == first
    assert verify(first, SECRET).id == CLERK.id
    other = CLERK.model_copy(update={"ip": "10.0.0.9"})
    assert verify(signed_header(other, SECRET), SECRET).ip == "10.0.0.9"
    with pytest.raises(InvalidPrincipal):
        verify(signed_header(CLERK, "t" * 32), SECRET)
    # Reused while more than half its lifetime is left: never handed out near expiry.
    assert verify(first, SECRET, now=time.time() + DEFAULT_LIFETIME_SECONDS / 2).id == CLERK.id
