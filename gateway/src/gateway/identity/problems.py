"""Refusals that carry headers (WWW-Authenticate, Retry-After): answered by `answer`, which the
gateway installs as its ProblemError handler."""

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from hotel_common.errors import ProblemError, problem

BEARER_CHALLENGE = 'Bearer realm="hotel"'


class HeaderedProblem(ProblemError):
    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str], **extra: Any
    ) -> None:
        super().__init__(status, code, detail, **extra)
        self.headers = headers


class InvalidCredentials(HeaderedProblem):
    """401 `invalid_credentials` with the challenge a client needs."""

    def __init__(self, detail: str, challenge: str = BEARER_CHALLENGE) -> None:
        super().__init__(401, "invalid_credentials", detail, {"WWW-Authenticate": challenge})


async def answer(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    response = problem(exc.status, exc.code, exc.detail, **exc.extra)
    response.headers.update(getattr(exc, "headers", None) or {})
    return response
