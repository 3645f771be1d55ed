"""The routing table: which service owns which public path prefix (from the registry)."""

from gateway import registry

ROUTES: dict[str, str] = registry.routes()


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
