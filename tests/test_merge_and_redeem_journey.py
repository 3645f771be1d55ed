"""Loyalty accounts under merging and under concurrent redemptions, through the gateway on both
run modes (issue 19).

One person stayed under two addresses: two profiles, two members, each with the points of
their stay. The desk merges them (the survivor holds both stays and all the points), then finds
it was a mistake and undoes it: each profile has its own stay and its own points again.

A member spends their whole balance twice at the same moment (two devices, two requests):
exactly one redemption goes through; the balance never goes below zero.
"""

import asyncio
import uuid
from typing import Any

import httpx
from harness import Platform, stay_one_night
from hotel_common.testing import eventually


async def member_of(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    """The member (once enrolled by the stay's check-out) of the profile holding `email`."""
    found = await eventually(
        lambda: client.get("/api/v1/guests", params={"email": email}),
        lambda r: r.status_code == 200 and len(r.json()["items"]) == 1,
    )
    guest_id = found.json()["items"][0]["id"]
    members = await eventually(
        lambda: client.get("/api/v1/loyalty/members", params={"guest_id": guest_id}),
        lambda r: r.status_code == 200 and len(r.json()["items"]) == 1,
        timeout=20,
    )
    member: dict[str, Any] = members.json()["items"][0]
    return member


async def balance(client: httpx.AsyncClient, number: str) -> int:
    answer = await client.get(f"/api/v1/loyalty/members/{number}")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["points_balance"])


async def stays(client: httpx.AsyncClient, guest_id: str) -> list[str]:
    answer = await client.get(f"/api/v1/guests/{guest_id}")
    assert answer.status_code == 200, answer.text
    return sorted(s["reservation_id"] for s in answer.json()["stays"])


async def test_a_merge_of_two_members_undone_gives_each_their_points_and_stays_back(
    platform: Platform,
) -> None:
    client = platform.client
    run = uuid.uuid4().hex[:6]
    home, work = f"wu.fang.{run}@example.com", f"fang.wu.{run}@work.example.com"
    first = await stay_one_night(client, "Wu Fang", home)
    second = await stay_one_night(client, "Wu Fang", work)
    kept, absorbed = await member_of(client, home), await member_of(client, work)
    kept_points, absorbed_points = kept["points_balance"], absorbed["points_balance"]
    assert kept_points > 0 and absorbed_points > 0
    survivor, other = kept["guest_id"], absorbed["guest_id"]

    merged = await client.post(
        "/api/v1/guest-merges",
        json={"survivor_id": survivor, "absorbed_id": other},
        headers={"Idempotency-Key": f"merge-{run}"},
    )
    assert merged.status_code == 201, merged.text
    assert await balance(client, kept["member_number"]) == kept_points + absorbed_points
    assert await stays(client, survivor) == sorted([first["id"], second["id"]])

    undone = await client.post(f"/api/v1/guest-merges/{merged.json()['id']}/undo")
    assert undone.status_code == 200, undone.text

    assert await balance(client, kept["member_number"]) == kept_points
    assert await balance(client, absorbed["member_number"]) == absorbed_points
    assert await stays(client, survivor) == [first["id"]]
    assert await stays(client, other) == [second["id"]]
    again = await client.post(f"/api/v1/guest-merges/{merged.json()['id']}/undo")
    assert again.status_code == 409, again.text


async def test_two_redemptions_of_the_whole_balance_at_once_one_goes_through(
    platform: Platform,
) -> None:
    client = platform.client
    email = f"he.jing.{uuid.uuid4().hex[:6]}@example.com"
    await stay_one_night(client, "He Jing", email)
    member = await member_of(client, email)
    number, points = member["member_number"], member["points_balance"]
    whole = points - points % 10  # folio credit goes by 10 points a yuan
    assert whole > points / 2  # two of them would overdraw

    async def redeem(device: str) -> httpx.Response:
        return await client.post(
            f"/api/v1/loyalty/members/{number}/redemptions",
            json={"kind": "folio_credit", "points": whole},
            headers={"Idempotency-Key": f"{device}-{number}"},
        )

    answers = await asyncio.gather(redeem("phone"), redeem("tablet"))

    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert await balance(client, number) == points - whole
    listed = await client.get(f"/api/v1/loyalty/members/{number}/redemptions")
    assert len(listed.json()["items"]) == 1
