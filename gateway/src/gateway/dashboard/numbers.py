"""Numbers typed into the dashboard's forms, read without surprises.

`str.isdigit()` is true for "²" and "١٢" and `float()` reads "nan", "inf" and "1e400": taken as
they come, they raise in `int()`/`round()` (a 500) or reach the API as absurd amounts. These
readers take ASCII digits of a sensible length and finite yuan only; anything else is None, and
the caller passes the text on for the API to refuse with its own problem.
"""

import math

MAX_DIGITS = 15  # beyond any id, count or amount in fen the platform stores
MAX_YUAN = 10**12


def whole(text: str) -> int | None:
    """A non-negative whole number typed as ASCII digits, or None."""
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS:
        return int(text)
    return None


def fen(text: str) -> int | None:
    """Yuan typed by staff (500, 500.50, 1,288) in fen, or None if it is not a finite amount."""
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError:
        return None
    if not math.isfinite(value) or abs(value) > MAX_YUAN:
        return None
    return round(value * 100)
