"""Places (airports, stations, the properties) and the travel-time table between them.

An event names a place in free text ("Shanghai Pudong International Airport T1", "PVG T2,
arrivals exit 5"); `resolve` finds the place it means by its code, name or one of its aliases,
ignoring case and spacing: the whole text first, else the longest spelling the text starts with
followed by a separator (" ", ",", "-", "(", ...), so a gate or an exit after the place's name
still finds it. Every spelling (code, name, alias) belongs to one place only: resolving is never
ambiguous.

Travel minutes from A to B: the table's A->B row, else its B->A row (roads are mostly
symmetric), else the caller's default (settings.trip_minutes). The same place: 0.

`Atlas` is the same lookup loaded once into memory for a batch (the scheduler plans a day of
jobs without a query per job). Nothing here commits: the route owns the transaction.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from hotel_common.errors import ProblemError
from hotel_common.pagination import Page, Paging, keyset_page
from hotel_common.time import utcnow
from hotel_common.uniques import insert_unique, is_unique_violation
from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from transfer_service.models import (
    Place,
    PlaceCreate,
    PlaceKind,
    PlacePublic,
    PlaceUpdate,
    TravelTime,
    TravelTimePublic,
)


def key(text: str) -> str:
    """A spelling as it is compared: case and every space ignored."""
    return "".join(text.casefold().split())


def _phrase(text: str) -> str:
    """A spelling as prefixes are compared: case ignored, runs of spaces one space."""
    return " ".join(text.casefold().split())


def spellings(place: Place) -> list[str]:
    return [place.code, place.name, *place.aliases]


@dataclass
class Atlas:
    """Every place and travel time, loaded once (`await Atlas.load(session)`): the lookups of
    `resolve` and `travel_minutes` without a query each."""

    places: dict[int, Place] = field(default_factory=dict)
    _by_key: dict[str, Place] = field(default_factory=dict)
    _phrases: list[tuple[str, Place]] = field(default_factory=list)  # longest first
    _minutes: dict[tuple[int, int], int] = field(default_factory=dict)

    @classmethod
    async def load(cls, session: AsyncSession) -> "Atlas":
        places = list((await session.exec(select(Place).order_by(col(Place.id)))).all())
        times = list((await session.exec(select(TravelTime))).all())
        return cls.of(places, times)

    @classmethod
    def of(cls, places: Iterable[Place], times: Iterable[TravelTime]) -> "Atlas":
        atlas = cls()
        for place in places:
            assert place.id is not None
            atlas.places[place.id] = place
            for spelling in spellings(place):
                atlas._by_key.setdefault(key(spelling), place)
                atlas._phrases.append((_phrase(spelling), place))
        atlas._phrases.sort(key=lambda entry: -len(entry[0]))
        for time in times:
            atlas._minutes[(time.from_place_id, time.to_place_id)] = time.minutes
        return atlas

    def resolve(self, text: str | None) -> Place | None:
        """The place `text` names (module doc), or None."""
        if not text or not text.strip():
            return None
        exact = self._by_key.get(key(text))
        if exact is not None:
            return exact
        phrase = _phrase(text)
        for spelling, place in self._phrases:
            if (
                len(phrase) > len(spelling)
                and phrase.startswith(spelling)
                and not phrase[len(spelling)].isalnum()
            ):
                return place
        return None

    def minutes(self, from_id: int | None, to_id: int | None, default: int) -> int:
        """Driving minutes from one place to the other (module doc); `default` when either is
        unknown or the table has neither direction."""
        if from_id is None or to_id is None:
            return default
        if from_id == to_id:
            return 0
        found = self._minutes.get((from_id, to_id))
        if found is None:
            found = self._minutes.get((to_id, from_id))
        return default if found is None else found

    def first_property(self) -> Place | None:
        """The first property place (by id): the base of an ad-hoc ride between two places
        that are not a property."""
        return next((p for p in self.places.values() if p.kind == PlaceKind.PROPERTY), None)


async def resolve(session: AsyncSession, text: str | None) -> Place | None:
    """The place `text` names (module doc), or None. Loads the places (not the times): a
    handful of rows; a batch loads an `Atlas` once instead."""
    if not text or not text.strip():
        return None
    places = (await session.exec(select(Place).order_by(col(Place.id)))).all()
    return Atlas.of(places, ()).resolve(text)


async def travel_minutes(
    session: AsyncSession, from_id: int | None, to_id: int | None, default: int
) -> int:
    """Driving minutes from one place to the other (module doc)."""
    if from_id is None or to_id is None:
        return default
    if from_id == to_id:
        return 0
    pair = or_(
        (col(TravelTime.from_place_id) == from_id) & (col(TravelTime.to_place_id) == to_id),
        (col(TravelTime.from_place_id) == to_id) & (col(TravelTime.to_place_id) == from_id),
    )
    rows = (await session.exec(select(TravelTime).where(pair))).all()
    times = {(row.from_place_id, row.to_place_id): row.minutes for row in rows}
    found = times.get((from_id, to_id), times.get((to_id, from_id)))
    return default if found is None else found


# --- places -----------------------------------------------------------------------------------


async def get(session: AsyncSession, place_id: int) -> Place:
    place = await session.get(Place, place_id)
    if place is None:
        raise ProblemError(404, "place_not_found", f"There is no place {place_id}.")
    return place


async def _check_spellings(session: AsyncSession, place: Place) -> None:
    """409 when a spelling of `place` is another place's (the code alone: place_code_taken)."""
    mine = {key(s): s for s in spellings(place)}
    others = (await session.exec(select(Place).where(col(Place.id) != place.id))).all()
    for other in others:
        if key(other.code) == key(place.code):
            raise ProblemError(
                409, "place_code_taken", f"Place {other.code} exists.", place_id=other.id
            )
        clash = next((mine[key(s)] for s in spellings(other) if key(s) in mine), None)
        if clash is not None:
            raise ProblemError(
                409,
                "place_name_taken",
                f"{clash!r} already names place {other.code}: each spelling names one place.",
                place_id=other.id,
                spelling=clash,
            )


