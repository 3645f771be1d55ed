"""The registry is the one place a service is named: routes and default upstreams follow it."""

import pytest
from gateway.config import Settings
from gateway.registry import BY_NAME, SERVICES, ServiceInfo, routes
from gateway.routes import ROUTES, resolve
from pydantic import ValidationError


def test_every_prefix_routes_to_the_service_that_registered_it() -> None:
    assert routes() == ROUTES
    for service in SERVICES:
        for path in service.paths:
            assert resolve(f"{path}/7") == service.name
    assert BY_NAME["reservation-service"].package == "reservation_service"
    assert BY_NAME["notification-service"].short == "notification"


def test_a_new_entry_is_routed_and_a_prefix_claimed_twice_is_refused() -> None:
    sauna = ServiceInfo("sauna-service", 8099, ("saunas",))
    table = routes((*SERVICES, sauna))
    assert resolve("/api/v1/saunas/3", table) == "sauna-service"
    assert resolve("/api/v1/reservations", table) == "reservation-service"
    with pytest.raises(ValueError, match="/api/v1/guests is claimed by guest-service and sauna"):
        routes((*SERVICES, ServiceInfo("sauna-service", 8099, ("guests",))))


def test_upstreams_default_to_every_registered_service_on_this_machine() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.upstream_urls() == {s.name: f"http://127.0.0.1:{s.port}" for s in SERVICES}


def test_upstreams_are_one_mapping_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "UPSTREAMS", '{"guest-service": "http://a:1, http://b:2/", "transfer-service": "http://c"}'
    )
    assert Settings(_env_file=None).upstream_replicas() == {  # type: ignore[call-arg]
        "guest-service": ["http://a:1", "http://b:2"],
        "transfer-service": ["http://c"],
    }


def test_an_unregistered_upstream_is_refused_rather_than_never_routed() -> None:
    with pytest.raises(ValidationError, match=r"not registered in gateway\.registry: guests"):
        Settings(_env_file=None, upstreams={"guests": "http://a:1"})  # type: ignore[call-arg]
