"""The staff dashboard on both run modes (embedded: in-memory bus and SQLite; distributed:
RabbitMQ, PostgreSQL, two replicas of every service), driven over HTTP as a browser without
scripts would: sign in through the form, read the pages, post the forms they render (their
csrf and idem fields included), keep the cookies. What the desk and dispatch do in a day:
today's arrival gets a room and is checked in, its pickup is on the dispatch board, and a
breakdown of its vehicle moves the job."""

import uuid
from datetime import timedelta
from typing import Any

from dashboard_http import Session, book, form_to, row_of, signed_in
from harness import Platform
from hotel_common.testing import eventually


async def _job(platform: Platform, booking_id: str) -> dict[str, Any]:
    """The booking's pickup job (transfer-service makes it from the booking's event)."""
    answer = await eventually(
        lambda: platform.client.get("/api/v1/transfers", params={"reservation_id": booking_id}),
        lambda r: r.status_code == 200 and bool(r.json()["items"]),
        timeout=20,
    )
    job: dict[str, Any] = answer.json()["items"][0]
    return job


async def assign_and_check_in(desk: Session, booking_id: str) -> str:
    """Through the Today page: the assign form (best room), then the check-in form; the board
    the last post answered with."""
    picked = await desk.get(f"/dashboard/today/{booking_id}/assign", htmx=True)
    assert picked.status_code == 200, picked.text[:300]
    assign = form_to(picked.text, f"/dashboard/today/{booking_id}/assign-room")
    assert assign.fields["csrf"] and assign.fields["idem"]
    assert assign.options["room_id"], "no room suggested"
    assigned = await desk.submit(assign, htmx=True)
    assert assigned.status_code == 200, assigned.text[:300]
    assert "Room " in assigned.headers.get("hx-trigger", "") or assigned.headers.get("hx-trigger")
    row = row_of(assigned.text, booking_id)
    assert row and "No room" not in row, row

    shown = await desk.get(f"/dashboard/today/{booking_id}/check-in", htmx=True)
    check_in = form_to(shown.text, f"/dashboard/today/{booking_id}/check-in")
    checked = await desk.submit(
        check_in, htmx=True, issuing_country="CN", last4="1234", attested="yes", method="cash"
    )
    assert checked.status_code == 200, checked.text[:300]
    assert 'class="problem"' not in checked.text, checked.text
    return checked.text


async def test_the_desk_and_dispatch_run_the_day_through_the_dashboard(
    platform: Platform,
) -> None:
    guest = f"Modes Arrival {uuid.uuid4().hex[:6]}"
    booking = await book(platform, guest, pickup_in=timedelta(hours=2))
    desk = await signed_in(platform, "front_desk")

    # Today's arrival, with its pickup, on the Today page.
    today = await desk.page("/dashboard/today")
    row = row_of(today, booking["id"])
    assert guest in row and "MU5101" in row, row

    board = await assign_and_check_in(desk, booking["id"])
    assert "Checked in" in row_of(board, booking["id"])  # arrived today: stays listed
    in_house = row_of(board, booking["id"], "in_house")
    assert guest in in_house and "Checked in" in in_house, in_house
    # A reload shows the same (read again, not the fragment's copy).
    assert "Checked in" in row_of(await desk.page("/dashboard/today"), booking["id"], "in_house")
    api = platform.client
    stored = (await api.get(f"/api/v1/reservations/{booking['id']}")).json()
    assert stored["status"] == "checked_in"

    # The pickup on the dispatch board (the desk reads it).
    job = await _job(platform, booking["id"])
    assert f'href="/dashboard/dispatch/jobs/{job["id"]}">{guest}<' in await desk.page(
        "/dashboard/dispatch"
    )

    # A dispatcher gives the job a crew if it has none, then reports that vehicle broken.
    dispatcher = await signed_in(platform, "dispatcher")
    if job["vehicle"] is None:
        page = await dispatcher.page(f"/dashboard/dispatch/jobs/{job['id']}")
        crew = form_to(page, f"/dashboard/dispatch/jobs/{job['id']}/assign")
        done = await dispatcher.submit(crew)
        assert done.status_code == 303, done.text[:500]
        job = (await api.get(f"/api/v1/transfers/{job['id']}")).json()
    broken = job["vehicle"]
    assert broken is not None
    board_page = await dispatcher.page("/dashboard/dispatch")
    incident = form_to(board_page, "/dashboard/dispatch/incidents")
    assert str(broken["id"]) in incident.options["vehicle_id"]
    reported = await dispatcher.submit(
        incident, vehicle_id=str(broken["id"]), description="Flat tyre on the ring road"
    )
    assert reported.status_code == 303 and reported.headers["location"] == "/dashboard/dispatch"

    after = (await api.get(f"/api/v1/transfers/{job['id']}")).json()
    detail = await dispatcher.page(f"/dashboard/dispatch/jobs/{job['id']}")
    if after["vehicle"] is not None:  # moved to another car: the job page names it
        assert after["vehicle"]["id"] != broken["id"]
        assert f"{after['vehicle']['plate']} · {after['vehicle']['description']}" in detail
    else:  # nobody free: unassigned, flagged for dispatch
        assert "Unassigned" in detail
    assert "reassign" in detail.lower() or "unassign" in detail.lower()
    await desk.aclose()
    await dispatcher.aclose()