async def list_places(
    session: AsyncSession, paging: Paging, kind: PlaceKind | None
) -> Page[PlacePublic]:
    query = select(Place)
    if kind is not None:
        query = query.where(Place.kind == kind)
    page = await keyset_page(session, query, paging, col(Place.id))
    return page.map(PlacePublic.model_validate)


async def create_place(session: AsyncSession, data: PlaceCreate) -> PlacePublic:
    place = Place.model_validate(data)
    await _check_spellings(session, place)
    place = await insert_unique(session, place, "place_code_taken", f"Place {data.code} exists.")
    return PlacePublic.model_validate(place)


async def update_place(session: AsyncSession, place_id: int, data: PlaceUpdate) -> PlacePublic:
    place = await get(session, place_id)
    changes = data.model_dump(exclude_none=True)
    for name, value in changes.items():
        setattr(place, name, value)
    if changes:
        await _check_spellings(session, place)
        place.updated_at = utcnow()
        try:
            async with session.begin_nested():  # a code taken by a concurrent change
                session.add(place)
        except IntegrityError as exc:
            if not is_unique_violation(exc):
                raise
            raise ProblemError(409, "place_code_taken", f"Place {place.code} exists.") from exc
    return PlacePublic.model_validate(place)


# --- travel times -----------------------------------------------------------------------------


def _time_public(time: TravelTime, codes: dict[int, str]) -> TravelTimePublic:
    return TravelTimePublic(
        from_place_id=time.from_place_id,
        from_code=codes[time.from_place_id],
        to_place_id=time.to_place_id,
        to_code=codes[time.to_place_id],
        minutes=time.minutes,
        updated_at=time.updated_at,
    )


async def _codes(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = (await session.exec(select(Place.id, Place.code).where(col(Place.id).in_(ids)))).all()
    return {place_id: code for place_id, code in rows if place_id is not None}


async def list_times(
    session: AsyncSession, paging: Paging, place_id: int | None
) -> Page[TravelTimePublic]:
    query = select(TravelTime)
    if place_id is not None:
        query = query.where(
            or_(
                col(TravelTime.from_place_id) == place_id,
                col(TravelTime.to_place_id) == place_id,
            )
        )
    page = await keyset_page(session, query, paging, col(TravelTime.id))
    ids = sorted({i for t in page.items for i in (t.from_place_id, t.to_place_id)})
    codes = await _codes(session, ids)
    return page.map(lambda t: _time_public(t, codes))


async def _pair(session: AsyncSession, from_id: int, to_id: int) -> tuple[Place, Place]:
    if from_id == to_id:
        raise ProblemError(
            422, "same_place", "A travel time joins two different places (one place: 0)."
        )
    return await get(session, from_id), await get(session, to_id)


async def set_time(
    session: AsyncSession, from_id: int, to_id: int, minutes: int
) -> tuple[TravelTimePublic, bool]:
    """Set the minutes from one place to the other; answers the row and whether it is new."""
    origin, destination = await _pair(session, from_id, to_id)
    query = select(TravelTime).where(
        TravelTime.from_place_id == from_id, TravelTime.to_place_id == to_id
    )
    row = (await session.exec(query)).first()
    created = row is None
    if row is None:
        row = await insert_unique(
            session,
            TravelTime(from_place_id=from_id, to_place_id=to_id, minutes=minutes),
            "travel_time_conflict",
            "The same pair was set at the same moment: try again.",
        )
    else:
        row.minutes = minutes
        row.updated_at = utcnow()
        session.add(row)
        await session.flush()
    assert origin.id is not None and destination.id is not None
    codes = {origin.id: origin.code, destination.id: destination.code}
    return _time_public(row, codes), created


async def delete_time(session: AsyncSession, from_id: int, to_id: int) -> TravelTimePublic:
    """Remove the pair's row (this direction only): the other direction, or the default, is
    used from now on."""
    origin, destination = await _pair(session, from_id, to_id)
    query = select(TravelTime).where(
        TravelTime.from_place_id == from_id, TravelTime.to_place_id == to_id
    )
    row = (await session.exec(query)).first()
    if row is None:
        raise ProblemError(404, "travel_time_not_found", "No travel time is set in this direction.")
    removed = _time_public(row, {from_id: origin.code, to_id: destination.code})
    await session.delete(row)
    await session.flush()
    return removed
