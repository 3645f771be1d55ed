"""SMS and push through HTTP providers (issue 20): a generic webhook adapter, and a channel's
providers in order (the first is the primary, the next its fallback).

A provider takes `POST <url>` with JSON, `Authorization: Bearer <token>` and
`Idempotency-Key: <notice id>` (the same key on every try and on every provider, so a provider
that took a notice once drops a repeat):

- sms:  {"id": notice id, "to": E.164, "text": "..."}
- push: {"id": notice id, "tokens": [...], "title": "...", "body": "...",
         "data": {"kind": ..., "reservation_id": ...}}

A 2xx answer may carry {"message_id": "..."} (what its receipts name); without one, the notice
id is the message id. No answer, 5xx, 3xx, 429, 401, 403 and 408 mean the provider is unavailable:
the next provider of the channel is tried at once for this notice; with none left the sender
backs off (`ServerUnavailable`, no attempt spent). Any other 4xx refuses this message for good
(`PermanentFailure`: the address is marked bad and the notice falls back to the next channel).
"""

from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx
from pydantic import BaseModel, Field

from notification_service.mailer import PermanentFailure, ServerUnavailable

# Answers that say the provider, not this message, is the problem.
_UNAVAILABLE_STATUSES = frozenset({401, 403, 408, 429})


class ProviderSettings(BaseModel):
    """One configured provider (settings `sms_providers`, `push_providers`)."""

    name: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    url: str
    token: str = ""
    # Signs its delivery receipts (HMAC-SHA256); empty: its receipts are not accepted.
    receipt_secret: str = ""


@dataclass(frozen=True)
class Accepted:
    provider: str
    message_id: str


class WebhookProvider:
    """The generic webhook adapter: one provider, over a shared HTTP client."""

    def __init__(self, config: ProviderSettings, client: httpx.AsyncClient) -> None:
        self.config = config
        self.client = client

    async def send(self, payload: dict[str, Any], key: str) -> Accepted:
        headers = {"Idempotency-Key": key}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token}"
        name = self.config.name
        try:
            answer = await self.client.post(self.config.url, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            # Never the URL (it may carry a key) nor the address: the kind of failure only.
            raise ServerUnavailable(f"provider {name} unreachable: {type(exc).__name__}") from exc
        if answer.is_success:
            return Accepted(name, _message_id(answer) or key)
        reply = f"provider {name} answered {answer.status_code}"
        # A redirect (never followed: the text and token must not go to another host) is a
        # moved or mistyped endpoint, the provider's problem: refused "for good" it marked
        # every guest's number bad and skipped the spare provider.
        if (
            answer.status_code >= 500
            or answer.status_code in _UNAVAILABLE_STATUSES
            or 300 <= answer.status_code < 400
        ):
            raise ServerUnavailable(reply)
        raise PermanentFailure(reply)


def _message_id(answer: httpx.Response) -> str | None:
    try:
        body = answer.json()
    except ValueError:
        return None
    value = body.get("message_id") if isinstance(body, dict) else None
    return str(value)[:200] if isinstance(value, str | int) and str(value) else None


class ProviderChain:
    """A channel's providers in order, for one batch (one connection pool): `send` tries the
    primary, then each next one while the previous is unavailable."""

    def __init__(self, configs: list[ProviderSettings], timeout: float) -> None:
        self.configs = configs
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Self:
        self._client = httpx.AsyncClient(timeout=self.timeout)
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, payload: dict[str, Any], key: str) -> Accepted:
        assert self._client is not None, "use ProviderChain as an async context manager"
        errors: list[str] = []
        for config in self.configs:
            try:
                return await WebhookProvider(config, self._client).send(payload, key)
            except ServerUnavailable as exc:
                errors.append(str(exc))
        raise ServerUnavailable("; ".join(errors) or "no provider")


def sms_payload(notice_id: str, to: str, text: str) -> dict[str, Any]:
    return {"id": notice_id, "to": to, "text": text}


def push_payload(
    notice_id: str,
    tokens: list[str],
    title: str,
    body: str,
    kind: str,
    reservation_id: str | None,
) -> dict[str, Any]:
    return {
        "id": notice_id,
        "tokens": tokens,
        "title": title,
        "body": body,
        "data": {"kind": kind, "reservation_id": reservation_id},
    }
