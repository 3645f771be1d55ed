"""The platform's services in one table: names, import packages and local ports.

Both the gateway's default upstream URLs and `make up` (one process per service) read it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceInfo:
    name: str  # as in the `hotel.services` entry points, e.g. "reservation-service"
    package: str  # import name, e.g. "reservation_service"
    port: int  # where `make up` runs it on this machine

    @property
    def short(self) -> str:
        """The name without "-service" ("reservation"): database names and env prefixes."""
        return self.name.removesuffix("-service")

    @property
    def local_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


GATEWAY_PORT = 8000

SERVICES: tuple[ServiceInfo, ...] = (
    ServiceInfo("reservation-service", "reservation_service", 8001),
    ServiceInfo("transfer-service", "transfer_service", 8002),
    ServiceInfo("guest-service", "guest_service", 8003),
    ServiceInfo("notification-service", "notification_service", 8004),
)

BY_NAME: dict[str, ServiceInfo] = {s.name: s for s in SERVICES}


def public_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches a server bound to `host`."""
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    return f"http://{shown}:{port}"
