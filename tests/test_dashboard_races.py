"""Races and retries through the staff dashboard, on both run modes (embedded; distributed:
PostgreSQL, RabbitMQ, two replicas of every service): what a desk tablet does when a form is
sent twice (a double click, a second tab, a replay after the session's token was renewed)
and when two members act on one booking at once. Each case asserts what the user sees (the
board, a clear problem, or the same result) and, read back through the API, that nothing was
written twice: one check-in, one deposit, one incident."""

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from dashboard_http import Session, book, form_to, row_of, signed_in, staff
from harness import Platform

ACCESS = "hotel_access"


async def _history(platform: Platform, booking_id: str) -> list[dict[str, Any]]:
    answer = await platform.client.get(f"/api/v1/reservations/{booking_id}/history")
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def _actions(history: list[dict[str, Any]]) -> list[str]:
    return [str(line.get("action")) for line in history]


async def _deposits(platform: Platform, booking_id: str) -> list[dict[str, Any]]:
    folio = await platform.client.get(f"/api/v1/reservations/{booking_id}/folio")
    assert folio.status_code == 200, folio.text
    return [line for line in folio.json()["lines"] if line["kind"] == "deposit"]


async def _assign_form(desk: Session, booking_id: str) -> Any:
    shown = await desk.get(f"/dashboard/today/{booking_id}/assign", htmx=True)
    assert shown.status_code == 200, shown.text[:300]
    return form_to(shown.text, f"/dashboard/today/{booking_id}/assign-room")


async def _check_in_form(desk: Session, booking_id: str) -> Any:
    shown = await desk.get(f"/dashboard/today/{booking_id}/check-in", htmx=True)
    assert shown.status_code == 200, shown.text[:300]
    return form_to(shown.text, f"/dashboard/today/{booking_id}/check-in")


ID_SEEN = {"issuing_country": "CN", "last4": "1234", "attested": "yes", "method": "cash"}


def _checked_in_board(answer: httpx.Response, booking_id: str) -> bool:
    """The board htmx swaps in shows the booking checked in, with no refusal."""
    return (
        answer.status_code == 200
        and "Checked in" in row_of(answer.text, booking_id)
        and 'class="problem"' not in answer.text
    )


async def test_today_forms_sent_twice_are_one_operation(platform: Platform) -> None:
    """Assign-room and check-in sent twice (double click, two tabs), and sent again around a
    token renewal (below)."""
    await _check_in_and_assign_room_sent_twice(platform)
    await _renewed_session_keeps_forms_single_and_stays_signed_in(platform)


async def _check_in_and_assign_room_sent_twice(platform: Platform) -> None:
    desk = await signed_in(platform, "front_desk")

    # A double click on assign-room: the same form (one idem key) posted twice at once.
    first = await book(platform, f"Race Twice {uuid.uuid4().hex[:6]}")
    assign = await _assign_form(desk, first["id"])
    a, b = await asyncio.gather(desk.submit(assign, htmx=True), desk.submit(assign, htmx=True))
    assert a.status_code == b.status_code == 200, (a.text[:300], b.text[:300])
    assert 'class="problem"' not in a.text + b.text, (a.text, b.text)
    assert a.headers.get("hx-trigger") == b.headers.get("hx-trigger")  # the same "Room N"
    assigned = [x for x in _actions(await _history(platform, first["id"])) if "assign" in x]
    assert len(assigned) == 1, assigned

    # The check-in form posted twice at once with its one idem key: one check-in, one deposit,
    # both answers the checked-in board.
    form = await _check_in_form(desk, first["id"])
    a, b = await asyncio.gather(
        desk.submit(form, htmx=True, **ID_SEEN), desk.submit(form, htmx=True, **ID_SEEN)
    )
    assert _checked_in_board(a, first["id"]) and _checked_in_board(b, first["id"])
    assert _actions(await _history(platform, first["id"])).count("checked_in") == 1
    assert len(await _deposits(platform, first["id"])) == 1

    # Two tabs: two check-in forms (two keys) for one guest, sent at once. One checks in;
    # the other gets the same result (idempotent by state) or a clear refusal in place.
    second = await book(platform, f"Race Tabs {uuid.uuid4().hex[:6]}")
    await desk.submit(await _assign_form(desk, second["id"]), htmx=True)
    tabs = [await _check_in_form(desk, second["id"]) for _ in range(2)]
    assert tabs[0].fields["idem"] != tabs[1].fields["idem"]
    answers = await asyncio.gather(*(desk.submit(f, htmx=True, **ID_SEEN) for f in tabs))
    for answer in answers:
        assert answer.status_code == 200, answer.text[:300]
        assert "Checked in" in row_of(answer.text, second["id"]), answer.text
    assert _actions(await _history(platform, second["id"])).count("checked_in") == 1
    assert len(await _deposits(platform, second["id"])) == 1
    await desk.aclose()


