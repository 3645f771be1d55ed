"""Email as a guest's mail client sees it: the plain text, the HTML beside it, and the booking's
calendar entry (booking.ics) that a confirmation puts in the guest's calendar, a change updates
and a cancellation takes out again."""

from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from hotel_common.testing import MailServer, eventually, reservation_cancelled, reservation_modified
from notification_service import ics
from notification_service.mailer import PermanentFailure, build_message

from .conftest import Samples, StartService

FROM = "Harbour View Hotel <stay@harbourview.example>"
DOMAIN = "harbourview.example"
NOW = datetime(2030, 5, 1, 9, 30, tzinfo=UTC)


# -- reading what arrives ------------------------------------------------------------------------


def parts(message: EmailMessage) -> list[EmailMessage]:
    return [p for p in message.walk() if not p.is_multipart()]


def calendar_part(message: EmailMessage) -> EmailMessage | None:
    found = [p for p in parts(message) if p.get_content_type() == "text/calendar"]
    assert len(found) <= 1
    return found[0] if found else None


def unfold(text: str) -> list[str]:
    """RFC 5545 3.1: a CRLF followed by a space or tab joins the lines."""
    assert "\n" not in text.replace("\r\n", ""), "bare line feeds in the entry"
    return text.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars)
            out.append("\n" if nxt in "nN" else nxt)
        else:
            out.append(ch)
    return "".join(out)


def read_event(text: str) -> dict[str, str]:
    """The VCALENDAR's METHOD and its one VEVENT's properties: name (with parameters, as
    'DTSTART;VALUE=DATE') -> unescaped value."""
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    props: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        if name not in ("BEGIN", "END"):
            props[name] = unescape(value)
    return props


def entry_of(message: EmailMessage) -> tuple[EmailMessage, str, dict[str, str]]:
    part = calendar_part(message)
    assert part is not None, "no calendar entry"
    raw = part.get_payload(decode=True)
    assert isinstance(raw, bytes)
    text = raw.decode("utf-8")
    return part, text, read_event(text)


# -- ics: the entry itself -----------------------------------------------------------------------


def entry(**overrides: Any) -> dict[str, Any]:
    return {
        "uid": "b7d2c1e0-res",
        "sequence": 2,
        "method": "REQUEST",
        "start": "2030-06-01",
        "end": "2030-06-04",
        "check_in_time": "14:00",
        "check_out_time": "12:00",
        "timezone": "Asia/Shanghai",
        "summary": "Stay at Harbour View Hotel",
        "location": "Harbour View Hotel",
        "description": "Confirmation number: HV-2030-0001",
        **overrides,
    }


def build(calendar: dict[str, Any]) -> str:
    return ics.build(
        calendar,
        domain=DOMAIN,
        organizer="stay@harbourview.example",
        attendee="g@x.example",
        now=NOW,
    )


def test_a_stay_runs_from_check_in_to_check_out_at_the_property_clock_times() -> None:
    event = read_event(build(entry()))
    assert event["METHOD"] == "REQUEST"
    assert event["UID"] == f"b7d2c1e0-res@{DOMAIN}"
    assert event["SEQUENCE"] == "2"
    # 14:00 and 12:00 in Shanghai (UTC+8) as UTC instants
    assert event["DTSTART"] == "20300601T060000Z"
    assert event["DTEND"] == "20300604T040000Z"
    assert event["DTSTAMP"] == "20300501T093000Z"
    assert event["STATUS"] == "CONFIRMED"
    assert event["LOCATION"] == "Harbour View Hotel"
    assert event["DESCRIPTION"] == "Confirmation number: HV-2030-0001"
    assert event["ORGANIZER"] == "mailto:stay@harbourview.example"
    [attendee] = [k for k in event if k.startswith("ATTENDEE")]
    assert "RSVP=FALSE" in attendee and event[attendee] == "mailto:g@x.example"
    assert event["VERSION"] == "2.0" and event["PRODID"]


def test_without_clock_times_the_stay_is_all_day_with_the_check_out_day_exclusive() -> None:
    for missing in ({"check_in_time": None}, {"check_out_time": None}, {"timezone": None}):
        event = read_event(build(entry(**missing)))
        assert event["DTSTART;VALUE=DATE"] == "20300601"
        assert event["DTEND;VALUE=DATE"] == "20300604"
        assert "DTSTART" not in event


