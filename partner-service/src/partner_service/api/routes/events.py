"""GET /api/v1/events: the calling partner's feed (helper: feed)."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["events"])
