"""Every kind of notice has a template in every language, and each template shows every value
it is given (so none silently drops the confirmation number, a date or the driver's phone)."""

from dataclasses import replace
from datetime import timedelta
from importlib.resources import files
from typing import Any

import jinja2
import pytest
from hotel_common.contracts.partners import WebhookSubscriptionDisabled
from hotel_common.time import utcnow
from notification_service import (
    booking_notices,
    guest_notices,
    notices,
    partner_notices,
    transfer_notices,
)
from notification_service.models import Kind
from notification_service.rendering import LANGUAGES, render

from .conftest import Samples


def sample_notice(samples: Samples, kind: str, language: str) -> notices.Notice:
    if kind in CRM_KINDS:
        return crm_sample(samples, kind, language)
    if kind == "reservation_confirmed":
        return notices.confirmation(samples.confirmed(language, with_transfer=True))
    if kind == "transfer_assigned":
        return notices.pickup(samples.assigned(language), "Harbour View Hotel")
    if kind == "transfer_rescheduled":
        return notices.rescheduled(samples.rescheduled(language), "Harbour View Hotel")
    if kind == "transfer_reassigned":
        return notices.reassigned(samples.reassigned(language), "Harbour View Hotel")
    if kind == "transfer_no_show":
        # Its booking number: the sample job's event names none, the notice would show it.
        notice = notices.no_show(samples.no_show(language), "Harbour View Hotel")
        return replace(notice, context=notice.context | {"confirmation_number": "HV7K3Q9D"})
    if kind == "sign_in_code":
        return notices.sign_in(samples.sign_in(language), "Harbour View Hotel", utcnow())
    if kind == "reservation_modified":
        notice = notices.modification(samples.modified(language))
        assert notice is not None
        return notice
    if kind == "reservation_expired":
        return notices.expiry(samples.expired(language))
    if kind in GUEST_KINDS:
        return guest_sample(samples, kind, language)
    if kind in BOOKING_KINDS:
        return booking_sample(samples, kind, language)
    if kind == "staff_digest":
        return digest_sample(language)
    if kind == "partner_webhook_disabled":
        return partner_sample(language)
    # Every value shown: a cancellation by the system for an unmet guarantee, with a fee.
    return notices.cancellation(
        samples.cancelled(
            language,
            reason_code="guarantee_expired",
            cancellation_fee_amount=48800,
            refund_amount=79200,
            currency="CNY",
        )
    )


GUEST_KINDS = {
    "survey_invitation",
    "complaint_acknowledged",
    "complaint_resolved",
    "complaint_rejected",
    "points_expiring",
    "birthday_greeting",
    "loyalty_welcome",
    "loyalty_promotion",
}


def guest_sample(samples: Samples, kind: str, language: str) -> notices.Notice:
    """Issue 19's notices, with every value they can show."""
    hotel = "Harbour View Hotel"
    if kind == "survey_invitation":
        return guest_notices.survey(samples.survey(language), language, hotel)
    if kind.startswith("complaint_"):
        stage = kind.removeprefix("complaint_")
        event = samples.complaint(language, stage=stage)
        return guest_notices.complaint(event, language, hotel)
    if kind == "points_expiring":
        return guest_notices.points_expiring(samples.points_expiring(language), language, hotel)
    if kind == "birthday_greeting":
        return guest_notices.birthday(samples.birthday(language), language, hotel)
    reason = "enrolled" if kind == "loyalty_welcome" else "promoted"
    notice = guest_notices.tier_changed(samples.tier_changed(reason=reason), language, hotel)
    assert notice is not None
    return notice


def test_a_template_for_every_kind_in_every_language() -> None:
    root = files("notification_service") / "templates"
    shipped = {
        f"{lang.name}/{t.name}" for lang in root.iterdir() if lang.is_dir() for t in lang.iterdir()
    }
    # Issue 20: the long text (email, inbox) and the short one (SMS, push) of every kind.
    expected = {
        f"{lang}/{kind}{suffix}"
        for lang in LANGUAGES
        for kind in Kind
        for suffix in (".txt", ".short.txt")
    }
    assert sorted(expected - shipped) == []
    assert sorted(shipped - expected) == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(Kind))
