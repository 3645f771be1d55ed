"""Cross-tenant probes through the gateway: a partner, a guest, a driver and a member of staff
each reach their own records and nothing of anyone else's, however they ask (by id, by list,
by confirmation number or email filter, by reusing another caller's Idempotency-Key). Each
probe has its positive twin, so a platform that hides everything from everyone fails too."""

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hotel_common.testing import assert_problem
from identities import PASSWORD, PREFIX, LivePlatform, bearer, booking_body, unique_email


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePlatform]:
    with LivePlatform(tmp_path_factory.mktemp("tenants")) as platform:
        yield platform.enroll()


def as_(live: LivePlatform, kind: str) -> httpx.Client:
    return live.client(kind)


def items(answer: httpx.Response) -> list[dict[str, Any]]:
    assert answer.status_code == 200, answer.text
    page: list[dict[str, Any]] = answer.json()["items"]
    return page


def ids(answer: httpx.Response) -> set[str]:
    return {str(item["id"]) for item in items(answer)}


def test_partner_b_cannot_reach_partner_a_booking(live: LivePlatform) -> None:
    booking = live.records.reservations["partner_a"]
    rid, number = booking["id"], booking["confirmation_number"]
    email = live.records.emails["partner_a"]
    with as_(live, "partner_b") as b, as_(live, "partner_a") as a:
        assert_problem(b.get(f"{PREFIX}/reservations/{rid}"), 404, "reservation_not_found")
        assert_problem(b.post(f"{PREFIX}/reservations/{rid}/confirm"), 404, "reservation_not_found")
        assert_problem(
            b.post(f"{PREFIX}/reservations/{rid}/cancel", json={"reason": "not mine"}),
            404,
            "reservation_not_found",
        )
        assert rid not in ids(b.get(f"{PREFIX}/reservations", params={"limit": 100}))
        assert items(b.get(f"{PREFIX}/reservations", params={"confirmation_number": number})) == []
        assert items(b.get(f"{PREFIX}/reservations", params={"email": email})) == []
        # B's own booking is B's; A reaches its own by every road B tried, and it still stands.
        own = live.records.reservations["partner_b"]["id"]
        assert own in ids(b.get(f"{PREFIX}/reservations", params={"limit": 100}))
        assert a.get(f"{PREFIX}/reservations/{rid}").status_code == 200
        assert ids(a.get(f"{PREFIX}/reservations", params={"confirmation_number": number})) == {rid}
        assert ids(a.get(f"{PREFIX}/reservations", params={"email": email})) == {rid}
        assert a.get(f"{PREFIX}/reservations/{rid}").json()["status"] == "confirmed"


def test_an_idempotency_key_reused_by_another_partner_makes_its_own_booking(
    live: LivePlatform,
) -> None:
    body = booking_body(unique_email("idem"))
    key = {"Idempotency-Key": f"shared-{uuid.uuid4().hex}"}
    with as_(live, "partner_a") as a, as_(live, "partner_b") as b:
        first = a.post(f"{PREFIX}/reservations", json=body, headers=key)
        assert first.status_code == 201, first.text
        replay = a.post(f"{PREFIX}/reservations", json=body, headers=key)
        assert replay.json()["id"] == first.json()["id"]  # the key works for its owner

        theirs = b.post(f"{PREFIX}/reservations", json=body, headers=key)
        assert theirs.status_code == 201, theirs.text
        made = theirs.json()
        assert made["id"] != first.json()["id"]
        assert made["confirmation_number"] != first.json()["confirmation_number"]
        assert made["channel"] == "ota_b"
        assert first.json()["channel"] == "ota_a"
        assert b.get(f"{PREFIX}/reservations/{first.json()['id']}").status_code == 404
        assert b.get(f"{PREFIX}/reservations/{made['id']}").status_code == 200


def test_a_guest_sees_only_their_own_bookings_transfers_and_notices(live: LivePlatform) -> None:
    records = live.records
    mine, theirs = "guest", "partner_a"  # guest X made one; partner A booked for guest Y
    guest_y = live.guest_headers_sync(records.emails[theirs])
    with as_(live, "guest") as x, live.client() as anonymous:
        y = httpx.Client(base_url=live.url, headers=guest_y, timeout=30)
        with y:
            for guest, own, other in ((x, mine, theirs), (y, theirs, mine)):
                own_booking = records.reservations[own]["id"]
                other_booking = records.reservations[other]["id"]
                assert guest.get(f"{PREFIX}/reservations/{own_booking}").status_code == 200
                assert_problem(
                    guest.get(f"{PREFIX}/reservations/{other_booking}"),
                    404,
                    "reservation_not_found",
                )
                listed = ids(guest.get(f"{PREFIX}/reservations", params={"limit": 100}))
                assert own_booking in listed
                assert other_booking not in listed

                own_job, other_job = records.transfers[own]["id"], records.transfers[other]["id"]
                assert guest.get(f"{PREFIX}/transfers/{own_job}").status_code == 200
                assert guest.get(f"{PREFIX}/transfers/{other_job}").status_code == 404
                jobs = ids(guest.get(f"{PREFIX}/transfers", params={"limit": 100}))
                assert str(own_job) in jobs
                assert str(other_job) not in jobs

                own_notice = records.notifications[own]
                other_notice = records.notifications[other]
                assert guest.get(f"{PREFIX}/notifications/{own_notice}").status_code == 200
                assert guest.get(f"{PREFIX}/notifications/{other_notice}").status_code == 404
                notices = items(guest.get(f"{PREFIX}/notifications", params={"limit": 100}))
                assert own_notice in {n["id"] for n in notices}
                assert {n["reservation_id"] for n in notices} <= {
                    r["id"]
                    for name, r in records.reservations.items()
                    if records.emails[name] == records.emails[own]
                }
        # Nobody signed in sees any of it.
        assert anonymous.get(f"{PREFIX}/reservations").status_code == 401
        assert anonymous.get(f"{PREFIX}/transfers").status_code == 401


