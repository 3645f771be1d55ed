"""Charts drawn on the server as SVG markup (no chart library, no script).

Every chart is an `<svg role="img">` with a `<title>` and `<desc>` (named by aria-labelledby),
axis labels and a legend in text; series differ by dash pattern and marker shape as well as
colour, mix segments by fill pattern as well as colour (colour is never the only signal). The
SVG scales to its container (viewBox, width 100%) and carries no style attribute (the
dashboard's CSP forbids inline styles): only presentation attributes and the classes styled in
dashboard.css. Every label is escaped. A chart comes with its figures as a table: `figures()`.

    line_chart("occ", "Occupancy", "…", ["1 Dec", "2 Dec"], [Series("Occupancy", [0.5, 0.7])],
               y_label="%", x_label="Night", fmt=percent)
    bar_chart("mix", "Channels", "…", ["Web", "OTA"], [10, 4], y_label="Bookings",
              x_label="Channel")
    mix_chart("cx", "Cancellations", "…", [("Stayed", 40), ("Cancelled", 6)])
"""

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# The drawing's own units (the viewBox): the browser scales them to the container's width.
WIDTH = 640
HEIGHT = 320
LEFT = 72  # room for the y tick labels and the y axis label
RIGHT = 16
TOP = 44  # room for the legend
BOTTOM = 64  # room for the x tick labels and the x axis label
PLOT_LEFT, PLOT_RIGHT = LEFT, WIDTH - RIGHT
PLOT_TOP, PLOT_BOTTOM = TOP, HEIGHT - BOTTOM
LABEL_CHARS = 14  # a longer category label is cut (with …) in the drawing; whole in the table

# Colours at 3:1 or more on white (WCAG non-text contrast), each with its dash and marker.
COLOURS = ("#0b4f8a", "#a4161a", "#146c2e", "#8a4b00", "#5b2a86", "#1b1f24")
DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4", "1 2")
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "circle")
PATTERNS = ("solid", "hatch", "dots", "cross", "back", "grid")

Number = float | int
KEY = re.compile(r"[A-Za-z][A-Za-z0-9-]*")


@dataclass(frozen=True)
class Series:
    """One line: a label and a value per x label (None: no figure, the line breaks there)."""

    label: str
    values: Sequence[Number | None]


