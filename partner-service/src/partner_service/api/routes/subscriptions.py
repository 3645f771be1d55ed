"""/api/v1/webhook-subscriptions: a partner's webhooks, their delivery log and redelivery
(helper: webhooks)."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["webhooks"])
