"""hotel_common.contacts: one E.164 phone rule, one e-mail rule, one BCP-47 language tag type,
and the one mapping between a contact and a row's guest_* columns."""

from types import SimpleNamespace

import pytest
from hotel_common.contacts import (
    PHONE_MAX_LENGTH,
    ContactError,
    Email,
    LanguageTag,
    Phone,
    contact_columns,
    contact_of,
    normalise_email,
    normalise_language_tag,
    normalise_phone,
)
from pydantic import BaseModel, ValidationError


class Contact(BaseModel):
    email: Email
    phone: Phone | None = None
    language: LanguageTag = "en"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+8613800138000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("0086 138-0013-8000", "+8613800138000"),
        ("+86 (138) 0013.8000", "+8613800138000"),
        ("+44 7700 900123", "+447700900123"),
        ("+1 (212) 555-0100", "+12125550100"),
        ("+49 30 1234567", "+49301234567"),  # 10 digits
        ("+12345678", "+12345678"),  # 8 digits, the shortest
        ("+123456789012345", "+123456789012345"),  # 15 digits, the longest
    ],
)
def test_phone_numbers_are_normalised_to_e164(typed: str, stored: str) -> None:
    assert normalise_phone(typed) == stored
    assert len(stored) <= PHONE_MAX_LENGTH


@pytest.mark.parametrize(
    "bad",
    [
        "138 0013 8000",  # no international prefix
        "0138 0013 8000",  # a national trunk prefix
        "+1234567",  # 7 digits
        "+1234567890123456",  # 16 digits
        "+0 123 456 789",  # country codes do not start with 0
        "+86 138 0013 800O",  # a letter O
        "+86/138/0013/8000",  # not a separator we know
        "++8613800138000",
        "",
        "+86" + " " * 40 + "13800138000",  # absurdly long as typed
    ],
)
def test_anything_else_is_not_a_phone_number(bad: str) -> None:
    with pytest.raises(ContactError, match="phone number"):
        normalise_phone(bad)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("li.wei@example.com", "li.wei@example.com"),
        ("  Li.Wei@Example.COM ", "li.wei@example.com"),
        ("WANG+hotel@Mail.Example.CN", "wang+hotel@mail.example.cn"),
    ],
)
def test_email_addresses_are_trimmed_and_lower_cased(typed: str, stored: str) -> None:
    assert normalise_email(typed) == stored


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "li.wei",
        "li.wei@",
        "@example.com",
        "li wei@example.com",
        "a@b@c.com",
        "x" * 250 + "@e.com",
    ],
)
def test_anything_else_is_not_an_email_address(bad: str) -> None:
    with pytest.raises(ContactError):
        normalise_email(bad)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("en-gb", "en-GB"),
        ("en_US", "en-US"),
        ("zh-hans", "zh-Hans"),
        ("ZH-HANT-TW", "zh-Hant-TW"),
        ("zh-Hans-CN", "zh-Hans-CN"),
        ("es-419", "es-419"),
        ("sr-latn-rs", "sr-Latn-RS"),
        ("de-CH-1901", "de-CH-1901"),
        ("en-US-u-ca-gregory", "en-US-u-ca-gregory"),
        ("en-a-bbb-x-a-ccc", "en-a-bbb-x-a-ccc"),  # after a singleton, all lower-case
        ("yue", "yue"),
    ],
)
def test_language_tags_are_bcp47_in_canonical_case(typed: str, canonical: str) -> None:
    assert normalise_language_tag(typed) == canonical


@pytest.mark.parametrize(
    "bad", ["", "e", "english!", "en--US", "en-", "-en", "zh-Hans-CN-" + "x" * 30, "1en", "en US"]
)
def test_anything_else_is_not_a_language_tag(bad: str) -> None:
    with pytest.raises(ContactError, match="BCP-47"):
        normalise_language_tag(bad)


def test_the_types_normalise_in_a_model() -> None:
    contact = Contact(email=" Li.Wei@Example.com", phone="0086 138 0013 8000", language="zh-hans")
    assert (contact.email, contact.phone, contact.language) == (
        "li.wei@example.com",
        "+8613800138000",
        "zh-Hans",
    )


def test_a_bad_value_is_a_validation_error_naming_the_field_and_rule() -> None:
    with pytest.raises(ValidationError) as raised:
        Contact(email="nobody", phone="12345", language="?")
    errors = {e["loc"]: e for e in raised.value.errors()}
    assert errors[("email",)]["type"] == "email_address"
    assert errors[("phone",)]["type"] == "phone_number"
    assert "8-15 digits" in errors[("phone",)]["msg"]
    assert errors[("language",)]["type"] == "language_tag"


def test_a_non_string_is_refused_by_the_string_check() -> None:
    with pytest.raises(ValidationError) as raised:
        Contact(email="a@example.com", phone=8613800138000)  # type: ignore[arg-type]
    assert raised.value.errors()[0]["type"] == "string_type"


def test_the_schema_describes_the_rules() -> None:
    schema = Contact.model_json_schema()["properties"]
    assert "E.164" in schema["phone"]["anyOf"][0]["description"]
    assert "BCP-47" in schema["language"]["description"]


def test_one_mapping_between_a_contact_and_guest_columns() -> None:
    contact = SimpleNamespace(name="Li Wei", email="li@example.com", phone=None, language="en")
    columns = contact_columns(contact)
    assert columns == {
        "guest_name": "Li Wei",
        "guest_email": "li@example.com",
        "guest_phone": None,
        "guest_language": "en",
    }
    assert contact_of(SimpleNamespace(**columns)) == vars(contact)