def plain(value: float) -> str:
    """A figure as it is, without a needless .0."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def percent(value: float) -> str:
    """A ratio (0.75) as a percentage (75%)."""
    return f"{value * 100:.0f}%" if round(value * 100, 1).is_integer() else f"{value * 100:.1f}%"


def short(label: str, chars: int = LABEL_CHARS) -> str:
    return label if len(label) <= chars else label[: chars - 1] + "…"


def _n(value: float) -> str:
    """A coordinate: two decimals at most."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def nice_scale(
    low: float, high: float, ticks: int = 4, whole: bool = False
) -> tuple[float, float, float]:
    """(bottom, top, step) of an axis holding `low`..`high` and zero, in round steps (whole
    steps for counts: no 0.25 of a booking)."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1
    rough = (high - low) / ticks
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= rough)
    if whole and not float(step).is_integer():
        step = float(math.ceil(step))
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def y_of(value: float, bottom: float, top: float) -> float:
    """Where `value` sits on the y axis of a plot scaled from `bottom` to `top`."""
    return PLOT_BOTTOM - (value - bottom) / (top - bottom) * (PLOT_BOTTOM - PLOT_TOP)


def _open(key: str, title: str, desc: str, kind: str, height: int = HEIGHT) -> list[str]:
    if not KEY.fullmatch(key):
        raise ValueError(f"a chart key is an id: letters, digits, '-' ({key!r})")
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{key}-title {key}-desc" id="{key}">',
        f'<title id="{key}-title">{escape(title)}</title>',
        f'<desc id="{key}-desc">{escape(desc)}</desc>',
    ]


def _marker(shape: str, x: float, y: float, colour: str, value: str = "") -> str:
    data = f' data-value="{escape(value)}"' if value else ""
    common = f'fill="{colour}" stroke="{colour}" class="marker marker-{shape}"{data}'
    if shape == "square":
        return f'<rect x="{_n(x - 4)}" y="{_n(y - 4)}" width="8" height="8" {common}/>'
    if shape == "triangle":
        points = f"{_n(x)},{_n(y - 5)} {_n(x + 5)},{_n(y + 4)} {_n(x - 5)},{_n(y + 4)}"
        return f'<polygon points="{points}" {common}/>'
    if shape == "diamond":
        points = f"{_n(x)},{_n(y - 5)} {_n(x + 5)},{_n(y)} {_n(x)},{_n(y + 5)} {_n(x - 5)},{_n(y)}"
        return f'<polygon points="{points}" {common}/>'
    if shape == "cross":
        return (
            f'<path d="M{_n(x - 4)} {_n(y - 4)}L{_n(x + 4)} {_n(y + 4)}'
            f'M{_n(x - 4)} {_n(y + 4)}L{_n(x + 4)} {_n(y - 4)}" stroke-width="2" {common}/>'
        )
    return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="4" {common}/>'


def _y_axis(
    bottom: float, top: float, step: float, label: str, fmt: Callable[[float], str]
) -> list[str]:
    parts = ['<g class="axis axis-y">']
    count = round((top - bottom) / step)
    for i in range(count + 1):
        value = bottom + i * step
        y = y_of(value, bottom, top)
        grid = "grid zero" if value == 0 else "grid"
        parts.append(
            f'<line class="{grid}" x1="{PLOT_LEFT}" x2="{PLOT_RIGHT}" y1="{_n(y)}" y2="{_n(y)}" '
            f'stroke="{"#4a5360" if value == 0 else "#c9d0da"}" stroke-width="1" '
            f'data-value="{_n(value)}"/>'
        )
        parts.append(
            f'<text x="{PLOT_LEFT - 6}" y="{_n(y + 4)}" text-anchor="end">'
            f"{escape(fmt(value))}</text>"
        )
    middle = (PLOT_TOP + PLOT_BOTTOM) / 2
    parts.append(
        f'<text class="axis-label" x="14" y="{_n(middle)}" text-anchor="middle" '
        f'transform="rotate(-90 14 {_n(middle)})">{escape(label)}</text>'
    )
    parts.append("</g>")
    return parts


def _x_label(label: str) -> str:
    return (
        f'<text class="axis-label" x="{_n((PLOT_LEFT + PLOT_RIGHT) / 2)}" y="{HEIGHT - 8}" '
        f'text-anchor="middle">{escape(label)}</text>'
    )


def _empty(parts: list[str], message: str) -> Markup:
    """The chart's frame with its message, and only the height the message needs."""
    parts[0] = re.sub(r'viewBox="0 0 (\d+) \d+"', r'viewBox="0 0 \1 120"', parts[0])
    parts.append(
        f'<text class="empty" x="{WIDTH // 2}" y="60" text-anchor="middle">'
        f"{escape(message)}</text></svg>"
    )
    return Markup("".join(parts))


