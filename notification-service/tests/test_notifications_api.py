"""The delivery log as dashboards read it: filters, cursor paging, bad input."""

from typing import Any

from hotel_common.testing import eventually

from .conftest import Samples, Service, StartService


async def fill_log(svc: Service, samples: Samples) -> tuple[str, str]:
    """Five notices: a booking confirmed, picked up and cancelled, plus two other bookings."""
    first = samples.confirmed("en")
    guest = first.guest
    rid = first.reservation_id

    async def logged() -> list[dict[str, Any]]:
        return await svc.notices(status="logged")

    svc.deliver(first)
    svc.deliver(samples.assigned("en", reservation_id=rid, guest=guest))
    # Handled before the cancellation is queued: else they are superseded, never delivered.
    await eventually(logged, lambda items: len(items) == 2)
    for event in (
        samples.cancelled("en", reservation_id=rid, guest=guest),
        samples.confirmed("zh-Hans"),
        samples.confirmed("zh-Hant"),
    ):
        svc.deliver(event)
    await eventually(logged, lambda items: len(items) == 5)
    return rid, guest.email


async def test_filters(start_service: StartService, samples: Samples) -> None:
    async with start_service() as svc:
        rid, email = await fill_log(svc, samples)

        mine = await svc.notices(reservation_id=rid)
        assert {n["kind"] for n in mine} == {
            "reservation_confirmed",
            "transfer_assigned",
            "reservation_cancelled",
        }
        assert len(await svc.notices(email=email.upper())) == 3
        assert len(await svc.notices(kind="reservation_confirmed")) == 3
        [pickup] = await svc.notices(kind="transfer_assigned")
        assert pickup["reservation_id"] == rid
        assert await svc.notices(status="sent") == []
        assert "body" not in pickup  # the list stays light; the body is on the detail


async def test_cursor_paging_walks_every_notice_once_newest_first(
    start_service: StartService, samples: Samples
) -> None:
    async with start_service() as svc:
        await fill_log(svc, samples)
        seen: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 2}
        while True:
            page = (await svc.client.get("/api/v1/notifications", params=params)).json()
            assert len(page["items"]) <= 2
            seen += page["items"]
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]

        assert len(seen) == 5 and len({n["id"] for n in seen}) == 5
        stamps = [n["created_at"] for n in seen]
        assert stamps == sorted(stamps, reverse=True)
        assert all(s.endswith("Z") or s.endswith("+00:00") for s in stamps)


async def test_bad_input_is_a_problem_not_a_crash(start_service: StartService) -> None:
    async with start_service() as svc:
        for params, status, code in (
            ({"status": "bogus"}, 422, "validation_error"),
            ({"kind": "birthday"}, 422, "validation_error"),
            ({"limit": 0}, 422, "validation_error"),
            ({"limit": 201}, 422, "validation_error"),
            ({"cursor": "not-a-cursor"}, 400, "invalid_cursor"),
        ):
            response = await svc.client.get("/api/v1/notifications", params=params)
            assert response.status_code == status, params
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] == code

        missing = await svc.client.get("/api/v1/notifications/does-not-exist")
        assert missing.status_code == 404
        assert missing.json()["code"] == "notification_not_found"


async def test_only_a_failed_notice_can_be_retried(
    start_service: StartService, samples: Samples
) -> None:
    async with start_service() as svc:
        await fill_log(svc, samples)
        [logged, *_] = await svc.notices()
        response = await svc.client.post(f"/api/v1/notifications/{logged['id']}/retry")
        assert response.status_code == 409
        assert (await svc.notice(logged["id"]))["status"] == "logged"


async def test_unknown_filters_and_fields_are_refused_and_nothing_is_requeued(
    start_service: StartService,
) -> None:
    async with start_service() as svc:
        unknown_filter = await svc.client.get("/api/v1/notifications", params={"recipient": "x"})
        unknown_field = await svc.client.post(
            "/api/v1/notifications/retry", json={"kind": "reservation_confirmed", "urgent": True}
        )

    assert unknown_filter.status_code == unknown_field.status_code == 422
    assert "query.recipient" in [e["field"] for e in unknown_filter.json()["errors"]]
    assert "body.urgent" in [e["field"] for e in unknown_field.json()["errors"]]


async def test_a_cursor_is_bound_to_its_filters(
    start_service: StartService, samples: Samples
) -> None:
    async with start_service() as svc:
        await fill_log(svc, samples)
        first = (
            await svc.client.get("/api/v1/notifications", params={"limit": 1, "status": "logged"})
        ).json()
        other_filters = await svc.client.get(
            "/api/v1/notifications", params={"limit": 1, "cursor": first["next_cursor"]}
        )

    assert other_filters.status_code == 400
    assert other_filters.json()["code"] == "invalid_cursor"