def test_a_driver_sees_only_their_own_jobs(live: LivePlatform) -> None:
    records = live.records
    mine = records.transfers["guest"]
    driver_id = mine["driver"]["id"]
    with as_(live, "driver") as driver:
        jobs = items(driver.get(f"{PREFIX}/transfers", params={"limit": 100}))
        assert [job["id"] for job in jobs] == [mine["id"]]
        assert driver.get(f"{PREFIX}/transfers/{mine['id']}").status_code == 200
        for other in ("anonymous", "partner_a"):
            job = records.transfers[other]
            assert job["driver"]["id"] != driver_id
            assert driver.get(f"{PREFIX}/transfers/{job['id']}").status_code == 404
        # Asking for another driver's jobs by filter finds nothing either.
        other_driver = records.transfers["partner_a"]["driver"]["id"]
        assert items(driver.get(f"{PREFIX}/transfers", params={"driver_id": other_driver})) == []
    with as_(live, "dispatcher") as dispatcher:  # the dispatcher sees every job
        every = ids(dispatcher.get(f"{PREFIX}/transfers", params={"limit": 100}))
        assert {str(job["id"]) for job in records.transfers.values()} <= every


def staff_sign_in(live: LivePlatform, roles: list[str], properties: list[int]) -> httpx.Client:
    with live.client("admin") as admin:
        email = unique_email("desk")
        made = admin.post(
            f"{PREFIX}/staff-users",
            json={
                "email": email,
                "name": "Desk",
                "password": PASSWORD,
                "roles": roles,
                "properties": properties,
                "driver_id": None,
            },
        )
        assert made.status_code == 201, made.text
        assert made.json()["properties"] == properties
        token = admin.post(f"{PREFIX}/auth/token", data={"username": email, "password": PASSWORD})
        assert token.status_code == 200, token.text
    return httpx.Client(base_url=live.url, headers=bearer(token.json()["access_token"]), timeout=30)


def test_staff_see_only_their_properties(live: LivePlatform) -> None:
    with live.client("admin") as admin:
        annex = admin.post(
            f"{PREFIX}/properties",
            json={
                "name": f"Annex {uuid.uuid4().hex[:6]}",
                "timezone": "Asia/Shanghai",
                "currency": "CNY",
                "check_in_time": "14:00:00",
                "check_out_time": "12:00:00",
            },
        )
        assert annex.status_code == 201, annex.text
        second = annex.json()["id"]
        room_type = admin.post(
            f"{PREFIX}/room-types",
            json={
                "code": "ANX",
                "name": "Annex room",
                "capacity": 2,
                "bed_type": "queen",
                "base_amount": 40000,
                "property_id": second,
            },
        )
        assert room_type.status_code == 201, room_type.text
        for number in ("A101", "A102"):
            room = admin.post(
                f"{PREFIX}/rooms",
                json={"number": number, "floor": 1, "room_type_code": "ANX", "property_id": second},
            )
            assert room.status_code == 201, room.text
        booked = admin.post(
            f"{PREFIX}/reservations",
            json=booking_body(unique_email("annex"), property_id=second, room_type="ANX"),
        )
        assert booked.status_code == 201, booked.text
    annex_booking = booked.json()
    first_booking = live.records.reservations["partner_a"]
    assert first_booking["property_id"] != second

    first_desk = staff_sign_in(live, ["front_desk"], [first_booking["property_id"]])
    annex_desk = staff_sign_in(live, ["front_desk"], [second])
    with first_desk, annex_desk:
        path = f"{PREFIX}/reservations/{annex_booking['id']}"
        assert_problem(first_desk.get(path), 404, "reservation_not_found")
        assert_problem(first_desk.post(f"{path}/cancel", json={}), 404, "reservation_not_found")
        by_number = {"confirmation_number": annex_booking["confirmation_number"]}
        assert items(first_desk.get(f"{PREFIX}/reservations", params=by_number)) == []
        listed = items(first_desk.get(f"{PREFIX}/reservations", params={"limit": 100}))
        assert listed
        assert {r["property_id"] for r in listed} == {first_booking["property_id"]}
        assert first_desk.get(f"{PREFIX}/reservations/{first_booking['id']}").status_code == 200

        # The annex's desk: the mirror image.
        assert annex_desk.get(path).status_code == 200
        assert ids(annex_desk.get(f"{PREFIX}/reservations", params=by_number)) == {
            annex_booking["id"]
        }
        assert_problem(
            annex_desk.get(f"{PREFIX}/reservations/{first_booking['id']}"),
            404,
            "reservation_not_found",
        )
