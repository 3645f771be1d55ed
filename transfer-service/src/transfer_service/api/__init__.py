"""HTTP API of transfer-service (version 1)."""

from transfer_service.api.routes import drivers, transfers, vehicles

routers = [transfers.router, vehicles.router, drivers.router]
