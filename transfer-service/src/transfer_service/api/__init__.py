"""HTTP API of transfer-service (version 1)."""

from transfer_service.api.routes import (
    analytics,
    dispatch_actions,
    dispatch_board,
    drivers,
    fares,
    flight_updates,
    incidents,
    live,
    places,
    receipts,
    transfers,
    travel_times,
    vehicles,
)

routers = [
    transfers.router,
    vehicles.router,
    drivers.router,
    fares.router,
    receipts.router,
    dispatch_board.router,
    analytics.router,
    places.router,
    travel_times.router,
    dispatch_actions.router,
    live.router,
    incidents.router,
    flight_updates.router,
]
