"""The dashboard's way to the platform: the public API of this gateway, as the staff member.

Every call goes through the whole gateway app (authentication, access rules, idempotency,
limits, the services) in-process over ASGI, carrying the staff member's access token and the
browser's address (sign-in lockouts and the audit log see the real client, not the dashboard).
"""

import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import Request

PREFIX = "/api/v1"
# A path the dashboard may ask for: segments of unreserved characters, none starting with a dot.
# Pages put ids from the browser's URL or form into paths (`/reservations/{id}/cancel`); an id
# carrying `?`, `#`, `%`, a space, a backslash or a dot segment would otherwise end the path
# early or climb out of it and reach another operation (`r-1#` → `/reservations/r-1`).
SAFE_PATH = re.compile(r"(?:/[A-Za-z0-9_~:@-][A-Za-z0-9._~:@-]*)+")


class SessionEnded(Exception):
    """The API refused the member's token (401): signed out, expired, revoked or forged. Not
    an ApiError, so no page shows it in place: the dashboard answers with the sign-in page."""


@dataclass
class ApiError(Exception):
    """An answer of 400 or more: its status and problem+json body (code, title, detail)."""

    status: int
    problem: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return str(self.problem.get("code") or self.problem.get("type") or self.status)

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail") or self.problem.get("title") or self.code)


class Api:
    """One request's client: `await api.get("/reservations", params={...})` → the JSON body."""

    def __init__(self, request: Request, token: str | None) -> None:
        client = request.client
        transport = httpx.ASGITransport(
            app=request.app,
            client=(client.host, client.port) if client else ("127.0.0.1", 0),
        )
        self._token = token
        headers = {"accept": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        if request_id := request.headers.get("x-request-id"):
            headers["x-request-id"] = request_id
        self._client = httpx.AsyncClient(
            transport=transport, base_url=str(request.base_url).rstrip("/"), headers=headers
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """The JSON body of a 2xx answer (None for 204); `ApiError` for 4xx/5xx (a path that is
        not a plain API path: 404 without asking); `SessionEnded` for a 401 to the member."""
        if not SAFE_PATH.fullmatch(path):
            raise ApiError(404, {"code": "not_found", "detail": "No such record."})
        headers = {"idempotency-key": idempotency_key} if idempotency_key else None
        query = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        answer = await self._client.request(
            method, PREFIX + path, params=query, json=json, data=data, headers=headers
        )
        if answer.status_code == 401 and self._token:
            raise SessionEnded
        if answer.status_code >= 400:
            try:
                problem = answer.json()
            except ValueError:
                problem = {"detail": answer.text[:200]}
            raise ApiError(answer.status_code, problem if isinstance(problem, dict) else {})
        if answer.status_code == 204 or not answer.content:
            return None
        return answer.json()

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return await self.call("GET", path, params=params)

    async def post(self, path: str, json: Any = None, *, idempotency_key: str | None = None) -> Any:
        return await self.call("POST", path, json=json, idempotency_key=idempotency_key)

    async def patch(self, path: str, json: Any, *, idempotency_key: str | None = None) -> Any:
        return await self.call("PATCH", path, json=json, idempotency_key=idempotency_key)

    async def put(self, path: str, json: Any, *, idempotency_key: str | None = None) -> Any:
        return await self.call("PUT", path, json=json, idempotency_key=idempotency_key)

    async def items(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        """A list operation's items (a page's `items`, or a bare list)."""
        body = await self.get(path, params)
        if isinstance(body, dict):
            return list(body.get("items", []))
        return list(body or [])
