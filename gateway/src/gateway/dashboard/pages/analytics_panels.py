"""The analytics page's panels: each API answer made into charts, key figures and tables.

An answer that is an ApiError becomes a panel that says so: 403 "not for your role", anything
else the problem's code and detail. Money comes in minor units (fen) and is charted in yuan.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup

from gateway.dashboard import charts, i18n
from gateway.dashboard.api import ApiError
from gateway.dashboard.charts import Series

ASPECTS = ("room", "cleanliness", "staff", "transfer", "value")


@dataclass
class Panel:
    key: str  # locales "analytics.<key>.title" and the section's id
    charts: list[Markup] = field(default_factory=list)
    tables: list[Markup] = field(default_factory=list)
    kpis: list[tuple[str, str]] = field(default_factory=list)
    note: str | None = None
    refused: bool = False  # 403: not for the caller's role
    error: ApiError | None = None


def adr_revpar(room_revenue: int, rooms_sold: int, rooms_available: int) -> tuple[int, int]:
    """(ADR, RevPAR) in minor units, rounded half up, 0 with nothing to divide by: ADR = room
    revenue / rooms sold, RevPAR = room revenue / rooms available. The occupancy answer gives
    both already; this is for an answer (or a total of nights) that does not."""

    def per(amount: int, count: int) -> int:
        return (2 * amount + count) // (2 * count) if count else 0

    return per(room_revenue, rooms_sold), per(room_revenue, rooms_available)


def short_day(value: str, lang: str) -> str:
    """A chart's x label: 12-02 / 12月2日."""
    when = date.fromisoformat(value[:10])
    return f"{when.month}月{when.day}日" if lang.startswith("zh") else f"{when:%d %b}"


def _yuan(value: float) -> str:
    return i18n.money(round(value * 100)).removesuffix(".00")


def occupancy(body: dict[str, Any], t: Callable[..., str], lang: str) -> list[Panel]:
    nights = body.get("nights", [])
    currency = body.get("currency", "CNY")
    labels = [short_day(n["night"], lang) for n in nights]
    period = body.get("period", {})
    adr, revpar = period.get("adr"), period.get("revpar")
    if adr is None or revpar is None:
        adr, revpar = adr_revpar(
            period.get("room_revenue", 0),
            period.get("rooms_sold", 0),
            period.get("rooms_available", 0),
        )
    kpis = [
        (t("analytics.occupancy.title"), charts.percent(period.get("occupancy", 0.0))),
        (t("analytics.adr"), i18n.money(adr, currency)),
        (t("analytics.revpar"), i18n.money(revpar, currency)),
        (t("analytics.rooms_sold"), str(period.get("rooms_sold", 0))),
        (t("analytics.room_revenue"), i18n.money(period.get("room_revenue", 0), currency)),
    ]
    occ = Panel("occupancy", kpis=kpis)
    occ.charts.append(
        charts.line_chart(
            "chart-occupancy",
            t("analytics.occupancy.title"),
            t("analytics.occupancy.desc"),
            labels,
            [Series(t("analytics.occupancy.title"), [n["occupancy"] for n in nights])],
            y_label=t("analytics.occupancy.axis"),
            x_label=t("analytics.night"),
            fmt=charts.percent,
            empty=t("analytics.empty"),
        )
    )
    rows = [
        [
            i18n.day(n["night"], lang),
            str(n["rooms_sold"]),
            str(n["rooms_available"]),
            charts.percent(n["occupancy"]),
            i18n.money(n["adr"], currency),
            i18n.money(n["revpar"], currency),
            i18n.money(n["room_revenue"], currency),
        ]
        for n in nights
    ]
    columns = [
        t("analytics.night"),
        t("analytics.rooms_sold"),
        t("analytics.rooms_available"),
        t("analytics.occupancy.title"),
        t("analytics.adr"),
        t("analytics.revpar"),
        t("analytics.room_revenue"),
    ]
    table = charts.figures(t("analytics.figures"), t("analytics.per_night"), columns, rows)
    occ.tables.append(table)
    money = Panel("rates")
    money.charts.append(
        charts.line_chart(
            "chart-rates",
            t("analytics.rates.title"),
            t("analytics.rates.desc"),
            labels,
            [
                Series(t("analytics.adr"), [n["adr"] / 100 for n in nights]),
                Series(t("analytics.revpar"), [n["revpar"] / 100 for n in nights]),
            ],
            y_label=t("analytics.rates.axis", currency=currency),
            x_label=t("analytics.night"),
            fmt=_yuan,
            empty=t("analytics.empty"),
        )
    )
    money.tables.append(table)
    return [occ, money]


