from reservation_service.api.routes import (
    availability,
    changes,
    properties,
    reservations,
    room_types,
    rooms,
)

ROUTERS = [
    properties.router,
    room_types.router,
    rooms.router,
    availability.router,
    reservations.router,
    changes.router,
]