async def _renewed_session_keeps_forms_single_and_stays_signed_in(platform: Platform) -> None:
    """The access token ends (its cookie expires with it) while a form is on screen: the next
    request renews the pair from the refresh cookie. A form replayed after that (back,
    resubmit) is still one operation. And a double click right then sends two requests with
    the same refresh cookie, both renewing: the second must not count as a stolen refresh
    token (which revokes the sign-in): the member stays signed in, the click is one change."""
    desk = await signed_in(platform, "front_desk")
    booking = await book(platform, f"Race Replay {uuid.uuid4().hex[:6]}")
    assign = await _assign_form(desk, booking["id"])

    # A double click on assign-room just after the token ended.
    desk.client.cookies.delete(ACCESS, path="/dashboard")
    a, b = await asyncio.gather(desk.submit(assign, htmx=True), desk.submit(assign, htmx=True))
    for answer in (a, b):
        assert answer.status_code == 200, (answer.status_code, answer.headers, answer.text[:300])
        assert "hx-redirect" not in answer.headers, answer.headers  # not sent to sign in
        assert 'class="problem"' not in answer.text, answer.text
    assigned = [x for x in _actions(await _history(platform, booking["id"])) if "assign" in x]
    assert len(assigned) == 1, assigned
    later = await desk.get("/dashboard/today")  # still signed in: the renewal was not revoked
    assert later.status_code == 200, (later.status_code, later.headers.get("location"))

    # Check in, then the token ends and the browser replays the check-in form.
    form = await _check_in_form(desk, booking["id"])
    assert _checked_in_board(await desk.submit(form, htmx=True, **ID_SEEN), booking["id"])
    desk.client.cookies.delete(ACCESS, path="/dashboard")
    assert ACCESS not in desk.client.cookies
    again = await desk.submit(form, htmx=True, **ID_SEEN)
    assert _checked_in_board(again, booking["id"]), again.text[:500]
    assert ACCESS in desk.client.cookies  # renewed
    assert _actions(await _history(platform, booking["id"])).count("checked_in") == 1
    assert len(await _deposits(platform, booking["id"])) == 1
    await desk.aclose()


async def _confirm_and_cancel_at_once(platform: Platform) -> None:
    """One member in two sessions: the Today page's confirm button in one, the booking's
    cancel (through its fee screen) in the other, sent at once."""
    booking = await book(platform, f"Race Confirm {uuid.uuid4().hex[:6]}", confirm=False)
    booking_id = booking["id"]
    email = await staff(platform, "front_desk")
    desk = await signed_in(platform, email=email)
    reservations = await signed_in(platform, email=email)
    confirm = form_to(await desk.page("/dashboard/today"), f"/dashboard/today/{booking_id}/confirm")
    page = await reservations.page(f"/dashboard/reservations/{booking_id}")
    preview = await reservations.submit(
        form_to(page, f"/dashboard/reservations/{booking_id}/cancel"), reason="Guest called"
    )
    assert preview.status_code == 200, preview.text[:300]
    cancel = form_to(preview.text, f"/dashboard/reservations/{booking_id}/cancel/confirm")

    confirmed, cancelled = await asyncio.gather(
        desk.submit(confirm, htmx=True), reservations.submit(cancel)
    )
    # A requested and a confirmed booking may both be cancelled: it ends cancelled.
    assert cancelled.status_code == 303, (cancelled.status_code, cancelled.text[:500])
    assert cancelled.headers["location"].endswith("done=cancelled")
    assert confirmed.status_code == 200, confirmed.text[:300]
    if 'class="problem"' in confirmed.text:  # the cancel came first: refused, said plainly
        assert "409" in confirmed.text or "422" in confirmed.text, confirmed.text
    stored = (await platform.client.get(f"/api/v1/reservations/{booking_id}")).json()
    assert stored["status"] == "cancelled", stored
    history = await _history(platform, booking_id)
    actions = _actions(history)
    assert actions.count("cancelled") == 1 and actions.count("confirmed") <= 1, actions
    versions = [line.get("version") for line in history]
    assert len(versions) == len(set(versions)), versions
    # Both sessions then see it so: no longer an arrival; the booking page says cancelled.
    assert not row_of(await desk.page("/dashboard/today"), booking_id)
    assert "Cancelled" in await reservations.page(f"/dashboard/reservations/{booking_id}")
    await desk.aclose()
    await reservations.aclose()


