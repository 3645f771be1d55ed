from reservation_service.api.routes import (
    analytics,
    ari,
    availability,
    changes,
    out_of_order,
    properties,
    quotes,
    rate_plans,
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
    rate_plans.router,
    ari.router,
    quotes.router,
    reservations.router,
    changes.router,
    stay.router,
    analytics.router,
]
