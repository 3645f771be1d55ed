"""The routing table: which service owns which public path prefix."""

ROUTES: dict[str, str] = {
    "/api/v1/properties": "reservation-service",
    "/api/v1/room-types": "reservation-service",
    "/api/v1/rooms": "reservation-service",
    "/api/v1/availability": "reservation-service",
    "/api/v1/reservations": "reservation-service",
    "/api/v1/vehicles": "transfer-service",
    "/api/v1/drivers": "transfer-service",
    "/api/v1/transfers": "transfer-service",
    "/api/v1/guests": "guest-service",
    "/api/v1/notifications": "notification-service",
}


def resolve(path: str, routes: dict[str, str] = ROUTES) -> str | None:
    """The service owning `path`: longest matching prefix, whole segments only.

    `/api/v1/rooms/7` and `/api/v1/rooms` match `/api/v1/rooms`; `/api/v1/roomsx` does not.
    Dot segments are refused so a path cannot climb out of the prefix it was routed by.
    """
    segments = path.split("/")
    if "." in segments or ".." in segments:
        return None
    for end in range(len(segments), 0, -1):
        service = routes.get("/".join(segments[:end]))
        if service is not None:
            return service
    return None
