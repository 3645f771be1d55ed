"""Dashboards' figures, computed by the database: every query returns one row per night, day,
channel or length, never a row per booking.

Definitions (docs/domain.md, Reservations > Analytics):
- A room night is sold when its booking is confirmed, checked in or checked out (the statuses
  that hold or held a room); its revenue is the booking's price of that night
  (`nightly_amounts`, else `nightly_amount` for bookings older than per-night prices), taxes
  excluded.
- Rooms available on a night: the property's rooms not in the out_of_order status (as it is
  now: the status has no history) and not in an out-of-order period covering the night.
- Occupancy = sold / available; ADR = revenue / sold; RevPAR = revenue / available (money in
  minor units, rounded half up).
- A booking's day (pickup, lead time) is the date of its creation at the property. PostgreSQL
  converts with the property's time zone; SQLite, which has no time zones, with the zone's UTC
  offset today (the same but across a daylight-saving change).

The nights of a range come in as one bound list (PostgreSQL `unnest` of a date array, SQLite
`json_each` of ISO dates), the same way inventory.hold passes a stay's nights.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service.models import HousekeepingStatus, Property, ReservationStatus
from reservation_service.stays import nights

SOLD = (ReservationStatus.CONFIRMED, ReservationStatus.CHECKED_IN, ReservationStatus.CHECKED_OUT)
_SOLD_SQL = "(" + ", ".join(f"'{s.value}'" for s in SOLD) + ")"


def ratio(part: int, whole: int) -> float:
    """part / whole to 4 decimals; 0 when there is no whole."""
    return round(part / whole, 4) if whole else 0.0


def per(amount: int, count: int) -> int:
    """amount / count in whole minor units, rounded half up; 0 when there is no count."""
    return (2 * amount + count) // (2 * count) if count else 0


@dataclass(frozen=True)
class _Dialect:
    calendar: str  # FROM-item naming one night per row as cal.night
    night_index: str  # nights between r.check_in and cal.night
    amount_at: str  # the booking's price of night number {i}
    local_day: str  # the booking's creation date at the property
    nights_of: str  # r.check_out - r.check_in in days
    lead_days: str  # r.check_in - its creation day in days

    def nights_param(self, days: list[date]) -> Any:
        return days if self is _PG else json.dumps([d.isoformat() for d in days])


_PG = _Dialect(
    calendar="unnest(CAST(:nights AS DATE[])) AS cal(night)",
    night_index="(cal.night - r.check_in)",
    amount_at="CAST(r.nightly_amounts ->> {i} AS INTEGER)",
    local_day="CAST((r.created_at AT TIME ZONE :zone) AS DATE)",
    nights_of="(r.check_out - r.check_in)",
    lead_days="(r.check_in - CAST((r.created_at AT TIME ZONE :zone) AS DATE))",
)
_SQLITE = _Dialect(
    calendar="(SELECT value AS night FROM json_each(:nights)) AS cal",
    night_index="CAST(julianday(cal.night) - julianday(r.check_in) AS INTEGER)",
    amount_at="CAST(json_extract(r.nightly_amounts, '$[' || {i} || ']') AS INTEGER)",
    local_day="date(r.created_at, :zone)",
    nights_of="CAST(julianday(r.check_out) - julianday(r.check_in) AS INTEGER)",
    lead_days="CAST(julianday(r.check_in) - julianday(date(r.created_at, :zone)) AS INTEGER)",
)


async def _run(
    session: AsyncSession, prop: Property, sql: str, days: list[date] | None = None, **params: Any
) -> list[Any]:
    connection = await session.connection()
    dialect = _PG if connection.dialect.name == "postgresql" else _SQLITE
    if dialect is _SQLITE:  # dates as SQLAlchemy stores them there: ISO text
        params = {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()}
    bound: dict[str, Any] = {"property_id": prop.id, **params}
    if days is not None:
        bound["nights"] = dialect.nights_param(days)
    sql = sql.format(d=dialect, sold=_SOLD_SQL, amount=_amount(dialect))
    if ":zone" in sql:
        bound["zone"] = _zone_param(prop.timezone, dialect is _PG)
    statement = text(sql)
    return list((await connection.execute(statement, bound)).all())


def _zone_param(zone: str, postgres: bool) -> str:
    if postgres:
        return zone
    offset = datetime.now(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    return f"{minutes:+d} minutes"


def _amount(dialect: _Dialect) -> str:
    return f"COALESCE({dialect.amount_at.format(i=dialect.night_index)}, r.nightly_amount)"


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


# The sold nights of a range: one row per booking and night, joined to the calendar.
_SOLD_NIGHTS = """
    FROM {d.calendar}
    JOIN reservations AS r ON r.check_in <= cal.night AND r.check_out > cal.night
    JOIN room_types AS rt ON rt.id = r.room_type_id
    WHERE rt.property_id = :property_id AND r.status IN {sold}"""


async def occupancy(
    session: AsyncSession, prop: Property, first: date, end: date
) -> dict[str, Any]:
    days = nights(first, end)
    rows = await _run(
        session,
        prop,
        """
        WITH available AS (
            SELECT cal.night AS night, count(rooms.id) AS rooms
            FROM {d.calendar}
            JOIN rooms ON rooms.property_id = :property_id
                AND rooms.housekeeping_status != :out_of_order
                AND NOT EXISTS (
                    SELECT 1 FROM room_out_of_order AS o WHERE o.room_id = rooms.id
                    AND o.from_date <= cal.night AND o.to_date > cal.night)
            GROUP BY cal.night
        ), sold AS (
            SELECT cal.night AS night, count(*) AS sold, sum({amount}) AS revenue
            """
        + _SOLD_NIGHTS
        + """
            GROUP BY cal.night
        )
        SELECT cal.night, COALESCE(available.rooms, 0), COALESCE(sold.sold, 0),
               COALESCE(sold.revenue, 0)
        FROM {d.calendar}
        LEFT JOIN available ON available.night = cal.night
        LEFT JOIN sold ON sold.night = cal.night
        ORDER BY cal.night""",
        days,
        out_of_order=HousekeepingStatus.OUT_OF_ORDER.value,
    )
    per_night = [
        _figures(rooms, sold, revenue) | {"night": _day(n)} for n, rooms, sold, revenue in rows
    ]
    total = _figures(
        sum(n["rooms_available"] for n in per_night),
        sum(n["rooms_sold"] for n in per_night),
        sum(n["room_revenue"] for n in per_night),
    )
    return {"currency": prop.currency, "nights": per_night, "period": total}


def _figures(rooms: int, sold: int, revenue: int) -> dict[str, Any]:
    rooms, sold, revenue = int(rooms), int(sold), int(revenue)
    return {
        "rooms_available": rooms,
        "rooms_sold": sold,
        "room_revenue": revenue,
        "occupancy": ratio(sold, rooms),
        "adr": per(revenue, sold),
        "revpar": per(revenue, rooms),
    }


async def day(session: AsyncSession, prop: Property, on: date) -> dict[str, Any]:
    """Arrivals, departures and the house on one day (its night)."""
    [row] = await _run(
        session,
        prop,
        """
        SELECT
          sum(CASE WHEN r.check_in = :on AND r.status = 'confirmed' THEN 1 ELSE 0 END),
          sum(CASE WHEN r.check_in = :on AND r.status IN ('checked_in', 'checked_out')
                   THEN 1 ELSE 0 END),
          sum(CASE WHEN r.check_in = :on AND r.status = 'no_show' THEN 1 ELSE 0 END),
          sum(CASE WHEN r.check_out = :on AND r.status IN ('confirmed', 'checked_in')
                   THEN 1 ELSE 0 END),
          sum(CASE WHEN r.check_out = :on AND r.status = 'checked_out' THEN 1 ELSE 0 END),
          sum(CASE WHEN r.check_in <= :on AND r.check_out > :on AND r.status IN {sold}
                   THEN 1 ELSE 0 END),
          sum(CASE WHEN r.check_in <= :on AND r.check_out > :on AND r.status IN {sold}
                   THEN r.guests ELSE 0 END),
          sum(CASE WHEN r.check_in <= :on AND r.check_out > :on AND r.status = 'checked_in'
                   THEN 1 ELSE 0 END)
        FROM reservations AS r JOIN room_types AS rt ON rt.id = r.room_type_id
        WHERE rt.property_id = :property_id AND r.check_in <= :on AND r.check_out >= :on""",
        on=on,
    )
    expected_in, arrived, no_show, expected_out, departed, rooms, guests, checked_in = (
        int(v or 0) for v in row
    )
    return {
        "date": on,
        "arrivals": {"expected": expected_in, "arrived": arrived, "no_show": no_show},
        "departures": {"expected": expected_out, "departed": departed},
        "in_house": {"rooms": rooms, "guests": guests, "checked_in": checked_in},
    }


async def pickup(
    session: AsyncSession, prop: Property, first: date, end: date
) -> list[dict[str, Any]]:
    """Per booking day: what was booked then for the nights of [first, end)."""
    rows = await _run(
        session,
        prop,
        """
        SELECT {d.local_day} AS booked_on,
               count(DISTINCT r.id),
               count(DISTINCT CASE WHEN r.status IN {sold} THEN r.id END),
               count(DISTINCT CASE WHEN r.status = 'cancelled' THEN r.id END),
               sum(CASE WHEN r.status IN {sold} THEN 1 ELSE 0 END),
               sum(CASE WHEN r.status IN {sold} THEN {amount} ELSE 0 END)
        FROM {d.calendar}
        JOIN reservations AS r ON r.check_in <= cal.night AND r.check_out > cal.night
        JOIN room_types AS rt ON rt.id = r.room_type_id
        WHERE rt.property_id = :property_id
        GROUP BY 1
        ORDER BY 1""",
        nights(first, end),
    )
    return [
        {
            "booked_on": _day(booked_on),
            "bookings": int(made),
            "sold": int(sold),
            "cancelled": int(cancelled),
            "room_nights": int(room_nights or 0),
            "room_revenue": int(revenue or 0),
        }
        for booked_on, made, sold, cancelled, room_nights, revenue in rows
    ]


async def channel_mix(
    session: AsyncSession, prop: Property, first: date, end: date
) -> list[dict[str, Any]]:
    """Per channel: the sold bookings, room nights and revenue of the nights of [first, end)."""
    rows = await _run(
        session,
        prop,
        "SELECT r.channel, count(DISTINCT r.id), count(*), sum({amount})"
        + _SOLD_NIGHTS
        + " GROUP BY r.channel ORDER BY count(*) DESC, r.channel",
        nights(first, end),
    )
    total = sum(int(n) for _, _, n, _ in rows)
    return [
        {
            "channel": channel,
            "bookings": int(bookings),
            "room_nights": int(room_nights),
            "room_revenue": int(revenue or 0),
            "share": ratio(int(room_nights), total),
        }
        for channel, bookings, room_nights, revenue in rows
    ]


async def cancellations(
    session: AsyncSession, prop: Property, first: date, end: date
) -> dict[str, Any]:
    """Of the bookings arriving in [first, end) that were ever confirmed: how many were
    cancelled, how many did not show."""
    [row] = await _run(
        session,
        prop,
        """
        SELECT
          sum(CASE WHEN r.confirmed_at IS NOT NULL THEN 1 ELSE 0 END),
          sum(CASE WHEN r.confirmed_at IS NOT NULL AND r.status = 'cancelled' THEN 1 ELSE 0 END),
          sum(CASE WHEN r.status = 'no_show' THEN 1 ELSE 0 END),
          sum(CASE WHEN r.confirmed_at IS NULL AND r.status = 'cancelled' THEN 1 ELSE 0 END),
          sum(CASE WHEN r.status = 'expired' THEN 1 ELSE 0 END)
        FROM reservations AS r JOIN room_types AS rt ON rt.id = r.room_type_id
        WHERE rt.property_id = :property_id AND r.check_in >= :first AND r.check_in < :end""",
        first=first,
        end=end,
    )
    confirmed, cancelled, no_show, withdrawn, expired = (int(v or 0) for v in row)
    return {
        "confirmed_bookings": confirmed,
        "cancelled": cancelled,
        "no_show": no_show,
        "cancellation_rate": ratio(cancelled, confirmed),
        "no_show_rate": ratio(no_show, confirmed),
        "requests_cancelled": withdrawn,
        "requests_expired": expired,
    }


_LEAD_BUCKETS = ((0, 0), (1, 7), (8, 30), (31, 90), (91, None))


async def stay_patterns(
    session: AsyncSession, prop: Property, first: date, end: date
) -> dict[str, Any]:
    """Lead time (booking day to arrival) and length of stay of the sold bookings arriving in
    [first, end): averages and distributions."""
    where = (
        " FROM reservations AS r JOIN room_types AS rt ON rt.id = r.room_type_id"
        " WHERE rt.property_id = :property_id AND r.check_in >= :first AND r.check_in < :end"
        " AND r.status IN {sold}"
    )
    buckets = " ".join(
        f"WHEN {{d.lead_days}} <= {high} THEN {low}"
        for low, high in _LEAD_BUCKETS
        if high is not None
    )
    by_length = await _run(
        session,
        prop,
        "SELECT {d.nights_of}, count(*)" + where + " GROUP BY {d.nights_of} ORDER BY 1",
        first=first,
        end=end,
    )
    by_lead = await _run(
        session,
        prop,
        f"SELECT CASE {buckets} ELSE {_LEAD_BUCKETS[-1][0]} END AS bucket, count(*),"
        " sum({d.lead_days})" + where + " GROUP BY 1 ORDER BY 1",
        first=first,
        end=end,
    )
    count = sum(int(n) for _, n in by_length)
    total_nights = sum(int(length) * int(n) for length, n in by_length)
    total_lead = sum(int(days or 0) for _, _, days in by_lead)
    lead = {int(low): int(n) for low, n, _ in by_lead}
    return {
        "bookings": count,
        "average_length_of_stay": round(total_nights / count, 2) if count else 0.0,
        "average_lead_time_days": round(total_lead / count, 2) if count else 0.0,
        "length_of_stay": [{"nights": int(k), "bookings": int(n)} for k, n in by_length],
        "lead_time": [
            {"from_days": low, "to_days": high, "bookings": lead.get(low, 0)}
            for low, high in _LEAD_BUCKETS
        ],
    }
