"""Two profiles of one person: suggested by matching, merged by the desk with their whole
history, and split again by an undo; never merged by a booking on its own."""

from collections.abc import Callable
from typing import Any

from hotel_common.contracts.reservations import ReservationConfirmed
from hotel_common.principal import Kind, Principal, Role
from hotel_common.testing import Probe, assert_problem, eventually, principal_headers

from .conftest import GuestService

Book = Callable[..., ReservationConfirmed]
MERGES = "/api/v1/guest-merges"
SUGGESTIONS = "/api/v1/guests/merge-suggestions"


async def two_profiles_of_one_phone(
    service: GuestService, make_booking: Book
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Lin Mei booked with her private email, then with her work email and the same phone:
    two profiles and a suggestion to merge them."""
    service.deliver(
        make_booking(email="lin.mei@example.com", phone="+8613900139000", name="Lin Mei")
    )
    first = await service.profile_with_stays("lin.mei@example.com", 1)
    service.deliver(
        make_booking(email="mei.lin@work.example", phone="+8613900139000", name="Lin Mei")
    )
    second = await service.profile_with_stays("mei.lin@work.example", 1)
    [suggestion] = await service.suggestions()
    return first, second, suggestion


async def test_a_merge_moves_the_history_to_the_survivor_and_an_undo_moves_it_back(
    service: GuestService, make_booking: Book
) -> None:
    first, second, suggestion = await two_profiles_of_one_phone(service, make_booking)
    probe = Probe(service.broker, {"guest.merged", "guest.merge_undone"})

    merged = await service.client.post(
        MERGES,
        json={
            "survivor_id": first["id"],
            "absorbed_id": second["id"],
            "suggestion_id": suggestion["id"],
        },
    )

    assert merged.status_code == 201, merged.text
    merge = merged.json()
    assert merge | {"merged_by": "x"} == merge | {
        "survivor_id": first["id"],
        "absorbed_id": second["id"],
        "suggestion_id": suggestion["id"],
        "merged_by": "x",
        "undone_at": None,
    }
    assert merge["merged_by"]  # the admin the test client signs in as
    assert "stays" in merge["parts"]
    survivor = await service.guest(first["id"])
    both = {s["reservation_id"] for s in first["stays"] + second["stays"]}
    assert {s["reservation_id"] for s in survivor["stays"]} == both
    assert (await service.guest(second["id"]))["stays"] == []
    assert await service.suggestions() == []
    assert [s["id"] for s in await service.suggestions(status="merged")] == [suggestion["id"]]
    closed = await service.client.post(f"{SUGGESTIONS}/{suggestion['id']}/dismiss")
    assert_problem(closed, 409, "suggestion_closed")
    [event] = await _events(probe, "guest.merged")
    assert event.payload | {"at": None} == {
        "merge_id": merge["id"],
        "guest_id": first["id"],
        "absorbed_id": second["id"],
        "merged_by": merge["merged_by"],
        "at": None,
    }

    # A later booking of the absorbed profile's email belongs to the survivor.
    later = make_booking(email="MEI.LIN@work.example", phone=None, name="Lin Mei")
    service.deliver(later)
    survivor = await service.profile_with_stays("lin.mei@example.com", 3)
    assert later.reservation_id in {s["reservation_id"] for s in survivor["stays"]}

    undone = await service.client.post(f"{MERGES}/{merge['id']}/undo")

    assert undone.status_code == 200, undone.text
    assert undone.json()["undone_at"] is not None
    back = await service.guest(second["id"])
    assert [s["reservation_id"] for s in back["stays"]] == [second["stays"][0]["reservation_id"]]
    kept = {s["reservation_id"] for s in (await service.guest(first["id"]))["stays"]}
    assert kept == {first["stays"][0]["reservation_id"], later.reservation_id}
    [event] = await _events(probe, "guest.merge_undone")
    assert (event.payload["merge_id"], event.payload["absorbed_id"]) == (merge["id"], second["id"])
    assert event.aggregate_version is not None
    merged_event = (await _events(probe, "guest.merged"))[0]
    assert event.aggregate_version > (merged_event.aggregate_version or 0)
    # Staff found them two people: the pair is not suggested again.
    assert [s["id"] for s in await service.suggestions(status="dismissed")] == [suggestion["id"]]

    again = await service.client.post(f"{MERGES}/{merge['id']}/undo")
    assert_problem(again, 409, "merge_already_undone")
    read = await service.client.get(f"{MERGES}/{merge['id']}")
    assert read.status_code == 200 and read.json()["undone_by"] == merge["merged_by"]


async def _events(probe: Probe, event_type: str) -> list[Any]:
    return await eventually(lambda: probe.events(event_type), until=bool)


async def test_a_merge_refused_writes_nothing(service: GuestService, make_booking: Book) -> None:
    first, second, _ = await two_profiles_of_one_phone(service, make_booking)
    third = await service.create(name="Zhou Jie", email="zhou.jie@example.com")

    itself = await service.client.post(
        MERGES, json={"survivor_id": first["id"], "absorbed_id": first["id"]}
    )
    assert_problem(itself, 422, "merge_with_itself")
    unknown = await service.client.post(
        MERGES, json={"survivor_id": first["id"], "absorbed_id": "no-such-guest"}
    )
    assert_problem(unknown, 404, "guest_not_found")
    extra = await service.client.post(
        MERGES, json={"survivor_id": first["id"], "absorbed_id": second["id"], "by": "me"}
    )
    assert extra.status_code == 422
    [suggestion] = await service.suggestions()
    mismatch = await service.client.post(
        MERGES,
        json={
            "survivor_id": first["id"],
            "absorbed_id": third["id"],
            "suggestion_id": suggestion["id"],
        },
    )
    assert_problem(mismatch, 422, "suggestion_mismatch")
    assert len((await service.guest(first["id"]))["stays"]) == 1
    assert len((await service.guest(second["id"]))["stays"]) == 1

    done = await service.client.post(
        MERGES, json={"survivor_id": first["id"], "absorbed_id": second["id"]}
    )
    assert done.status_code == 201
    for pair in ((third["id"], second["id"]), (second["id"], third["id"])):
        inactive = await service.client.post(
            MERGES, json={"survivor_id": pair[0], "absorbed_id": pair[1]}
        )
        body = assert_problem(inactive, 409, "guest_not_active")
        assert body["guest_id"] == second["id"]
    assert (await service.guest(third["id"]))["stays"] == []


async def test_an_undo_after_the_survivor_was_merged_again_waits_for_that_undo(
    service: GuestService, make_booking: Book
) -> None:
    first, second, _ = await two_profiles_of_one_phone(service, make_booking)
    third = await service.create(name="Lin Mei", email="lm@example.com")
    one = await service.client.post(
        MERGES, json={"survivor_id": first["id"], "absorbed_id": second["id"]}
    )
    two = await service.client.post(
        MERGES, json={"survivor_id": third["id"], "absorbed_id": first["id"]}
    )
    assert (one.status_code, two.status_code) == (201, 201)
    assert len((await service.guest(third["id"]))["stays"]) == 2

    early = await service.client.post(f"{MERGES}/{one.json()['id']}/undo")
    assert_problem(early, 409, "merge_not_undoable")

    assert (await service.client.post(f"{MERGES}/{two.json()['id']}/undo")).status_code == 200
    assert (await service.client.post(f"{MERGES}/{one.json()['id']}/undo")).status_code == 200
    for profile in (first, second):
        stays = (await service.guest(profile["id"]))["stays"]
        assert [s["id"] for s in stays] == [s["id"] for s in profile["stays"]]


async def test_a_dismissed_suggestion_stays_dismissed(
    service: GuestService, make_booking: Book
) -> None:
    _, _, suggestion = await two_profiles_of_one_phone(service, make_booking)

    dismissed = await service.client.post(f"{SUGGESTIONS}/{suggestion['id']}/dismiss")
    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["status"] == "dismissed" and dismissed.json()["decided_by"]
    twice = await service.client.post(f"{SUGGESTIONS}/{suggestion['id']}/dismiss")
    assert twice.status_code == 200

    # The same evidence again (another booking of the work email and the phone).
    service.deliver(
        make_booking(email="mei.lin@work.example", phone="+8613900139000", name="Lin Mei")
    )
    await service.profile_with_stays("mei.lin@work.example", 2)
    assert await service.suggestions() == []
    [kept] = await service.suggestions(status="dismissed")
    assert kept["reasons"] == suggestion["reasons"]
    missing = await service.client.post(f"{SUGGESTIONS}/nope/dismiss")
    assert_problem(missing, 404, "merge_suggestion_not_found")


async def test_only_the_front_desk_and_managers_merge(
    service: GuestService, make_booking: Book
) -> None:
    first, second, suggestion = await two_profiles_of_one_phone(service, make_booking)
    for role in (Role.MARKETING, Role.RESERVATIONS, Role.HOUSEKEEPING):
        staff = Principal(id="staff:9", kind=Kind.STAFF, roles=frozenset({role}))
        headers = principal_headers(staff)
        listed = await service.client.get(SUGGESTIONS, headers=headers)
        assert_problem(listed, 403, "forbidden")
        merged = await service.client.post(
            MERGES,
            json={"survivor_id": first["id"], "absorbed_id": second["id"]},
            headers=headers,
        )
        assert_problem(merged, 403, "forbidden")
    desk = principal_headers(
        Principal(id="staff:3", kind=Kind.STAFF, roles=frozenset({Role.FRONT_DESK}))
    )
    listed = await service.client.get(SUGGESTIONS, headers=desk)
    assert [s["id"] for s in listed.json()["items"]] == [suggestion["id"]]
    assert listed.json()["items"][0]["guests"][1]["email"] == "mei.lin@work.example"
    merged = await service.client.post(
        MERGES, json={"survivor_id": first["id"], "absorbed_id": second["id"]}, headers=desk
    )
    assert merged.status_code == 201 and merged.json()["merged_by"] == "staff:3"
