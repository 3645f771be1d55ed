"""Contacts: one spelling for a phone number, an e-mail address and a language tag, everywhere.

A value is normalised where it enters (request bodies, query parameters, events), so what is
stored, matched and sent on is a plain equality:

- `Phone`: E.164, "+" then 8-15 digits (at most `PHONE_MAX_LENGTH` = 16 characters). Accepts the
  international prefix as "+" or "00" and the separators people type (spaces, dashes, dots,
  parentheses). A number without an international prefix is refused: "0138 ..." means another
  number in every country.
- `Email`: trimmed and lower-cased, checked by `email-validator` (no deliverability look-up),
  at most `EMAIL_MAX_LENGTH` = 254 characters.
- `LanguageTag`: a well-formed BCP-47 tag (RFC 5646, without the grandfathered ones) in its
  canonical case ("zh-hans-cn" -> "zh-Hans-CN", "en_us" -> "en-US"), at most
  `LANGUAGE_TAG_MAX_LENGTH` = 35 characters. Any language is accepted: what a service can
  *serve* (templates, drivers) it resolves itself.

The plain functions raise `ContactError` (a `ValueError`) with a sentence a client can act on;
the `Annotated` types raise it as a pydantic error of type `phone_number`, `email_address` or
`language_tag`, so a request gets a 422 naming the field like any other validation error.

`contact_columns` / `contact_of` are the one mapping between a guest contact (name, email,
phone, language) and a row's `guest_*` columns.
"""

import re
from collections.abc import Callable
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

PHONE_MAX_LENGTH = 16  # "+" and at most 15 digits (E.164)
EMAIL_MAX_LENGTH = 254  # the longest address SMTP can carry (RFC 5321 path less brackets)
LANGUAGE_TAG_MAX_LENGTH = 35  # what RFC 5646 asks an implementation to store at least

_RAW_PHONE_MAX = 40  # what a person may type, separators included, before it is cleaned
_PHONE_SEPARATORS = re.compile(r"[\s\-.()]")
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")

_SINGLETON = r"[0-9a-wyz]"
_LANGUAGE_TAG = re.compile(
    r"(?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variants
    rf"(?:-{_SINGLETON}(?:-[a-z0-9]{{2,8}})+)*"  # extensions
    r"(?:-x(?:-[a-z0-9]{1,8})+)?",  # private use
    re.IGNORECASE | re.ASCII,  # without ASCII, [a-z] also matches "\u017f" and "\u0130"
)


class ContactError(ValueError):
    """A contact value that cannot be normalised; the message says what is expected."""


def normalise_phone(raw: str) -> str:
    """`raw` as E.164 ("+<digits>"), or `ContactError`."""
    if len(raw) > _RAW_PHONE_MAX:
        raise ContactError(f"a phone number is at most {_RAW_PHONE_MAX} characters as typed")
    phone = _PHONE_SEPARATORS.sub("", raw)
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    if not _E164.fullmatch(phone):
        raise ContactError(
            'a phone number is "+" or "00", the country code, then the number:'
            " 8-15 digits in all (spaces, dashes, dots and parentheses are ignored)"
        )
    return phone


def normalise_email(raw: str) -> str:
    """`raw` trimmed, checked and lower-cased, or `ContactError`."""
    address = raw.strip()
    if len(address) > EMAIL_MAX_LENGTH:
        raise ContactError(f"an e-mail address is at most {EMAIL_MAX_LENGTH} characters")
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        raise ContactError(f"not an e-mail address: {error}") from None
    return checked.normalized.lower()


def normalise_language_tag(raw: str) -> str:
    """`raw` as a BCP-47 tag in canonical case ("_" read as "-"), or `ContactError`."""
    tag = raw.strip().replace("_", "-")
    if len(tag) > LANGUAGE_TAG_MAX_LENGTH or not _LANGUAGE_TAG.fullmatch(tag):
        raise ContactError(
            'a language is a BCP-47 tag such as "en", "en-GB" or "zh-Hans"'
            f" (at most {LANGUAGE_TAG_MAX_LENGTH} characters)"
        )
    # RFC 5646 2.1.1: language lower, script title, region upper; after a singleton, all lower.
    subtags = tag.lower().split("-")
    out = subtags[:1]
    in_extension = False
    for subtag in subtags[1:]:
        in_extension = in_extension or len(subtag) == 1
        if not in_extension and len(subtag) == 4 and subtag.isalpha():
            subtag = subtag.title()
        elif not in_extension and len(subtag) == 2:
            subtag = subtag.upper()
        out.append(subtag)
    return "-".join(out)


def _pydantic(normalise: Callable[[str], str], error_type: str) -> AfterValidator:
    def validate(value: str) -> str:
        try:
            return normalise(value)
        except ContactError as error:
            raise PydanticCustomError(error_type, str(error)) from None

    return AfterValidator(validate)


Phone = Annotated[
    str,
    _pydantic(normalise_phone, "phone_number"),
    Field(
        description='E.164: "+" then 8-15 digits (at most 16 characters). Accepted with "00"'
        ' for "+" and with spaces, dashes, dots or parentheses; answered without them.',
        examples=["+8613800138000"],
    ),
]
Email = Annotated[
    str,
    _pydantic(normalise_email, "email_address"),
    Field(
        description="E-mail address, stored and answered lower-cased",
        examples=["li.wei@example.com"],
    ),
]
LanguageTag = Annotated[
    str,
    _pydantic(normalise_language_tag, "language_tag"),
    Field(
        description="BCP-47 language tag, answered in canonical case",
        examples=["en", "zh-Hans"],
    ),
]

CONTACT_FIELDS = ("name", "email", "phone", "language")


def contact_columns(contact: Any, prefix: str = "guest_") -> dict[str, Any]:
    """A contact's fields as a row's columns: {"guest_name": ..., "guest_email": ...}."""
    return {f"{prefix}{field}": getattr(contact, field) for field in CONTACT_FIELDS}


def contact_of(row: Any, prefix: str = "guest_") -> dict[str, Any]:
    """A row's `guest_*` columns as a contact: {"name": ..., "email": ..., ...}."""
    return {field: getattr(row, f"{prefix}{field}") for field in CONTACT_FIELDS}
