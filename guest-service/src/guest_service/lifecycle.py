"""What each part of the CRM does when a whole guest is exported, erased, merged or unmerged.

Profiles, stays, consents, loyalty, feedback and complaints each keep their own tables; the
guest's rights (rights.py) and merging (merging.py) must reach all of them without knowing
them. Each part registers one `GuestPart` here at import of its module (main.py imports them
all); export, erase and merge walk the parts in `ORDER`, undo in reverse, inside the caller's
transaction, so either every part did it or none did.
"""

from dataclasses import dataclass
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession


class GuestPart(Protocol):
    """One part's share of the guest's lifecycle. `name` keys its export section and its memo
    in a merge record."""

    name: str

    async def export(self, session: AsyncSession, guest_id: str) -> Any:
        """Everything this part holds of the guest, as JSON-ready data."""

    async def erase(self, session: AsyncSession, guest_id: str) -> None:
        """Remove or anonymise what identifies the person; keep amounts and counts."""

    async def merge(self, session: AsyncSession, survivor_id: str, absorbed_id: str) -> Any:
        """Move what the absorbed profile holds to the survivor; return a JSON-ready memo of
        exactly what moved, so `unmerge` can move it back."""

    async def unmerge(
        self, session: AsyncSession, survivor_id: str, absorbed_id: str, memo: Any
    ) -> None:
        """Undo `merge` from its memo (what arrived on the survivor since stays there)."""


@dataclass
class _Registry:
    parts: list[GuestPart]

    def register(self, part: GuestPart) -> GuestPart:
        if any(p.name == part.name for p in self.parts):
            raise ValueError(f"guest part {part.name!r} registered twice")
        self.parts.append(part)
        return part


# Why this order: the privacy snapshot published on a merge lists the contacts the profile part
# moved; the value part recomputes RFM from the stays and the tier the loyalty part moved.
ORDER = ("profile", "stays", "privacy", "loyalty", "feedback", "value")

_registry = _Registry([])
register = _registry.register


def parts() -> list[GuestPart]:
    """Every registered part, in `ORDER` (a part not named there last)."""
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(_registry.parts, key=lambda p: rank.get(p.name, len(ORDER)))


async def contacts_changed(session: AsyncSession, guest_id: str) -> None:
    """The profile's emails or phones changed (staff added, removed or made one primary): each
    part that publishes them (`contacts_changed(session, guest_id)`, optional) publishes them
    again, in this transaction: notification-service's snapshot, reservation-service's member
    rate by address."""
    for part in parts():
        hook = getattr(part, "contacts_changed", None)
        if hook is not None:
            await hook(session, guest_id)
