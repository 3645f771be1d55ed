"""Contacts as guest-service reads them where they may be odd: a booking event and a filter.

The rule itself is hotel_common.contacts (one E.164 phone and one email rule everywhere); a
booking carries whatever its channel sent, so there an odd value is dropped rather than the
booking refused, and a filter that is not a phone or an email simply matches nothing.
"""

from hotel_common.contacts import ContactError, normalise_email, normalise_phone


def booking_email(raw: str | None) -> str | None:
    """The normalised address, or None when missing or not an address."""
    try:
        return normalise_email(raw) if raw and raw.strip() else None
    except ContactError:
        return None


def booking_phone(raw: str | None) -> str | None:
    """E.164, or None when missing or not a phone number."""
    try:
        return normalise_phone(raw) if raw and raw.strip() else None
    except ContactError:
        return None


def email_filter(raw: str | None) -> str | None:
    """What `?email=` compares with: normalised, else as sent (it then matches nothing)."""
    return None if raw is None else booking_email(raw) or raw.strip().lower()


def phone_filter(raw: str | None) -> str | None:
    """What `?phone=` compares with: E.164, else as sent (it then matches nothing)."""
    return None if raw is None else booking_phone(raw) or raw.strip()
