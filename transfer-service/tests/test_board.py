"""The dispatch board through the API: a local day's jobs in pickup order with vehicle,
driver, status, flags and the uncovered reason, plus the day's counts; dispatchers, managers
and the front desk only. On SQLite and on PostgreSQL."""

from datetime import timedelta

from hotel_common.principal import Role

from .money_support import DAY, Desk, desk, local, staff

__all__ = ["desk"]


async def test_the_board_shows_the_day_in_pickup_order_with_crew_flags_and_counts(
    desk: Desk,
) -> None:
    van, driver = await desk.vehicle("van"), await desk.driver("Wang Lei")
    late = await desk.job(local(DAY, 18), vehicle_id=van.id, driver_id=driver.id, status="assigned")
    uncovered = await desk.job(
        local(DAY, 0, 30),  # just after local midnight: still this local day
        uncovered_reason="no_driver_on_shift",
        flags=["uncovered", "escalated"],
    )
    done = await desk.job(local(DAY, 9), vehicle_id=van.id, driver_id=driver.id, status="completed")
    cancelled = await desk.job(local(DAY, 12), status="cancelled")
    await desk.job(local(DAY, 23, 59) + timedelta(minutes=2))  # the next local day
    await desk.job(local(DAY, 0) - timedelta(minutes=1))  # the day before

    response = await desk.get("/api/v1/dispatch-board", staff(Role.DISPATCHER), date=str(DAY))
    assert response.status_code == 200, response.text
    board = response.json()
    assert [j["id"] for j in board["jobs"]] == [uncovered.id, done.id, late.id]
    first, _, last = board["jobs"]
    assert first["vehicle"] is None and first["driver"] is None
    assert first["uncovered_reason"] == "no_driver_on_shift"
    assert first["flags"] == ["uncovered", "escalated"]
    assert last["vehicle"]["plate"] == van.plate and last["driver"]["name"] == "Wang Lei"
    assert last["status"] == "assigned" and last["guest_name"] == "Lin Mei"
    assert board["counts"] == {
        "total": 4,
        "by_status": {"requested": 1, "assigned": 1, "completed": 1, "cancelled": 1},
        "uncovered": 1,
        "flagged": 1,
        "escalated": 1,
    }

    with_cancelled = await desk.get(
        "/api/v1/dispatch-board", staff(Role.FRONT_DESK), date=str(DAY), cancelled="true"
    )
    assert cancelled.id in [j["id"] for j in with_cancelled.json()["jobs"]]
    assert (
        await desk.get("/api/v1/dispatch-board", staff(Role.MANAGER), date=str(DAY))
    ).status_code == 200


async def test_an_empty_day_and_the_callers_refused(desk: Desk) -> None:
    empty = await desk.get("/api/v1/dispatch-board", staff(Role.DISPATCHER), date=str(DAY))
    assert empty.json()["jobs"] == [] and empty.json()["counts"]["total"] == 0
    for role in (Role.DRIVER, Role.HOUSEKEEPING, Role.MARKETING, Role.RESERVATIONS):
        refused = await desk.get("/api/v1/dispatch-board", staff(role), date=str(DAY))
        assert refused.status_code == 403, role
    missing = await desk.get("/api/v1/dispatch-board", staff(Role.DISPATCHER))
    assert missing.status_code == 422
    bad = await desk.get("/api/v1/dispatch-board", staff(Role.DISPATCHER), date="tomorrow")
    assert bad.status_code == 422
