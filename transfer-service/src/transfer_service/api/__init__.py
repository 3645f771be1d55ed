"""HTTP API of transfer-service (version 1)."""

from transfer_service.api.routes import (
    dispatch_actions,
    drivers,
    flight_updates,
    incidents,
    live,
    transfers,
    vehicles,
)

routers = [
    transfers.router,
    vehicles.router,
    drivers.router,
    dispatch_actions.router,
    live.router,
    incidents.router,
    flight_updates.router,
]
