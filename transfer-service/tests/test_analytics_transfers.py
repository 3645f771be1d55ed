"""Transfer analytics through the API over a period of local pickup dates: on-time rate (the
driver on site no later than the pickup time, over jobs whose arrival was recorded), average
guest wait (floor 0), utilisation per vehicle and driver, jobs per driver; managers only. On
SQLite and on PostgreSQL, aggregated by the database."""

from datetime import UTC, datetime, time, timedelta

from hotel_common.principal import Role
from transfer_service.models import DriverShift

from .money_support import DAY, Desk, desk, local, staff

__all__ = ["desk"]

MANAGER = staff(Role.MANAGER)


async def test_on_time_wait_utilisation_and_jobs_per_driver(desk: Desk) -> None:
    van, sedan = await desk.vehicle("van"), await desk.vehicle("sedan")
    # A standing 08:00-18:00 shift: 600 minutes a day.
    wang = await desk.driver("Wang Lei", shift_start=time(8), shift_end=time(18))
    # A night shift past midnight (22:00-06:00, 480 minutes) and one dated 4-hour shift.
    zhao = await desk.driver("Zhao Min", shift_start=time(22), shift_end=time(6))
    idle = await desk.driver("Idle")
    start = datetime.combine(DAY, time(2), tzinfo=UTC)
    await desk.add(
        DriverShift(driver_id=zhao.id, starts_at=start, ends_at=start + timedelta(hours=4))
    )

    p1, p2, p3 = local(DAY, 10), local(DAY, 14), local(DAY, 23)
    crew_a = {"vehicle_id": van.id, "driver_id": wang.id}
    # On time, guest boarded 10 minutes late; crew window 210 minutes (fixture default).
    await desk.job(
        p1,
        **crew_a,
        status="completed",
        on_site_at=p1 - timedelta(minutes=5),
        on_board_at=p1 + timedelta(minutes=10),
    )
    # Driver late by 3 minutes; guest boarded before the pickup time (wait 0).
    await desk.job(
        p2,
        **crew_a,
        status="completed",
        on_site_at=p2 + timedelta(minutes=3),
        on_board_at=p2 - timedelta(minutes=2),
    )
    # A no-show: on site exactly at pickup time (on time), nobody boarded.
    await desk.job(p3, vehicle_id=sedan.id, driver_id=zhao.id, status="no_show", on_site_at=p3)
    # Two jobs of one shared ride count once for busy time: windows overlap by 60 minutes.
    ride = "ride-1"
    await desk.job(p1, vehicle_id=sedan.id, driver_id=zhao.id, status="assigned", ride_id=ride)
    await desk.job(
        p1 + timedelta(minutes=60),
        vehicle_id=sedan.id,
        driver_id=zhao.id,
        status="assigned",
        ride_id=ride,
    )
    # Cancelled and requested jobs hold no crew; a job outside the period is left out.
    await desk.job(p2, vehicle_id=van.id, driver_id=wang.id, status="cancelled")
    await desk.job(p2, status="requested")
    await desk.job(
        local(DAY + timedelta(days=5), 10),
        **crew_a,
        status="completed",
        on_site_at=local(DAY + timedelta(days=5), 11),
    )

    response = await desk.get(
        "/api/v1/analytics/transfers", MANAGER, **{"from": str(DAY), "to": str(DAY)}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["from"], report["to"]) == (str(DAY), str(DAY))
    assert report["jobs"] == 7
    assert report["by_status"] == {
        "completed": 2,
        "no_show": 1,
        "assigned": 2,
        "cancelled": 1,
        "requested": 1,
    }
    assert report["on_time"] == {"measured": 3, "on_time": 2, "rate": 0.6667}
    assert report["guest_wait"] == {"measured": 2, "average_minutes": 5.0}

    vehicles = {v["vehicle_id"]: v for v in report["vehicles"]}
    assert vehicles[van.id]["jobs"] == 2 and vehicles[van.id]["busy_minutes"] == 420
    assert vehicles[van.id]["available_minutes"] == 1440
    assert vehicles[van.id]["utilisation"] == round(420 / 1440, 4)
    # sedan: the shared ride (210 + 60 = 270 minutes) and the no-show (210)
    assert vehicles[sedan.id]["jobs"] == 3 and vehicles[sedan.id]["busy_minutes"] == 480

    drivers = {d["driver_id"]: d for d in report["drivers"]}
    assert (drivers[wang.id]["jobs"], drivers[wang.id]["completed"]) == (2, 2)
    assert drivers[wang.id]["available_minutes"] == 600
    assert drivers[wang.id]["utilisation"] == 0.7
    assert (drivers[zhao.id]["jobs"], drivers[zhao.id]["no_show"]) == (3, 1)
    assert drivers[zhao.id]["available_minutes"] == 480 + 240
    assert drivers[zhao.id]["busy_minutes"] == 480
    assert drivers[idle.id]["jobs"] == 0 and drivers[idle.id]["utilisation"] is None

    week = await desk.get(
        "/api/v1/analytics/transfers",
        MANAGER,
        **{"from": str(DAY), "to": str(DAY + timedelta(days=6))},
    )
    assert week.json()["jobs"] == 8
    assert {d["driver_id"]: d for d in week.json()["drivers"]}[wang.id]["available_minutes"] == 4200


async def test_nothing_measured_and_bad_periods(desk: Desk) -> None:
    empty = await desk.get(
        "/api/v1/analytics/transfers", MANAGER, **{"from": str(DAY), "to": str(DAY)}
    )
    assert empty.status_code == 200
    assert empty.json()["on_time"]["rate"] is None
    assert empty.json()["guest_wait"]["average_minutes"] is None
    backwards = await desk.get(
        "/api/v1/analytics/transfers",
        MANAGER,
        **{"from": str(DAY), "to": str(DAY - timedelta(days=1))},
    )
    assert (backwards.status_code, backwards.json()["code"]) == (422, "invalid_period")
    long = await desk.get(
        "/api/v1/analytics/transfers",
        MANAGER,
        **{"from": str(DAY), "to": str(DAY + timedelta(days=400))},
    )
    assert (long.status_code, long.json()["code"]) == (422, "period_too_long")
    for role in (Role.DISPATCHER, Role.FRONT_DESK, Role.DRIVER):
        refused = await desk.get(
            "/api/v1/analytics/transfers", staff(role), **{"from": str(DAY), "to": str(DAY)}
        )
        assert refused.status_code == 403, role