def channels(body: dict[str, Any], t: Callable[..., str], lang: str) -> Panel:
    rows = body.get("channels", [])
    currency = body.get("currency", "CNY")
    panel = Panel("channels")
    panel.charts.append(
        charts.mix_chart(
            "chart-channels",
            t("analytics.channels.title"),
            t("analytics.channels.desc"),
            [(r["channel"], r["room_nights"]) for r in rows],
            empty=t("analytics.empty"),
        )
    )
    columns = [
        t("analytics.channel"),
        t("analytics.bookings"),
        t("analytics.room_nights"),
        t("analytics.room_revenue"),
        t("analytics.share"),
    ]
    panel.tables.append(
        charts.figures(
            t("analytics.figures"),
            t("analytics.channels.title"),
            columns,
            [
                [
                    r["channel"],
                    str(r["bookings"]),
                    str(r["room_nights"]),
                    i18n.money(r["room_revenue"], currency),
                    charts.percent(r["share"]),
                ]
                for r in rows
            ],
        )
    )
    return panel


def cancellations(body: dict[str, Any], t: Callable[..., str], lang: str) -> Panel:
    confirmed = body.get("confirmed_bookings", 0)
    cancelled, no_show = body.get("cancelled", 0), body.get("no_show", 0)
    kept = max(0, confirmed - cancelled - no_show)
    panel = Panel(
        "cancellations",
        kpis=[
            (t("analytics.cancellation_rate"), charts.percent(body.get("cancellation_rate", 0))),
            (t("analytics.no_show_rate"), charts.percent(body.get("no_show_rate", 0))),
        ],
    )
    parts = [
        (t("analytics.kept"), kept),
        (t("analytics.cancelled"), cancelled),
        (t("analytics.no_show"), no_show),
    ]
    panel.charts.append(
        charts.mix_chart(
            "chart-cancellations",
            t("analytics.cancellations.title"),
            t("analytics.cancellations.desc"),
            parts,
            empty=t("analytics.empty"),
        )
    )
    rows = [
        [t("analytics.confirmed_bookings"), str(confirmed)],
        [t("analytics.cancelled"), str(cancelled)],
        [t("analytics.no_show"), str(no_show)],
        [t("analytics.cancellation_rate"), charts.percent(body.get("cancellation_rate", 0))],
        [t("analytics.no_show_rate"), charts.percent(body.get("no_show_rate", 0))],
        [t("analytics.requests_cancelled"), str(body.get("requests_cancelled", 0))],
        [t("analytics.requests_expired"), str(body.get("requests_expired", 0))],
    ]
    columns = [t("analytics.figure"), t("analytics.value")]
    title = t("analytics.cancellations.title")
    panel.tables.append(charts.figures(t("analytics.figures"), title, columns, rows))
    return panel


def pickup(body: dict[str, Any], t: Callable[..., str], lang: str) -> Panel:
    days = body.get("days", [])
    currency = body.get("currency", "CNY")
    panel = Panel("pickup")
    panel.charts.append(
        charts.line_chart(
            "chart-pickup",
            t("analytics.pickup.title"),
            t("analytics.pickup.desc"),
            [short_day(d["booked_on"], lang) for d in days],
            [
                Series(t("analytics.bookings"), [d["bookings"] for d in days]),
                Series(t("analytics.cancelled"), [d["cancelled"] for d in days]),
            ],
            y_label=t("analytics.bookings"),
            x_label=t("analytics.booked_on"),
            empty=t("analytics.empty"),
        )
    )
    columns = [
        t("analytics.booked_on"),
        t("analytics.bookings"),
        t("analytics.sold"),
        t("analytics.cancelled"),
        t("analytics.room_nights"),
        t("analytics.room_revenue"),
    ]
    rows = [
        [
            i18n.day(d["booked_on"], lang),
            str(d["bookings"]),
            str(d["sold"]),
            str(d["cancelled"]),
            str(d["room_nights"]),
            i18n.money(d["room_revenue"], currency),
        ]
        for d in days
    ]
    title = t("analytics.pickup.title")
    panel.tables.append(charts.figures(t("analytics.figures"), title, columns, rows))
    return panel


def stays(body: dict[str, Any], t: Callable[..., str], lang: str) -> Panel:
    lengths = body.get("length_of_stay", [])
    panel = Panel(
        "stays",
        kpis=[
            (t("analytics.average_stay"), f"{body.get('average_length_of_stay', 0):.1f}"),
            (t("analytics.average_lead"), f"{body.get('average_lead_time_days', 0):.1f}"),
        ],
    )
    labels = [t("analytics.nights_n", n=r["nights"]) for r in lengths]
    panel.charts.append(
        charts.bar_chart(
            "chart-stays",
            t("analytics.stays.title"),
            t("analytics.stays.desc"),
            labels,
            [r["bookings"] for r in lengths],
            y_label=t("analytics.bookings"),
            x_label=t("analytics.length_of_stay"),
            empty=t("analytics.empty"),
        )
    )
    rows = [[label, str(r["bookings"])] for label, r in zip(labels, lengths, strict=True)]
    columns = [t("analytics.length_of_stay"), t("analytics.bookings")]
    title = t("analytics.stays.title")
    panel.tables.append(charts.figures(t("analytics.figures"), title, columns, rows))
    return panel


