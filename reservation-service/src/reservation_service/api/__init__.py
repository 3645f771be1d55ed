from reservation_service.api.routes import (
    analytics,
    availability,
    changes,
    out_of_order,
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
    out_of_order.router,
    availability.router,
    reservations.router,
    changes.router,
    stay.router,
    analytics.router,
]
