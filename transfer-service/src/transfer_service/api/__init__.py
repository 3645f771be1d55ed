"""HTTP API of transfer-service (version 1)."""

from transfer_service.api.routes import (
    analytics,
    dispatch_board,
    drivers,
    fares,
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
]
