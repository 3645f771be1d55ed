"""Issue 21: notices to partners (OTAs, channel managers), not guests.

`partner.webhook_disabled` (partner-service disabled a subscription that failed for a day):
one email to the subscription's `contact_email`, saying which subscription (id, URL), since
when it failed, the last error, and how to turn it back on. None when no contact was given.

Not a guest notice: no guest preferences, consent, quiet hours or routing (reach.py), no
inbox copy (inbox.NOT_KEPT), no guest alert when it fails (staff_inbox.guest_unreachable),
not visible to a guest who shares the address (access.py). It is a row of the delivery log
like any notice (kind `partner_webhook_disabled`), sent and retried by the normal sender.
Once per event: the handler's stable name keys it in the inbox (a redelivery adds nothing).
"""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hotel_common.contracts.partners import WebhookSubscriptionDisabled
from hotel_common.db import after_commit
from hotel_common.service import Runtime
from hotel_common.time import as_utc
from sqlmodel.ext.asyncio.session import AsyncSession

from notification_service import rendering
from notification_service.config import Settings
from notification_service.models import Channel, Kind, Notification, Purpose

log = logging.getLogger(__name__)

HANDLER = "notification.partner_webhook_disabled"
# Partners are written to in English: the event names no language (the zh-Hans and zh-Hant
# files serve a staff override or a later per-partner language).
LANGUAGE = "en"
SUBSCRIPTIONS_PATH = "/api/v1/webhook-subscriptions"


def _at(moment: datetime) -> str:
    return f"{as_utc(moment):%Y-%m-%d %H:%M} UTC"


def disabled_context(event: WebhookSubscriptionDisabled) -> dict[str, Any]:
    """The template's variables (samples.SAMPLES holds the same keys)."""
    return {
        "partner_id": event.partner_id,
        "subscription_id": event.subscription_id,
        "url": event.url,
        "failing_since": _at(event.failing_since),
        "disabled_at": _at(event.disabled_at),
        "last_error": event.last_error or "",
        "reenable": f"PATCH {SUBSCRIPTIONS_PATH}/{event.subscription_id}",
    }


class PartnerNotices:
    def __init__(self, wake: Callable[[], None]) -> None:
        self.wake = wake

    async def webhook_disabled(
        self, session: AsyncSession, event: WebhookSubscriptionDisabled
    ) -> None:
        contact = (event.contact_email or "").strip()
        if not contact:
            log.info(
                "webhook subscription disabled: no contact to tell",
                extra={"subscription_id": event.subscription_id, "partner_id": event.partner_id},
            )
            return
        kind = Kind.PARTNER_WEBHOOK_DISABLED
        rendered = await rendering.render_for(
            session, kind, Channel.EMAIL, LANGUAGE, disabled_context(event)
        )
        notice = Notification(
            event_id=event.event_id,
            kind=kind,
            channel=Channel.EMAIL,
            email=contact,
            language=rendered.language,
            subject=rendered.subject,
            body=rendered.body,
            html=rendered.html,
            purpose=Purpose.SERVICE,
        )
        session.add(notice)
        after_commit(session, self.wake)
        log.info(
            "partner told of a disabled webhook subscription",
            extra={"subscription_id": event.subscription_id, "notification_id": notice.id},
        )


def subscribe(runtime: Runtime[Settings], wake: Callable[[], None]) -> None:
    partners = PartnerNotices(wake)
    runtime.handle(WebhookSubscriptionDisabled, partners.webhook_disabled, name=HANDLER)
