"""Contact normalisation: one spelling per email and phone, so matching is a plain equality."""

import re

# Separators people type inside phone numbers; dots are included because "138.0013.8000" is common.
_SEPARATORS = re.compile(r"[\s\-().\[\]]")
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")  # E.164 allows at most 15 digits


def normalise_email(raw: str | None) -> str | None:
    """Trimmed and lower-cased; None for a missing or blank address."""
    email = (raw or "").strip().lower()
    return email or None


def clean_phone(raw: str) -> str:
    """Strip separators and turn an international "00" prefix into "+"."""
    phone = _SEPARATORS.sub("", raw)
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    return phone


def normalise_phone(raw: str | None) -> str | None:
    """Digits with an optional leading "+"; None when blank or not a phone number at all."""
    phone = clean_phone(raw or "")
    return phone if _PHONE.match(phone) else None
