"""The text-message channel: a small interface, and its implementation by an HTTP SMS gateway.

A gateway takes `POST <sms_gateway_url>` with JSON `{"to": "+8613900139000", "text": "..."}`
and `Authorization: Bearer <sms_gateway_token>`; any 2xx means accepted. Failures are told apart
the way the mail channel does (mailer.py): no answer, or a gateway refusing our credentials or
unable to serve (5xx, 429), is `ServerUnavailable` (the message was not tried: no attempt is
spent); any other 4xx is a `PermanentFailure` of this message (e.g. a number it cannot reach).
"""

from types import TracebackType
from typing import Protocol, Self

import httpx

from notification_service.mailer import PermanentFailure, ServerUnavailable

# Answers that say the gateway, not this message, is the problem.
_GATEWAY_STATUSES = frozenset({401, 403, 408, 429})


class TextSender(Protocol):
    """Sends one text message; used as an async context manager around a batch."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def send(self, to: str, text: str) -> None: ...


class HttpSmsGateway:
    """`TextSender` over an HTTP SMS gateway; one connection pool per batch."""

    def __init__(self, url: str, token: str, timeout: float) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Self:
        self._client = httpx.AsyncClient(timeout=self.timeout, headers=self.headers)
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, to: str, text: str) -> None:
        assert self._client is not None, "use HttpSmsGateway as an async context manager"
        try:
            answer = await self._client.post(self.url, json={"to": to, "text": text})
        except httpx.HTTPError as exc:
            # Never the URL (it may carry a key) nor the number: the kind of failure only.
            raise ServerUnavailable(f"SMS gateway unreachable: {type(exc).__name__}") from exc
        if answer.is_success:
            return
        reply = f"SMS gateway answered {answer.status_code}"
        if answer.status_code >= 500 or answer.status_code in _GATEWAY_STATUSES:
            raise ServerUnavailable(reply)
        raise PermanentFailure(reply)
