"""Amounts as loyalty and segmentation weigh them: yuan (CNY), whatever the folio's currency.

The manuals count in yuan (enrolment at 500, one point per yuan). A folio settled in another
currency is converted at the configured rate (`Settings.fx_to_cny`, units of CNY per unit of
the currency); a currency without a rate counts nothing, and says so in the log, rather than
guessing. Minor units are two decimals for every currency the hotel takes (ISO 4217 exponent 2),
except those listed in ZERO_DECIMAL.
"""

import logging
from decimal import ROUND_FLOOR, Decimal

log = logging.getLogger(__name__)

ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND"})


def to_cny(amount_minor: int, currency: str, rates: dict[str, float]) -> Decimal:
    """`amount_minor` of `currency` in yuan (two decimals), or 0 without a rate."""
    currency = currency.upper()
    rate = Decimal("1") if currency == "CNY" else rates.get(currency)
    if rate is None:
        log.warning("no exchange rate to CNY; amount not counted", extra={"currency": currency})
        return Decimal(0)
    units = Decimal(amount_minor) / (1 if currency in ZERO_DECIMAL else 100)
    return (units * Decimal(str(rate))).quantize(Decimal("0.01"))


def whole_yuan(amount_minor: int, currency: str, rates: dict[str, float]) -> int:
    """Whole yuan, rounded down: what points are earned on."""
    return int(to_cny(amount_minor, currency, rates).to_integral_value(rounding=ROUND_FLOOR))
