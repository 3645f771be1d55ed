from reservation_service.api.routes import (
    availability,
    properties,
    reservations,
    room_types,
    rooms,
    stay,
)

ROUTERS = [
    properties.router,
    room_types.router,
    rooms.router,
    availability.router,
    reservations.router,
    stay.router,
]
