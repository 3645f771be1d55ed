"""Races and retries through the staff dashboard, on both run modes (embedded; distributed:
PostgreSQL, RabbitMQ, two replicas of every service): what a desk tablet does when a form is
sent twice (a double click, a second tab, a replay after the session's token was renewed)
and when two members act on one booking at once. Each case asserts what the user sees (the
board, a clear problem, or the same result) and, read back through the API, that nothing was
written twice: one check-in, one deposit, one incident."""

import asyncio
import uuid
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


async def test_check_in_and_assign_room_sent_twice_are_one_operation(platform: Platform) -> None:
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


async def test_a_form_replayed_after_the_token_was_renewed_is_one_operation(
    platform: Platform,
) -> None:
    desk = await signed_in(platform, "front_desk")
    booking = await book(platform, f"Race Replay {uuid.uuid4().hex[:6]}")
    await desk.submit(await _assign_form(desk, booking["id"]), htmx=True)
    form = await _check_in_form(desk, booking["id"])
    assert _checked_in_board(await desk.submit(form, htmx=True, **ID_SEEN), booking["id"])

    # The access token ends (its cookie expires with it): the next request renews the pair
    # from the refresh cookie, then the browser replays the form (back, resubmit).
    desk.client.cookies.delete(ACCESS, path="/dashboard")
    assert ACCESS not in desk.client.cookies
    again = await desk.submit(form, htmx=True, **ID_SEEN)
    assert _checked_in_board(again, booking["id"]), again.text[:500]
    assert ACCESS in desk.client.cookies  # renewed
    assert _actions(await _history(platform, booking["id"])).count("checked_in") == 1
    assert len(await _deposits(platform, booking["id"])) == 1
    await desk.aclose()


async def test_two_requests_while_the_token_is_renewed_keep_the_session(
    platform: Platform,
) -> None:
    """A double click (or a page and the board's poll) right after the access token ended:
    both requests carry the same refresh cookie and both renew. The second must not count as
    a stolen refresh token: the member stays signed in, and the click is one assignment."""
    desk = await signed_in(platform, "front_desk")
    booking = await book(platform, f"Race Renew {uuid.uuid4().hex[:6]}")
    assign = await _assign_form(desk, booking["id"])
    desk.client.cookies.delete(ACCESS, path="/dashboard")
    a, b = await asyncio.gather(desk.submit(assign, htmx=True), desk.submit(assign, htmx=True))
    for answer in (a, b):
        assert answer.status_code == 200, (answer.status_code, answer.headers, answer.text[:300])
        assert "hx-redirect" not in answer.headers, answer.headers  # not sent to sign in
        assert 'class="problem"' not in answer.text, answer.text
    assigned = [x for x in _actions(await _history(platform, booking["id"])) if "assign" in x]
    assert len(assigned) == 1, assigned
    # Still signed in afterwards (the renewed tokens were not revoked as a reuse).
    later = await desk.get("/dashboard/today")
    assert later.status_code == 200, (later.status_code, later.headers.get("location"))
    desk.client.cookies.delete(ACCESS, path="/dashboard")
    renewed = await desk.get("/dashboard/today")
    assert renewed.status_code == 200, (renewed.status_code, renewed.headers.get("location"))
    await desk.aclose()


async def test_confirm_and_cancel_at_once_from_two_sessions(platform: Platform) -> None:
    booking = await book(platform, f"Race Confirm {uuid.uuid4().hex[:6]}", confirm=False)
    booking_id = booking["id"]
    email = await staff(platform, "front_desk")
    desk, reservations = (
        await signed_in(platform, email=email),
        await signed_in(platform, email=email),
    )

    # Session 1: the Today page's confirm button. Session 2: the booking's cancel, through
    # its fee screen.
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
    # A cancel of a requested or a confirmed booking both succeed: it ends cancelled.
    assert cancelled.status_code == 303, (cancelled.status_code, cancelled.text[:500])
    assert cancelled.headers["location"].endswith("done=cancelled")
    assert confirmed.status_code == 200, confirmed.text[:300]
    if 'class="problem"' in confirmed.text:  # the cancel came first: refused, said plainly
        assert "409" in confirmed.text or "422" in confirmed.text, confirmed.text
    stored = (await platform.client.get(f"/api/v1/reservations/{booking_id}")).json()
    assert stored["status"] == "cancelled", stored
    actions = _actions(await _history(platform, booking_id))
    assert actions.count("cancelled") == 1 and actions.count("confirmed") <= 1, actions
    versions = [line.get("version") for line in await _history(platform, booking_id)]
    assert len(versions) == len(set(versions)), versions
    # Both sessions then see it cancelled; the desk no longer has it as an arrival.
    assert not row_of(await desk.page("/dashboard/today"), booking_id)
    shown = await reservations.page(f"/dashboard/reservations/{booking_id}")
    assert "Cancelled" in shown
    await desk.aclose()
    await reservations.aclose()


async def test_a_breakdown_reported_twice_is_one_incident(platform: Platform) -> None:
    tag = uuid.uuid4().hex[:6].upper()
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
    vehicle = made.json()
    dispatcher = await signed_in(platform, "dispatcher")
    form = form_to(await dispatcher.page("/dashboard/dispatch"), "/dashboard/dispatch/incidents")
    fields = {"vehicle_id": str(vehicle["id"]), "description": "Engine light on"}

    # Sent twice at once (a double click without scripts), then once more (resubmitted).
    answers = await asyncio.gather(*(dispatcher.submit(form, **fields) for _ in range(2)))
    answers.append(await dispatcher.submit(form, **fields))
    for answer in answers:
        assert answer.status_code == 303, (answer.status_code, answer.text[:500])
        assert answer.headers["location"] == "/dashboard/dispatch"
    # With htmx: the same outcome panel, no refusal.
    panel = await dispatcher.submit(form, htmx=True, **fields)
    assert panel.status_code == 200 and 'class="problem"' not in panel.text, panel.text[:500]

    listed = await platform.client.get(
        "/api/v1/incidents", params={"vehicle_id": vehicle["id"], "limit": 50}
    )
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["items"]) == 1, listed.json()
    await dispatcher.aclose()


async def test_a_second_breakdown_form_for_a_broken_vehicle_says_so(platform: Platform) -> None:
    """Two dispatchers' forms (two keys) for one vehicle: one incident; the second report is
    either refused plainly or answered with the open incident, never a second one."""
    tag = uuid.uuid4().hex[:6].upper()
    made = await platform.client.post(
        "/api/v1/vehicles",
        json={
            "plate": f"沪S·{tag}",
            "description": f"Race van {tag}",
            "vehicle_class": "sedan",
            "seats": 3,
            "luggage_capacity": 2,
        },
    )
    assert made.status_code == 201, made.text
    vehicle = made.json()
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
    listed = await platform.client.get(
        "/api/v1/incidents", params={"vehicle_id": vehicle["id"], "status": "open"}
    )
    assert len(listed.json()["items"]) == 1, listed.json()
    await one.aclose()
    await two.aclose()