def transfers(body: dict[str, Any], t: Callable[..., str], lang: str) -> Panel:
    on_time = body.get("on_time", {})
    measured, punctual = on_time.get("measured", 0), on_time.get("on_time", 0)
    rate = on_time.get("rate")
    panel = Panel(
        "transfers",
        kpis=[
            (t("analytics.on_time_rate"), "—" if rate is None else charts.percent(rate)),
            (t("analytics.jobs"), str(body.get("jobs", 0))),
        ],
        note=t("analytics.transfers.from_jobs") if body.get("from_jobs") else None,
    )
    wait = (body.get("guest_wait") or {}).get("average_minutes")
    if wait is not None:
        panel.kpis.append((t("analytics.guest_wait"), t("analytics.minutes", n=f"{wait:.1f}")))
    panel.charts.append(
        charts.mix_chart(
            "chart-on-time",
            t("analytics.transfers.title"),
            t("analytics.transfers.desc"),
            [(t("analytics.on_time"), punctual), (t("analytics.late"), measured - punctual)],
            empty=t("analytics.empty"),
        )
    )
    statuses = sorted((body.get("by_status") or {}).items())
    rows = [
        [t("analytics.jobs"), str(body.get("jobs", 0))],
        [t("analytics.measured"), str(measured)],
        [t("analytics.on_time"), str(punctual)],
        [t("analytics.late"), str(measured - punctual)],
        [t("analytics.on_time_rate"), "—" if rate is None else charts.percent(rate)],
        *[[t("analytics.status_n", status=s), str(n)] for s, n in statuses],
    ]
    columns = [t("analytics.figure"), t("analytics.value")]
    title = t("analytics.transfers.title")
    panel.tables.append(charts.figures(t("analytics.figures"), title, columns, rows))
    return panel


def surveys(body: dict[str, Any], t: Callable[..., str], lang: str) -> Panel:
    periods = body.get("periods", [])
    labels = [str(p["period"]) for p in periods]
    panel = Panel("surveys")
    panel.charts.append(
        charts.line_chart(
            "chart-nps",
            t("analytics.surveys.title"),
            t("analytics.surveys.desc"),
            labels,
            [Series(t("analytics.nps"), [p.get("nps") for p in periods])],
            y_label=t("analytics.nps"),
            x_label=t("analytics.period"),
            empty=t("analytics.empty"),
        )
    )

    def average(p: dict[str, Any], aspect: str) -> float | None:
        found = [a.get("average") for a in p.get("aspects", []) if a.get("aspect") == aspect]
        return found[0] if found else None

    panel.charts.append(
        charts.line_chart(
            "chart-aspects",
            t("analytics.aspects.title"),
            t("analytics.aspects.desc"),
            labels,
            [Series(t(f"analytics.aspect.{a}"), [average(p, a) for p in periods]) for a in ASPECTS],
            y_label=t("analytics.rating"),
            x_label=t("analytics.period"),
            empty=t("analytics.empty"),
        )
    )
    columns = [
        t("analytics.period"),
        t("analytics.responses"),
        t("analytics.nps"),
        *[t(f"analytics.aspect.{a}") for a in ASPECTS],
    ]

    def show(value: float | None) -> str:
        return "—" if value is None else charts.plain(value)

    rows = [
        [str(p["period"]), str(p["responses"]), show(p.get("nps"))]
        + [show(average(p, a)) for a in ASPECTS]
        for p in periods
    ]
    title = t("analytics.surveys.title")
    panel.tables.append(charts.figures(t("analytics.figures"), title, columns, rows))
    return panel


ORDER = ("occupancy", "channels", "cancellations", "pickup", "stays", "transfers", "surveys")
KEYS = {"occupancy": ("occupancy", "rates")}


def build(answers: dict[str, Any], lang: str, start: date, end: date) -> list[Panel]:
    t = i18n.translator(lang)
    makers: dict[str, Callable[..., Any]] = {
        "occupancy": occupancy,
        "channels": channels,
        "cancellations": cancellations,
        "pickup": pickup,
        "stays": stays,
        "transfers": transfers,
        "surveys": surveys,
    }
    built: list[Panel] = []
    for name in ORDER:
        answer = answers.get(name)
        if isinstance(answer, ApiError):
            for key in KEYS.get(name, (name,)):
                built.append(Panel(key, refused=answer.status == 403, error=answer))
            continue
        made = makers[name](answer or {}, t, lang)
        built += made if isinstance(made, list) else [made]
    return built
