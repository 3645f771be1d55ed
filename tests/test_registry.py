"""The gateway routes every public path a service serves: a router added to a service without
its prefix in gateway/registry.py would be unreachable, and missing from the merged document
and the access matrix alike."""

import importlib

import pytest
from fastapi.routing import APIRoute
from gateway.registry import SERVICES
from gateway.routes import resolve


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_every_public_route_of_a_service_is_routed_to_it_by_the_gateway(service) -> None:
    spec = importlib.import_module(f"{service.package}.main").SPEC
    paths = {
        route.path
        for router in spec.routers
        for route in router.routes
        if isinstance(route, APIRoute) and route.path.startswith("/api/v1/")
    }
    assert paths
    unrouted = sorted(p for p in paths if resolve(p) != service.name)
    assert unrouted == []
