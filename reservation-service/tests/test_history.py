"""A booking's history: every change, who made it, on which channel, in order."""


async def test_the_history_lists_every_change_with_its_actor_in_order(hotel):
    created = await hotel.book()
    await hotel.confirm(created["id"])
    await hotel.cancel(created["id"], reason="Flight cancelled")
    await hotel.cancel(created["id"])  # a repeat changes nothing and adds no line

    response = await hotel.client.get(f"/api/v1/reservations/{created['id']}/history")

    assert response.status_code == 200, response.text
    lines = response.json()
    assert [(x["version"], x["action"], x["from_status"], x["to_status"]) for x in lines] == [
        (1, "created", None, "requested"),
        (2, "confirmed", "requested", "confirmed"),
        (3, "cancelled", "confirmed", "cancelled"),
    ]
    assert lines[2]["changes"] == {"reason": "Flight cancelled"}
    assert all(x["actor"] and x["channel"] for x in lines)
    assert (await hotel.reservation(created["id"]))["status"] == "cancelled"


async def test_the_history_of_an_unknown_booking_is_404(hotel):
    response = await hotel.client.get("/api/v1/reservations/no-such-booking/history")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
