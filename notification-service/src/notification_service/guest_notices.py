"""Notices of the guest CRM (issue 19): survey invitations, a complaint's acknowledgement and
outcome, points about to expire, the birthday greeting, and a membership's welcome or promotion;
issue 20: a complaint's progress and a membership's demotion.

Each builder takes the language already chosen (the guest's preference, else the event's) and
formats every value for it, like notices.py.
"""

from typing import Any

from hotel_common.contracts.guests import (
    BirthdayBenefitGranted,
    ComplaintNotice,
    LoyaltyTierChanged,
    PointsExpiring,
    SurveyRequested,
)

from notification_service import formatting as fmt
from notification_service.models import Kind
from notification_service.notices import Notice
from notification_service.rendering import resolve_language

TIER_NAMES = {
    "en": {"regular": "Regular", "silver": "Silver", "gold": "Gold", "diamond": "Diamond"},
    "zh-Hans": {
        "regular": "普通会员", "silver": "银卡会员", "gold": "金卡会员", "diamond": "钻石会员",
    },
    "zh-Hant": {
        "regular": "普通會員", "silver": "銀卡會員", "gold": "金卡會員", "diamond": "鑽石會員",
    },
}  # fmt: skip

COMPLAINT_KINDS = {
    "acknowledged": Kind.COMPLAINT_ACKNOWLEDGED,
    "progress": Kind.COMPLAINT_PROGRESS,
    "resolved": Kind.COMPLAINT_RESOLVED,
    "rejected": Kind.COMPLAINT_REJECTED,
}


# Issue 20: the steps of a case guest-service tells as progress (its `outcome` is the code; the
# template words it, by a flag `step_<code>` each). Another code, from a newer guest-service, is
# told as "it moved on".
PROGRESS_STEPS = ("investigating", "remedy_proposed", "awaiting_approval")
TIER_ORDER = ("regular", "silver", "gold", "diamond")
# Tier changes not announced: the membership ended (lapsed: tier None; erased) or the profile's
# records were put together or apart by staff (merged, merge_undone) or its addresses changed.
UNTOLD_TIER_REASONS = frozenset({"lapsed", "erased", "merged", "merge_undone", "contacts_changed"})


def _notice(
    kind: Kind,
    language: str,
    guest_id: str | None,
    context: dict[str, Any],
    *,
    reservation_id: str | None = None,
    transfer_id: str | None = None,
) -> Notice:
    # The address is the route's (reach.py): the handler sets it.
    return Notice(
        kind=kind,
        reservation_id=reservation_id,
        confirmation_number=None,
        email="",
        language=language,
        context=context,
        transfer_id=transfer_id,
        guest_id=guest_id,
    )


def _member_notice(
    kind: Kind,
    event: PointsExpiring | BirthdayBenefitGranted,
    lang: str,
    signature: str,
    **context: Any,
) -> Notice:
    """A notice to a member by name and member number, with what `context` adds."""
    return _notice(
        kind,
        lang,
        event.guest_id,
        {
            "guest_name": event.name,
            "member_number": event.member_number,
            **context,
            "signature": signature,
        },
    )


def survey(event: SurveyRequested, language: str | None, signature: str) -> Notice:
    """The invitation with its one-time link and the day it runs out."""
    lang = resolve_language(language or event.language)
    return _notice(
        Kind.SURVEY_INVITATION,
        lang,
        event.guest_id,
        {
            "guest_name": event.name,
            "about_transfer": event.about == "transfer",
            "survey_url": event.survey_url,
            "expires_on": fmt.day(event.expires_at.date(), lang),
            "signature": signature,
        },
        reservation_id=event.reservation_id,
        transfer_id=event.transfer_id,
    )


def complaint_kind(event: ComplaintNotice) -> Kind:
    return COMPLAINT_KINDS[event.stage]


def complaint(event: ComplaintNotice, language: str | None, signature: str) -> Notice:
    """Where the case stands: received (with its number), or its outcome."""
    lang = resolve_language(language or event.language)
    context: dict[str, Any] = {
        "guest_name": event.name,
        "case_number": event.case_number,
        "summary": event.summary,
        "signature": signature,
    }
    if event.stage == "progress":  # the step's code, as a flag per known step the template words
        for step in PROGRESS_STEPS:
            context[f"step_{step}"] = event.outcome == step
    elif event.stage != "acknowledged":
        context["outcome"] = event.outcome or "-"
    return _notice(complaint_kind(event), lang, event.guest_id, context)


def points_expiring(event: PointsExpiring, language: str | None, signature: str) -> Notice:
    """ "Use them in time": how many points, and the day they are cleared."""
    lang = resolve_language(language or event.language)
    return _member_notice(
        Kind.POINTS_EXPIRING,
        event,
        lang,
        signature,
        points=f"{event.points:,}",
        expires_on=fmt.day(event.expires_on, lang),
    )


def birthday(event: BirthdayBenefitGranted, language: str | None, signature: str) -> Notice:
    """The greeting with the benefit and until when it may be used."""
    lang = resolve_language(language or event.language)
    return _member_notice(
        Kind.BIRTHDAY_GREETING,
        event,
        lang,
        signature,
        benefit=event.benefit,
        valid_until=fmt.day(event.valid_until, lang),
    )


def tier_kind(event: LoyaltyTierChanged) -> Kind | None:
    """Enrolment welcomes, a promotion congratulates, a demotion (issue 20: a lower tier than
    before, for a reason of the membership itself) tells the new tier and its discount; a lapse,
    an erasure, a merge or its undoing is not announced (docs/DECISIONS.md, Issue 19: notices,
    Issue 20: transfer, loyalty and complaint notices)."""
    if event.tier is None or event.member_number is None:
        return None
    if event.reason == "enrolled":
        return Kind.LOYALTY_WELCOME
    if event.reason == "promoted":
        return Kind.LOYALTY_PROMOTION
    if event.reason in UNTOLD_TIER_REASONS or event.previous_tier is None:
        return None
    if TIER_ORDER.index(event.tier) < TIER_ORDER.index(event.previous_tier):
        return Kind.LOYALTY_DEMOTION
    return None


def tier_changed(event: LoyaltyTierChanged, language: str | None, signature: str) -> Notice | None:
    """The member number, the tier and its member discount. The event names no guest and no
    language: the greeting is to the member, in the guest's preferred language or English."""
    kind = tier_kind(event)
    if kind is None or event.tier is None:
        return None
    lang = resolve_language(language)
    return _notice(
        kind,
        lang,
        event.guest_id,
        {
            "member_number": event.member_number,
            "tier": TIER_NAMES[lang][event.tier],
            "discount_percent": event.discount_percent,
            "signature": signature,
            # A demotion names the tier left (a welcome or promotion has none to name).
            **(
                {"previous_tier": TIER_NAMES[lang][event.previous_tier]}
                if kind is Kind.LOYALTY_DEMOTION and event.previous_tier is not None
                else {}
            ),
        },
    )