def line_chart(
    key: str,
    title: str,
    desc: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    y_label: str,
    x_label: str,
    fmt: Callable[[float], str] = plain,
    empty: str = "No figures for this range",
) -> Markup:
    """One or more series over the same x labels (dates, usually), a legend above."""
    parts = _open(key, title, desc, "line")
    values = [v for s in series for v in s.values if v is not None]
    if not x_labels or not values:
        return _empty(parts, empty)
    whole = all(float(v).is_integer() for v in values) and max(values) - min(values) >= 1
    bottom, top, step = nice_scale(min(values), max(values), whole=whole)
    parts += _y_axis(bottom, top, step, y_label, fmt)
    slots = len(x_labels)
    width = PLOT_RIGHT - PLOT_LEFT

    def x_of(i: int) -> float:
        return PLOT_LEFT + width / 2 if slots == 1 else PLOT_LEFT + i * width / (slots - 1)

    every = max(1, math.ceil(slots / 8))  # at most 8 tick labels under the axis
    parts.append('<g class="axis axis-x">')
    for i, label in enumerate(x_labels):
        if i % every == 0 or (i == slots - 1 and slots <= 8):
            parts.append(
                f'<text x="{_n(x_of(i))}" y="{PLOT_BOTTOM + 18}" text-anchor="middle">'
                f"{escape(short(label))}</text>"
            )
    parts.append(_x_label(x_label))
    parts.append("</g>")
    legend_x = float(PLOT_LEFT)
    for n, line in enumerate(series):
        colour, dash, shape = COLOURS[n % 6], DASHES[n % 6], MARKERS[n % 6]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        path, pen_down = [], False
        for i, value in enumerate(line.values[:slots]):
            if value is None:
                pen_down = False
                continue
            y = y_of(value, bottom, top)
            path.append(f"{'L' if pen_down else 'M'}{_n(x_of(i))} {_n(y)}")
            pen_down = True
        parts.append(f'<g class="series series-{n}" data-label="{escape(line.label)}">')
        if path:
            parts.append(
                f'<path d="{"".join(path)}" fill="none" stroke="{colour}" stroke-width="2"'
                f"{dash_attr}/>"
            )
        for i, value in enumerate(line.values[:slots]):
            if value is not None:
                y = y_of(value, bottom, top)
                parts.append(_marker(shape, x_of(i), y, colour, _n(value)))
        parts.append("</g>")
        parts.append(
            f'<g class="legend-item"><line x1="{_n(legend_x)}" x2="{_n(legend_x + 28)}" y1="16" '
            f'y2="16" stroke="{colour}" stroke-width="2"{dash_attr}/>'
            + _marker(shape, legend_x + 14, 16, colour)
            + f'<text x="{_n(legend_x + 34)}" y="20">{escape(short(line.label, 24))}</text></g>'
        )
        legend_x += 52 + 9 * min(len(line.label), 24)
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    key: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    values: Sequence[Number],
    *,
    y_label: str,
    x_label: str,
    fmt: Callable[[float], str] = plain,
    empty: str = "No figures for this range",
) -> Markup:
    """One bar per category, its figure written on it (up from zero, or down when negative)."""
    parts = _open(key, title, desc, "bar")
    if not categories or not values:
        return _empty(parts, empty)
    whole = all(float(v).is_integer() for v in values)
    bottom, top, step = nice_scale(min(values), max(values), whole=whole)
    parts += _y_axis(bottom, top, step, y_label, fmt)
    slot = (PLOT_RIGHT - PLOT_LEFT) / len(categories)
    bar = min(slot * 0.7, 64)
    zero = y_of(0, bottom, top)
    tilt = len(categories) > 6 or any(len(c) > 10 for c in categories)
    parts.append(
        f'<g class="legend-item"><rect x="{PLOT_LEFT}" y="8" width="14" height="14" '
        f'fill="{COLOURS[0]}"/><text x="{PLOT_LEFT + 20}" y="20">{escape(short(y_label, 40))}'
        "</text></g>"
    )
    for i, (category, value) in enumerate(zip(categories, values, strict=False)):
        centre = PLOT_LEFT + slot * (i + 0.5)
        y = y_of(value, bottom, top)
        height = abs(zero - y)
        parts.append(
            f'<rect class="bar" x="{_n(centre - bar / 2)}" y="{_n(min(y, zero))}" '
            f'width="{_n(bar)}" height="{_n(height)}" fill="{COLOURS[0]}" '
            f'data-value="{_n(value)}"><title>{escape(category)}: {escape(fmt(value))}</title>'
            "</rect>"
        )
        text_y = y - 6 if value >= 0 else y + 14
        parts.append(
            f'<text class="value" x="{_n(centre)}" y="{_n(text_y)}" text-anchor="middle">'
            f"{escape(fmt(value))}</text>"
        )
        label_y = PLOT_BOTTOM + 18
        rotate = f' transform="rotate(-25 {_n(centre)} {label_y})"' if tilt else ""
        anchor = "end" if tilt else "middle"
        parts.append(
            f'<text class="category" x="{_n(centre)}" y="{label_y}" text-anchor="{anchor}"'
            f"{rotate}>{escape(short(category))}</text>"
        )
    if not tilt:
        parts.append(_x_label(x_label))
    parts.append("</svg>")
    return Markup("".join(parts))


