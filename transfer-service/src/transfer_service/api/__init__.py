"""HTTP API of transfer-service (version 1)."""

from transfer_service.api.routes import (
    drivers,
    places,
    transfers,
    travel_times,
    vehicles,
)

routers = [
    transfers.router,
    vehicles.router,
    drivers.router,
    places.router,
    travel_times.router,
]
