"""The platform's services, registered in one place: a new service is one entry here.

An entry names the service (as in its `hotel.services` entry point and its folder), the port
`make up` runs it on, and the public path prefixes it owns under `/api/v1`. The gateway's
routing table and default upstreams, the launcher (`make up`, `make run`), docker-compose's
test and the process harness all read this table.
"""

from dataclasses import dataclass

API = "/api/v1"


@dataclass(frozen=True)
class ServiceInfo:
    name: str  # as in the `hotel.services` entry points, e.g. "reservation-service"
    port: int  # where `make up` runs it on this machine (replica i: port + 100*i)
    prefixes: tuple[str, ...]  # path segments under /api/v1 that the service owns

    @property
    def package(self) -> str:
        """Its import name: "reservation-service" is the package `reservation_service`."""
        return self.name.replace("-", "_")

    @property
    def short(self) -> str:
        """The name without "-service" ("reservation"): database names and env prefixes."""
        return self.name.removesuffix("-service")

    @property
    def local_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(f"{API}/{prefix}" for prefix in self.prefixes)


GATEWAY_PORT = 8000

SERVICES: tuple[ServiceInfo, ...] = (
    ServiceInfo(
        "reservation-service",
        8001,
        (
            "properties",
            "room-types",
            "rooms",
            "availability",
            "reservations",
            "rate-plans",  # issue 17 rates: plans and their ARI pushes
            "quotes",
            "ari",
            "out-of-order-periods",  # issue 17 inventory
            "analytics",
            "partner-mappings",  # issue 21: partners' codes mapped to the hotel's
        ),
    ),
    ServiceInfo(
        "transfer-service",
        8002,
        (
            "vehicles",
            "drivers",
            "transfers",
            # issue 18: a dispatcher's day
            "places",
            "travel-times",
            "fares",
            "incidents",
            "flight-updates",
            "dispatch-board",
            "analytics/transfers",  # under reservation-service's analytics: longest prefix wins
        ),
    ),
    ServiceInfo(
        "guest-service",
        8003,
        ("guests", "guest-merges", "segments", "loyalty", "surveys", "complaints"),
    ),
    ServiceInfo(
        "notification-service",
        8004,
        ("notifications", "notification-templates", "delivery-receipts", "inbox"),
    ),
    # Issue 21: the partners' event feed and webhooks.
    ServiceInfo("partner-service", 8005, ("events", "webhook-subscriptions")),
)

BY_NAME: dict[str, ServiceInfo] = {s.name: s for s in SERVICES}


def routes(services: tuple[ServiceInfo, ...] = SERVICES) -> dict[str, str]:
    """Public path prefix -> the service owning it; a prefix claimed twice is an error."""
    table: dict[str, str] = {}
    for service in services:
        for path in service.paths:
            if path in table:
                raise ValueError(f"{path} is claimed by {table[path]} and {service.name}")
            table[path] = service.name
    return table


def public_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches a server bound to `host`."""
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    return f"http://{shown}:{port}"