def _pattern_defs(key: str, count: int) -> str:
    """One fill pattern per segment: the colour and a texture (solid, hatch, dots, …)."""
    defs = ["<defs>"]
    for n in range(count):
        colour, kind = COLOURS[n % 6], PATTERNS[n % 6]
        defs.append(
            f'<pattern id="{key}-p{n}" patternUnits="userSpaceOnUse" width="8" height="8">'
            f'<rect width="8" height="8" fill="{"#ffffff" if kind != "solid" else colour}"/>'
        )
        if kind == "hatch":
            defs.append(f'<path d="M0 8L8 0" stroke="{colour}" stroke-width="3"/>')
        elif kind == "back":
            defs.append(f'<path d="M0 0L8 8" stroke="{colour}" stroke-width="3"/>')
        elif kind == "dots":
            defs.append(f'<circle cx="4" cy="4" r="2.5" fill="{colour}"/>')
        elif kind == "cross":
            defs.append(f'<path d="M0 8L8 0M0 0L8 8" stroke="{colour}" stroke-width="2"/>')
        elif kind == "grid":
            defs.append(f'<path d="M4 0V8M0 4H8" stroke="{colour}" stroke-width="2"/>')
        defs.append("</pattern>")
    defs.append("</defs>")
    return "".join(defs)


def mix_chart(
    key: str,
    title: str,
    desc: str,
    shares: Sequence[tuple[str, Number]],
    *,
    fmt: Callable[[float], str] = plain,
    empty: str = "No figures for this range",
) -> Markup:
    """A 100% bar: each part's share of the whole, each segment its colour and texture, with a
    legend of label, figure and share. Zero and negative parts take no room (a share of a
    whole is never negative) but stay in the legend."""
    rows = (len(shares) + 1) // 2
    parts = _open(key, title, desc, "mix", max(120, 24 + 56 + 24 + rows * 26 + 8))
    total = sum(max(0, v) for _, v in shares)
    if not shares or total <= 0:
        return _empty(parts, empty)
    parts.append(_pattern_defs(key, len(shares)))
    bar_top, bar_height = 24, 56
    width = PLOT_RIGHT - PLOT_LEFT
    x = float(PLOT_LEFT)
    for n, (label, value) in enumerate(shares):
        share = max(0, value) / total
        if share > 0:
            w = share * width
            parts.append(
                f'<rect class="segment" x="{_n(x)}" y="{bar_top}" width="{_n(w)}" '
                f'height="{bar_height}" fill="url(#{key}-p{n})" stroke="#1b1f24" '
                f'stroke-width="1" data-value="{_n(value)}" data-share="{share:.4f}">'
                f"<title>{escape(label)}: {escape(fmt(value))} ({percent(share)})</title></rect>"
            )
            x += w
    row_height = 26
    for n, (label, value) in enumerate(shares):
        share = max(0, value) / total
        column, row = n % 2, n // 2
        lx = PLOT_LEFT + column * (width / 2)
        ly = bar_top + bar_height + 24 + row * row_height
        parts.append(
            f'<g class="legend-item"><rect x="{_n(lx)}" y="{ly}" width="18" height="18" '
            f'fill="url(#{key}-p{n})" stroke="#1b1f24" stroke-width="1"/>'
            f'<text x="{_n(lx + 26)}" y="{ly + 14}">{escape(short(label, 22))}: '
            f"{escape(fmt(value))} ({percent(share)})</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def figures(
    summary: str, caption: str, columns: Sequence[str], rows: Sequence[Sequence[str]]
) -> Markup:
    """A chart's figures as a table in a <details>: the first column heads each row."""
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in columns)
    body = []
    for row in rows:
        cells = [f'<th scope="row">{escape(row[0])}</th>'] if row else []
        cells += [f"<td>{escape(cell)}</td>" for cell in row[1:]]
        body.append(f"<tr>{''.join(cells)}</tr>")
    return Markup(
        f'<details class="figures"><summary>{escape(summary)}</summary>'
        f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></details>"
    )