async def _modify_confirmed_twice(platform: Platform) -> None:
    """The modify confirmation (one more night) sent twice at once: one change."""
    booking = await book(platform, f"Race Modify {uuid.uuid4().hex[:6]}")
    booking_id = booking["id"]
    desk = await signed_in(platform, "front_desk")
    page = await desk.page(f"/dashboard/reservations/{booking_id}")
    longer = date.fromisoformat(booking["check_out"]) + timedelta(days=1)
    preview = await desk.submit(
        form_to(page, f"/dashboard/reservations/{booking_id}/modify"),
        check_out=longer.isoformat(),
    )
    assert preview.status_code == 200, preview.text[:300]
    change = form_to(preview.text, f"/dashboard/reservations/{booking_id}/modify/confirm")
    answers = await asyncio.gather(desk.submit(change), desk.submit(change))
    for answer in answers:
        assert answer.status_code == 303, (answer.status_code, answer.text[:500])
    stored = (await platform.client.get(f"/api/v1/reservations/{booking_id}")).json()
    assert stored["check_out"] == longer.isoformat()
    assert _actions(await _history(platform, booking_id)).count("modified") == 1
    await desk.aclose()


async def _vehicle(platform: Platform, tag: str) -> dict[str, Any]:
    made = await platform.client.post(
        "/api/v1/vehicles",
        json={
            "plate": f"沪R·{tag}",
            "description": f"Race sedan {tag}",
            "vehicle_class": "sedan",
            "seats": 3,
            "luggage_capacity": 2,
        },
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


async def _incidents(platform: Platform, vehicle_id: int) -> list[dict[str, Any]]:
    listed = await platform.client.get(
        "/api/v1/incidents", params={"vehicle_id": vehicle_id, "limit": 50}
    )
    assert listed.status_code == 200, listed.text
    return list(listed.json()["items"])


async def _breakdown_twice(platform: Platform) -> None:
    """One breakdown form sent twice at once (a double click without scripts), once more
    (resubmitted), and once with htmx: one incident, every answer the outcome."""
    vehicle = await _vehicle(platform, uuid.uuid4().hex[:6].upper())
    dispatcher = await signed_in(platform, "dispatcher")
    form = form_to(await dispatcher.page("/dashboard/dispatch"), "/dashboard/dispatch/incidents")
    fields = {"vehicle_id": str(vehicle["id"]), "description": "Engine light on"}
    answers = await asyncio.gather(*(dispatcher.submit(form, **fields) for _ in range(2)))
    answers.append(await dispatcher.submit(form, **fields))
    for answer in answers:
        assert answer.status_code == 303, (answer.status_code, answer.text[:500])
        assert answer.headers["location"] == "/dashboard/dispatch"
    panel = await dispatcher.submit(form, htmx=True, **fields)
    assert panel.status_code == 200 and 'class="problem"' not in panel.text, panel.text[:500]
    assert len(await _incidents(platform, vehicle["id"])) == 1
    await dispatcher.aclose()


async def _two_dispatchers_report_one_vehicle(platform: Platform) -> None:
    """Two dispatchers' forms (two keys) for one vehicle at once: one open incident; the
    other answer is the outcome again or a plain refusal, never a second incident."""
    vehicle = await _vehicle(platform, uuid.uuid4().hex[:6].upper())
    one, two = await signed_in(platform, "dispatcher"), await signed_in(platform, "dispatcher")
    forms = [
        form_to(await s.page("/dashboard/dispatch"), "/dashboard/dispatch/incidents")
        for s in (one, two)
    ]
    fields = {"vehicle_id": str(vehicle["id"]), "description": "Won't start"}
    answers = await asyncio.gather(
        one.submit(forms[0], htmx=True, **fields), two.submit(forms[1], htmx=True, **fields)
    )
    for answer in answers:
        assert answer.status_code == 200, (answer.status_code, answer.text[:500])
        if 'class="problem"' in answer.text:
            assert "<code>" in answer.text, answer.text  # the problem's code, in place
    assert len([i for i in await _incidents(platform, vehicle["id"]) if i["status"] == "open"]) == 1
    await one.aclose()
    await two.aclose()


async def test_two_sessions_at_once_on_one_booking_and_one_vehicle(platform: Platform) -> None:
    await _confirm_and_cancel_at_once(platform)
    await _modify_confirmed_twice(platform)
    await _breakdown_twice(platform)
    await _two_dispatchers_report_one_vehicle(platform)
