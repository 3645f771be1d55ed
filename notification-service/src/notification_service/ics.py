"""The booking's calendar entry: an RFC 5545 VCALENDAR with one VEVENT, sent as an iTIP
(RFC 5546) REQUEST or CANCEL.

The entry is the notice's `calendar` dict (notices.calendar_of builds it):

    uid            the booking's reservation id (the UID is `<uid>@<sender's domain>`, the same
                   in every notice of the booking, so a change updates the guest's event)
    sequence       the booking's version: higher in each later notice
    method         "REQUEST" (confirmed, changed) or "CANCEL" (cancelled)
    start, end     the check-in and check-out dates ("YYYY-MM-DD")
    check_in_time, check_out_time
                   the property's local clock times ("HH:MM"); None: unknown
    timezone       the property's IANA zone; None: unknown
    summary, location, description
                   the guest's texts, in their language
    status         optional: "TENTATIVE" while the booking is a request (else CONFIRMED;
                   a CANCEL is CANCELLED)

With both times and a known zone the event runs from check-in to check-out as UTC instants
(no VTIMEZONE to get wrong); otherwise it is all-day (VALUE=DATE, DTEND the check-out day,
exclusive as RFC 5545 has it).
"""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

METHODS = ("REQUEST", "CANCEL")
PRODID = "-//Hotel Platform//notification-service//EN"
LINE_OCTETS = 75  # RFC 5545 3.1: lines SHOULD NOT be longer than 75 octets, CRLF excluded


class BadCalendar(ValueError):
    """The notice's calendar dict cannot make an entry (a bug upstream, not the guest's)."""


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newline escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def param_value(value: str) -> str:
    """A parameter value (CN=...): quoted when it holds ':', ';' or ','; DQUOTE and control
    characters cannot appear in one at all (RFC 5545 3.1), so they are dropped."""
    value = "".join(ch for ch in value if ch != '"' and (ch == "\t" or ord(ch) >= 0x20))
    return f'"{value}"' if any(ch in value for ch in ":;,") else value


def fold(line: str) -> str:
    """One content line folded into lines of at most 75 octets (the continuation's leading
    space counts), never inside a UTF-8 character; CRLF between them."""
    pieces: list[str] = []
    current: list[str] = []
    size, limit = 0, LINE_OCTETS
    for ch in line:
        octets = len(ch.encode("utf-8"))
        if size + octets > limit:
            pieces.append("".join(current))
            current, size, limit = [], 0, LINE_OCTETS - 1  # after the leading space
        current.append(ch)
        size += octets
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def _utc(instant: datetime) -> str:
    return instant.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")


def _day(value: date) -> str:
    return value.strftime("%Y%m%d")


def _clock(value: object) -> time | None:
    if not value:
        return None
    try:
        return time.fromisoformat(str(value))
    except ValueError as exc:
        raise BadCalendar(f"not a clock time: {value!r}") from exc


def _zone(name: object) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return None  # an unknown zone: the all-day entry is still right


def _span(calendar: dict[str, Any]) -> tuple[str, str]:
    """DTSTART and DTEND, property parameters included."""
    try:
        start = date.fromisoformat(str(calendar["start"]))
        end = date.fromisoformat(str(calendar["end"]))
    except (KeyError, ValueError) as exc:
        raise BadCalendar("start and end must be dates") from exc
    if end <= start:
        end = start + timedelta(days=1)
    arrive, leave = _clock(calendar.get("check_in_time")), _clock(calendar.get("check_out_time"))
    tz = _zone(calendar.get("timezone"))
    if arrive is not None and leave is not None and tz is not None:
        begins = datetime.combine(start, arrive, tz)
        ends = datetime.combine(end, leave, tz)
        if ends > begins:
            return f"DTSTART:{_utc(begins)}", f"DTEND:{_utc(ends)}"
    return f"DTSTART;VALUE=DATE:{_day(start)}", f"DTEND;VALUE=DATE:{_day(end)}"


def _status(method: str, asked: object) -> str:
    """CANCELLED for a CANCEL; else CONFIRMED, or TENTATIVE for a booking still a request."""
    if method == "CANCEL":
        return "CANCELLED"
    return "TENTATIVE" if str(asked or "").upper() == "TENTATIVE" else "CONFIRMED"


def build(
    calendar: dict[str, Any],
    *,
    domain: str,
    organizer: str,
    organizer_name: str | None = None,
    attendee: str | None = None,
    attendee_name: str | None = None,
    now: datetime,
) -> str:
    """The entry as text (CRLF line ends, folded); BadCalendar when the dict cannot make one."""
    method = str(calendar.get("method", "")).upper()
    if method not in METHODS:
        raise BadCalendar(f"method must be one of {METHODS}, not {calendar.get('method')!r}")
    uid = str(calendar.get("uid") or "")
    if not uid:
        raise BadCalendar("no uid")
    try:
        sequence = int(calendar.get("sequence") or 0)
    except (TypeError, ValueError) as exc:
        raise BadCalendar("sequence must be a whole number") from exc
    dtstart, dtend = _span(calendar)
    cn = f";CN={param_value(organizer_name)}" if organizer_name else ""
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{uid}@{domain}",
        f"SEQUENCE:{max(0, sequence)}",
        f"DTSTAMP:{_utc(now)}",
        dtstart,
        dtend,
        f"SUMMARY:{escape_text(str(calendar.get('summary') or ''))}",
    ]
    if calendar.get("location"):
        lines.append(f"LOCATION:{escape_text(str(calendar['location']))}")
    if calendar.get("description"):
        lines.append(f"DESCRIPTION:{escape_text(str(calendar['description']))}")
    lines.append(f"ORGANIZER{cn}:mailto:{organizer}")
    if attendee:  # iTIP wants one; the guest need not answer (the booking is not an invitation)
        name = f";CN={param_value(attendee_name)}" if attendee_name else ""
        lines.append(
            f"ATTENDEE{name};ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE:mailto:{attendee}"
        )
    lines += [
        f"STATUS:{_status(method, calendar.get('status'))}",
        "TRANSP:TRANSPARENT",  # a stay does not make the guest busy all those days
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)
