"""Dispatch's view of transfer jobs: filters, pickup order, cursor paging, 404."""


async def test_transfers_filter_by_status_date_driver_and_page(service) -> None:
    await service.add_vehicle()
    driver = await service.add_driver()
    # 20:00 UTC on the test day is 04:00 the next day in Shanghai.
    late = service.booking(arrival=service.at(20))
    early = service.booking(arrival=service.at(2))
    midday = service.booking(arrival=service.at(6))
    crowd = service.booking(arrival=service.at(9), passengers=12)  # nothing that big
    for booking in (late, early, midday, crowd):
        service.deliver(booking)
    ids = {b.reservation_id: (await service.job_for(b))["id"] for b in (late, early, midday, crowd)}

    first = (await service.client.get("/api/v1/transfers", params={"limit": 3})).json()
    second = (
        await service.client.get(
            "/api/v1/transfers", params={"limit": 3, "cursor": first["next_cursor"]}
        )
    ).json()
    in_order = [j["reservation_id"] for j in first["items"] + second["items"]]
    assert in_order == [b.reservation_id for b in (early, midday, crowd, late)]
    assert second["next_cursor"] is None

    on_day = await service.jobs(date="2030-06-01")
    assert {j["id"] for j in on_day} == {
        ids[early.reservation_id],
        ids[midday.reservation_id],
        ids[crowd.reservation_id],
    }
    assert [j["id"] for j in await service.jobs(date="2030-06-02")] == [ids[late.reservation_id]]
    assert [j["id"] for j in await service.jobs(status="requested")] == [ids[crowd.reservation_id]]
    assert len(await service.jobs(driver_id=driver["id"])) == 3
    assert [j["pickup_date"] for j in await service.jobs(reservation_id=late.reservation_id)] == [
        "2030-06-02"
    ]


async def test_unknown_transfer_is_a_problem(service) -> None:
    response = await service.client.get("/api/v1/transfers/no-such-job")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "transfer_not_found"


async def test_bad_filters_are_problems(service) -> None:
    bad_status = await service.client.get("/api/v1/transfers", params={"status": "lost"})
    bad_date = await service.client.get("/api/v1/transfers", params={"date": "June 1st"})
    bad_cursor = await service.client.get("/api/v1/transfers", params={"cursor": "eA"})

    assert bad_status.status_code == 422
    assert bad_date.status_code == 422
    assert bad_cursor.status_code == 400
