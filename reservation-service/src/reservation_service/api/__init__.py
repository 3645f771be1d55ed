from reservation_service.api.routes import (
    ari,
    availability,
    properties,
    quotes,
    rate_plans,
    reservations,
    room_types,
    rooms,
)

ROUTERS = [
    properties.router,
    room_types.router,
    rooms.router,
    availability.router,
    rate_plans.router,
    ari.router,
    quotes.router,
    reservations.router,
]