def test_a_cancellation_is_a_cancel_of_the_same_event() -> None:
    event = read_event(build(entry(method="CANCEL", sequence=5)))
    assert event["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert event["UID"] == f"b7d2c1e0-res@{DOMAIN}" and event["SEQUENCE"] == "5"


def test_a_booking_still_a_request_is_tentative() -> None:
    assert read_event(build(entry(status="TENTATIVE")))["STATUS"] == "TENTATIVE"
    assert read_event(build(entry(method="CANCEL", status="TENTATIVE")))["STATUS"] == "CANCELLED"


def test_commas_semicolons_backslashes_and_newlines_are_escaped() -> None:
    text = build(entry(summary="Suite; sea view, 2 nights\\ok", description="line one\nline two"))
    assert "SUMMARY:Suite\\; sea view\\, 2 nights\\\\ok\r\n" in text
    assert "DESCRIPTION:line one\\nline two\r\n" in text
    event = read_event(text)
    assert event["SUMMARY"] == "Suite; sea view, 2 nights\\ok"
    assert event["DESCRIPTION"] == "line one\nline two"


def test_long_chinese_lines_fold_at_75_octets_without_splitting_a_character() -> None:
    name = "上海外滩华尔道夫酒店·海景豪华套房与行政酒廊礼遇, 含双人早餐; 欢迎您的到来" * 2
    text = build(entry(location=name, summary=f"入住{name}"))
    raw = text.encode("utf-8")
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # each physical line is whole characters
    assert raw.endswith(b"\r\n")
    event = read_event(text)
    assert event["LOCATION"] == name
    assert event["SUMMARY"] == f"入住{name}"


def test_fold_keeps_short_lines_and_counts_the_leading_space() -> None:
    assert ics.fold("UID:x") == "UID:x"
    folded = ics.fold("X:" + "a" * 200).split("\r\n ")
    assert [len(p) for p in folded] == [75, 74, 53]


@pytest.mark.parametrize(
    "bad",
    [{"method": "PUBLISH"}, {"uid": ""}, {"start": "soon"}, {"check_in_time": "2pm"}],
)
def test_a_bad_calendar_dict_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ics.BadCalendar):
        build(entry(**bad))


# -- build_message: the MIME structure -----------------------------------------------------------


def message(**overrides: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "notification_id": "n-1",
        "mail_from": FROM,
        "recipient": "lin.mei@example.com",
        "subject": "Booking confirmed",
        "body": "Dear Lin Mei,\n",
        **overrides,
    }
    return build_message(**fields)


def test_plain_text_alone_stays_a_single_text_part() -> None:
    msg = message()
    assert msg.get_content_type() == "text/plain"
    assert msg["Message-ID"] == f"<n-1@{DOMAIN}>"


def test_html_goes_beside_the_text_as_alternatives() -> None:
    msg = message(html="<p>Dear Lin Mei</p>")
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parts(msg)] == ["text/plain", "text/html"]
    assert message(html="<p>x</p>")["Message-ID"] == msg["Message-ID"]


def test_the_calendar_entry_is_attached_beside_the_alternatives() -> None:
    msg = message(html="<p>Dear Lin Mei</p>", calendar=entry())
    assert msg.get_content_type() == "multipart/mixed"
    first, ics_part = msg.iter_parts()
    assert first.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parts(msg)] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    assert ics_part.get_param("method") == "REQUEST"
    assert str(ics_part.get_param("charset")).lower() == "utf-8"
    assert ics_part.get_filename() == "booking.ics"
    assert ics_part.get_content_disposition() == "attachment"
    assert msg["Message-ID"] == f"<n-1@{DOMAIN}>"
    assert msg["Auto-Submitted"] == "auto-generated"


def test_a_bad_recipient_is_still_a_permanent_failure() -> None:
    with pytest.raises(PermanentFailure):
        message(recipient="not an address", html="<p>x</p>", calendar=entry())


def test_an_entry_that_cannot_be_built_does_not_hold_the_mail_back() -> None:
    msg = message(calendar=entry(method="nonsense"))
    assert calendar_part(msg) is None
    assert "Dear Lin Mei" in msg.get_content()


# -- end to end: events in, the real SMTP server's messages out ---------------------------------

TIMES = {"check_in_time": "14:00", "check_out_time": "12:00"}


async def sent_to(mail_server: MailServer, count: int) -> list[EmailMessage]:
    return await eventually(lambda: list(mail_server.messages), lambda m: len(m) >= count)


