"""Scheduling's view of places and travel times: the Place and TravelTime tables read once into
memory, so planning one job and planning a day of five hundred cost the same two queries.

A thin adapter over the tables (the fleet part owns their routes and `places.py`): a place is
found from free text by its code, name or an alias, case and spacing ignored; a travel time is
the table's minutes from one place to the other, the other direction as the fallback, 0 from a
place to itself, and the caller's default when a place or the pair is unknown.
"""

from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service.models import Place, PlaceKind, TravelTime


def normal(text: str) -> str:
    """The spelling places are matched by: case folded, every space left out."""
    return "".join(text.casefold().split())


@dataclass
class Atlas:
    places: dict[int, Place] = field(default_factory=dict)
    by_text: dict[str, Place] = field(default_factory=dict)
    minutes_between: dict[tuple[int, int], int] = field(default_factory=dict)

    @classmethod
    async def load(cls, session: AsyncSession) -> "Atlas":
        atlas = cls()
        for place in (await session.exec(select(Place).order_by(col(Place.id)))).all():
            atlas.add_place(place)
        for row in (await session.exec(select(TravelTime))).all():
            atlas.minutes_between[(row.from_place_id, row.to_place_id)] = row.minutes
        return atlas

    def add_place(self, place: Place) -> None:
        assert place.id is not None
        self.places[place.id] = place
        for text in (*place.aliases, place.name, place.code):  # the code wins a tie
            self.by_text[normal(text)] = place

    def resolve(self, text: str | None) -> Place | None:
        return self.by_text.get(normal(text)) if text else None

    def minutes(self, a: int | None, b: int | None, default: int) -> int:
        """Driving minutes from place `a` to place `b` (either direction of the table)."""
        if a is None or b is None:
            return default
        if a == b:
            return 0
        found = self.minutes_between.get((a, b))
        if found is None:
            found = self.minutes_between.get((b, a))
        return default if found is None else found

    def first_property(self) -> Place | None:
        """The base of an ad-hoc ride between two places that are not a property."""
        return next((p for p in self.places.values() if p.kind == PlaceKind.PROPERTY), None)