def test_template_renders_every_value(samples: Samples, kind: str, language: str) -> None:
    notice = sample_notice(samples, kind, language)
    rendered = notice.render()

    assert rendered.language == language
    assert rendered.subject and "\n" not in rendered.subject
    text = rendered.subject + "\n" + rendered.body
    for name, value in shown(notice.context):
        assert value is not None, f"sample leaves {name} empty"
        if isinstance(value, bool):
            continue  # a flag: it chooses a sentence (tested with the notices), shows no value
        assert str(value) in rendered.body, f"{language}/{kind}.txt does not show {name}"
    assert "{{" not in text and "{%" not in text
    own_words = text
    for _, value in shown(notice.context):
        if not isinstance(value, bool):
            own_words = own_words.replace(str(value), "")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in own_words) == language.startswith("zh")


def shown(context: dict[str, Any]) -> list[tuple[str, Any]]:
    """The context's values a template shows: a list's items' values (the digest's alerts)."""
    found: list[tuple[str, Any]] = []
    for name, value in context.items():
        if isinstance(value, list):
            found += [(f"{name}.{k}", v) for item in value for k, v in item.items()]
        else:
            found.append((name, value))
    return found


@pytest.mark.parametrize("kind", list(Kind))
def test_simplified_and_traditional_differ(samples: Samples, kind: str) -> None:
    notice = sample_notice(samples, kind, "zh-Hans")
    hans = render(kind, "zh-Hans", notice.context)
    hant = render(kind, "zh-Hant", notice.context)
    assert hans.body != hant.body and hans.subject != hant.subject


def test_unknown_language_falls_back_to_english(samples: Samples) -> None:
    notice = sample_notice(samples, "reservation_confirmed", "en")
    french = render("reservation_confirmed", "fr", notice.context)
    assert french.language == "en"
    assert french == render("reservation_confirmed", "en", notice.context)


def test_a_missing_value_is_an_error_not_a_blank(samples: Samples) -> None:
    notice = sample_notice(samples, "transfer_assigned", "en")
    context = {k: v for k, v in notice.context.items() if k != "driver_phone"}
    with pytest.raises(jinja2.UndefinedError):
        render("transfer_assigned", "en", context)


# Issue 20: transfers, loyalty and complaints (test_transfer_and_crm_notices.py).
CRM_KINDS = {"driver_on_site", "transfer_cancelled", "complaint_progress", "loyalty_demotion"}


def crm_sample(samples: Samples, kind: str, language: str) -> notices.Notice:
    hotel = "Harbour View Hotel"
    notice: notices.Notice | None
    if kind == "driver_on_site":
        notice = transfer_notices.driver_on_site(
            samples.driver_on_site(language, confirmation_number="HV7K3Q9D"), hotel
        )
    elif kind == "transfer_cancelled":
        notice = transfer_notices.transfer_cancelled(samples.ride_cancelled(language), hotel)
    elif kind == "complaint_progress":
        event = samples.complaint(language, stage="progress", outcome="investigating")
        notice = guest_notices.complaint(event, language, hotel)
    else:
        event = samples.tier_changed(
            reason="demoted", tier="silver", previous_tier="gold", discount_percent=15
        )
        notice = guest_notices.tier_changed(event, language, hotel)
    assert notice is not None
    return notice


# Issue 20: the booking's notices and reminders (booking_notices.py).
BOOKING_KINDS = {
    "reservation_created",
    "guarantee_reminder",
    "guarantee_expired",
    "reservation_no_show",
    "arrival_reminder",
    "departure_reminder",
    "stay_thanks",
    "survey_follow_up",
}