async def test_a_confirmation_arrives_with_text_html_and_its_calendar_entry(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    event = samples.confirmed("en", aggregate_version=2, **TIMES)
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(event)
        await svc.wait_for(event.reservation_id, lambda n: n["status"] == "sent")

    [msg] = mail_server.messages
    assert msg.get_content_type() == "multipart/mixed"
    types = [p.get_content_type() for p in parts(msg)]
    assert types == ["text/plain", "text/html", "text/calendar"]
    text, html = parts(msg)[0].get_content(), parts(msg)[1].get_content()
    # The HTML part is the file template's, rendered with the same values (rendering.py).
    assert event.confirmation_number in text and event.confirmation_number in html
    assert event.guest.name in html and html.lstrip().lower().startswith("<!doctype html")
    part, _, ics_event = entry_of(msg)
    assert part.get_param("method") == "REQUEST" and part.get_filename() == "booking.ics"
    assert ics_event["METHOD"] == "REQUEST"
    assert ics_event["UID"] == f"{event.reservation_id}@{DOMAIN}"
    assert ics_event["SEQUENCE"] == "2"
    # check-in 1 June 2030 14:00 and check-out 4 June 12:00, Shanghai time, in UTC
    assert (event.check_in, event.check_out) == (date(2030, 6, 1), date(2030, 6, 4))
    assert ics_event["DTSTART"] == "20300601T060000Z"
    assert ics_event["DTEND"] == "20300604T040000Z"
    assert ics_event["LOCATION"] == event.property_name
    assert event.confirmation_number in ics_event["DESCRIPTION"]


async def test_a_change_updates_the_same_calendar_event_and_a_cancellation_removes_it(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    booking = samples.confirmed("en", aggregate_version=2, **TIMES)
    moved = reservation_modified(
        booking,
        check_in=booking.check_in + timedelta(days=1),
        check_out=booking.check_out + timedelta(days=1),
        aggregate_version=3,
    )
    cancelled = reservation_cancelled(booking, aggregate_version=4)
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(booking)
        [first] = await sent_to(mail_server, 1)
        svc.deliver(moved)
        [_, second] = await sent_to(mail_server, 2)
        svc.deliver(cancelled)
        [*_, third] = await sent_to(mail_server, 3)

    confirmed, changed, gone = (entry_of(m)[2] for m in (first, second, third))
    assert confirmed["UID"] == changed["UID"] == gone["UID"]
    assert int(confirmed["SEQUENCE"]) < int(changed["SEQUENCE"]) < int(gone["SEQUENCE"])
    assert changed["METHOD"] == "REQUEST"
    assert changed["DTSTART"] == "20300602T060000Z"  # a day later
    assert changed["DTEND"] == "20300605T040000Z"
    assert gone["METHOD"] == "CANCEL" and gone["STATUS"] == "CANCELLED"
    assert calendar_part(third) is not None and calendar_part(third).get_param("method") == "CANCEL"  # type: ignore[union-attr]


async def test_a_chinese_property_name_survives_folding(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    name = "上海外滩海景大酒店 (黄浦江畔·行政楼层), 欢迎您再次光临; 我们期待您的到来"
    event = samples.confirmed("zh-Hans", property_name=name, **TIMES)
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(event)
        await svc.wait_for(event.reservation_id, lambda n: n["status"] == "sent")

    [msg] = mail_server.messages
    _, text, ics_event = entry_of(msg)
    assert all(len(line) <= 75 for line in text.encode("utf-8").split(b"\r\n"))
    assert ics_event["LOCATION"] == name
    assert ics_event["SUMMARY"] == f"入住{name}"
    assert ics_event["DESCRIPTION"] == f"确认号\uff1a{event.confirmation_number}"


async def test_without_the_property_times_the_entry_is_all_day(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    event = samples.confirmed("en")  # a publisher from before issue 20: no clock times
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(event)
        await svc.wait_for(event.reservation_id, lambda n: n["status"] == "sent")

    _, _, ics_event = entry_of(mail_server.messages[0])
    assert ics_event["DTSTART;VALUE=DATE"] == "20300601"
    assert ics_event["DTEND;VALUE=DATE"] == "20300604"


async def test_a_sign_in_code_and_a_survey_carry_no_calendar_entry(
    start_service: StartService, mail_server: MailServer, samples: Samples
) -> None:
    async with start_service(smtp_url=mail_server.url) as svc:
        svc.deliver(samples.sign_in("en"))
        svc.deliver(samples.survey("en"))
        messages = await sent_to(mail_server, 2)

    assert len(messages) == 2
    for msg in messages:
        assert calendar_part(msg) is None
        assert msg.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in parts(msg)] == ["text/plain", "text/html"]
