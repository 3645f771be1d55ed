"""The demo day `hotel-platform run` seeds (launcher/demo_day.py), read back through the API:
today's arrivals with pickups, guests in house, a complaint, past stays that checked out and
analytics for a past night; seeding again the same day adds nothing."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from gateway.identity.testing import bearer, staff_token
from hotel_common.testing import eventually
from launcher.cli import parser
from launcher.demo_day import HISTORY, TODAY, hotel_today, seed_demo_day, with_demo_day
from launcher.embedded import create_embedded_app

FAST = {"retry_delays": [0.05, 0.1], "outbox_poll_seconds": 0.2, "log_json": False}
SERVICES = ["reservation-service", "transfer-service", "guest-service", "notification-service"]


async def items(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1" + path, params={"limit": 100, **params})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def test_the_demo_day_shows_a_hotels_day_and_is_seeded_once_a_day(tmp_path: Path) -> None:
    overrides = {name: FAST for name in [*SERVICES, "partner-service", "gateway"]}
    app = create_embedded_app(tmp_path / "data", overrides=overrides)
    with_demo_day(app)
    today = hotel_today()
    ours = {stay.email for stay in TODAY + HISTORY}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://gw",
            headers=bearer(staff_token(app.state.settings)),
        ) as client,
    ):
        arrivals = await items(
            client, "/reservations", check_in_from=today.isoformat(), check_in_to=today.isoformat()
        )
        assert {a["guest"]["email"] for a in arrivals} >= {s.email for s in TODAY if not s.arrives}
        assert {a["status"] for a in arrivals} == {"confirmed", "requested"}
        with_pickup = [a for a in arrivals if a["transfer"]]
        assert len(with_pickup) >= 4
        assert all(a["transfer"]["arrival_time"] > a["created_at"] for a in with_pickup)

        async def scheduled() -> list[dict[str, Any]]:
            ids = {a["id"] for a in with_pickup}
            jobs = await items(client, "/transfers", date=today.isoformat())
            jobs += await items(client, "/transfers", date=(today + timedelta(1)).isoformat())
            return [j for j in jobs if j.get("reservation_id") in ids]

        await eventually(scheduled, lambda jobs: len(jobs) == len(with_pickup), timeout=10)

        in_house = await items(client, "/reservations", status="checked_in")
        assert len([r for r in in_house if r["guest"]["email"] in ours]) >= 4
        assert any(r["check_out"] == today.isoformat() for r in in_house)  # leaving today

        complaints = await items(client, "/complaints")
        assert len(complaints) == 1

        departed = await items(client, "/reservations", status="checked_out")
        assert len(departed) >= 5
        assert all(r["check_out"] < today.isoformat() for r in departed)
        assert await items(client, "/reservations", status="cancelled")

        past = {"from": str(today - timedelta(days=3)), "to": str(today - timedelta(days=2))}
        answer = await client.get("/api/v1/analytics/occupancy", params=past)
        assert answer.status_code == 200, answer.text
        [night] = answer.json()["nights"]
        assert night["rooms_sold"] > 0 and night["room_revenue"] > 0

        members = await items(client, "/loyalty/members")
        assert len(members) >= 3

        # `make run` again the same day: its markers are found, nothing is added.
        before = await items(client, "/reservations")
        await seed_demo_day(app)
        assert len(await items(client, "/reservations")) == len(before)
        assert len(await items(client, "/complaints")) == 1


def test_only_run_seeds_the_demo_day_unless_told_not_to() -> None:
    assert parser().parse_args(["run"]).demo_day is True
    assert parser().parse_args(["run", "--no-demo-day"]).demo_day is False
