"""Taking and giving back money: a small provider interface, and the offline provider.

The folio records what a provider answered (its name and reference on the line); a provider
never writes the folio. The offline provider is the desk itself: cash in the drawer or a
payment on the card terminal, attested by the member of staff; it answers at once and never
refuses. An online provider (a PSP) implements the same two calls and is registered in
PROVIDERS under its name.
"""

import uuid
from dataclasses import dataclass
from typing import Protocol

from hotel_common.errors import ProblemError

from reservation_service.problems import invalid_field
from reservation_service.stay_models import PaymentMethod


@dataclass(frozen=True)
class Receipt:
    """A provider's answer to a charge or a refund that went through."""

    provider: str
    reference: str


class PaymentProvider(Protocol):
    name: str
    methods: frozenset[PaymentMethod]

    async def charge(
        self, amount: int, currency: str, method: PaymentMethod, reference: str | None
    ) -> Receipt:
        """Take `amount` (minor units); raise ProblemError(402, "payment_declined") if refused."""
        ...

    async def refund(
        self, amount: int, currency: str, method: PaymentMethod, reference: str | None
    ) -> Receipt:
        """Give `amount` back; raise ProblemError(402, "refund_declined") if refused."""
        ...


class OfflineProvider:
    """Cash and the card terminal at the desk: the staff member attests the money moved."""

    name = "offline"
    methods = frozenset({PaymentMethod.CASH, PaymentMethod.CARD_TERMINAL})

    async def charge(
        self, amount: int, currency: str, method: PaymentMethod, reference: str | None
    ) -> Receipt:
        return Receipt(self.name, reference or f"{method.value}:{uuid.uuid4().hex[:12]}")

    async def refund(
        self, amount: int, currency: str, method: PaymentMethod, reference: str | None
    ) -> Receipt:
        return Receipt(self.name, reference or f"{method.value}-refund:{uuid.uuid4().hex[:12]}")


PROVIDERS: dict[str, PaymentProvider] = {"offline": OfflineProvider()}


def provider(name: str, method: PaymentMethod, field: str = "body.provider") -> PaymentProvider:
    """The registered provider `name` taking `method`; 422 otherwise."""
    found = PROVIDERS.get(name)
    if found is None:
        raise invalid_field(
            "unknown_payment_provider",
            field,
            f"No payment provider {name!r}; known: {', '.join(sorted(PROVIDERS))}.",
        )
    if method not in found.methods:
        raise ProblemError(
            422,
            "payment_method_not_supported",
            f"Provider {name} does not take {method.value}.",
        )
    return found