def booking_sample(samples: Samples, kind: str, language: str) -> notices.Notice:
    """Issue 20's notices, with every value they can show (a deposit, a fee and a refund,
    the pickup)."""
    from datetime import timedelta

    from hotel_common.contracts.reservations import GuaranteeTerms, ReservationCreated
    from hotel_common.testing import reservation_checked_out, reservation_no_show

    booking = samples.confirmed(language)
    if kind == "reservation_created":
        event = ReservationCreated(
            **booking.model_dump(
                include={
                    "reservation_id", "confirmation_number", "property_name", "room_type_code",
                    "room_type_name", "check_in", "check_out", "guests", "total_amount",
                    "currency", "guest", "property_timezone",
                }
            ),
            channel="direct_web",
            expires_at=utcnow() + timedelta(hours=2),
            guarantee=GuaranteeTerms(kind="deposit", amount=38400, due_hours=48),
        )  # fmt: skip
        return booking_notices.created(event)
    if kind == "guarantee_expired":
        return booking_notices.guarantee_expired(
            samples.cancelled(
                language,
                reason_code="guarantee_expired",
                cancellation_fee_amount=48800,
                refund_amount=79200,
                currency="CNY",
            )
        )
    if kind == "reservation_no_show":
        return booking_notices.no_show(reservation_no_show(booking))
    if kind == "stay_thanks":
        return booking_notices.stay_thanks(reservation_checked_out(booking))
    payload = {
        "reservation_id": booking.reservation_id,
        "confirmation_number": booking.confirmation_number,
        "guest_name": booking.guest.name,
        "language": language,
        "property_name": booking.property_name,
        "property_timezone": booking.property_timezone,
        "room_type": booking.room_type_name,
        "check_in": booking.check_in.isoformat(),
        "check_out": booking.check_out.isoformat(),
        "check_in_time": "14:00",
        "check_out_time": "12:00",
        "guarantee": "deposit",
        "guarantee_amount": "CNY 384.00",
        "due_at": "2030-05-20T09:00:00+00:00",
        "survey_url": "https://harbourview.example/survey/tok-3f9a2c",
        "expires_on": "2030-06-18",
        "signature": "Harbour View Hotel",
    }
    pickup = {
        "pickup_time": "2030-06-01T06:30:00+00:00",
        "pickup_place": "Pudong Airport T2, arrivals exit 5",
        "destination": "Harbour View Hotel",
        "driver_name": "Zhang Wei",
        "driver_phone": "+86 139 0013 9000",
        "vehicle_plate": "沪A·12345",
        "vehicle_description": "black Buick GL8, 7 seats",
    }
    return booking_notices.reminder(Kind(kind), payload, language, pickup)


def digest_sample(language: str) -> notices.Notice:
    """Issue 20: the staff inbox's digest (staff_inbox.py builds the same context)."""
    alerts = [
        {"title": "Guest not reached: transfer assigned (HV7K3Q9D)", "at": "2030-06-01 06:58 UTC"},
        {"title": "Pickup no-show: HV7K3Q9D", "at": "2030-06-01 07:40 UTC"},
    ]
    return notices.Notice(
        kind=Kind.STAFF_DIGEST,
        reservation_id=None,
        confirmation_number=None,
        email="desk@harbourview.example",
        language=language,
        context={"count": len(alerts), "alerts": alerts},
    )


def partner_sample(language: str) -> notices.Notice:
    """Issue 21: a partner's webhook subscription disabled (partner_notices.py's context)."""
    now = utcnow()
    event = WebhookSubscriptionDisabled(
        subscription_id="7f3c2a1e-5b6d-4c8e-9f0a-1b2c3d4e5f60",
        partner_id="ota-blue",
        url="https://hooks.ota-blue.example/hotel",
        contact_email="integrations@ota-blue.example",
        failing_since=now - timedelta(days=1),
        disabled_at=now,
        last_error="HTTP 503",
    )
    return notices.Notice(
        kind=Kind.PARTNER_WEBHOOK_DISABLED,
        reservation_id=None,
        confirmation_number=None,
        email="integrations@ota-blue.example",
        language=language,
        context=partner_notices.disabled_context(event),
    )
