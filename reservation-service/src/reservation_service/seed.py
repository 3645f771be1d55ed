"""Demo data: Harbour View Hotel, its five room types and 30 rooms. Safe to run twice."""

from datetime import time

from hotel_common.db import transaction
from hotel_common.service import Runtime
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from reservation_service.models import Property, Room, RoomType

PROPERTY = {
    "name": "Harbour View Hotel",
    "timezone": "Asia/Shanghai",
    "currency": "CNY",
    "check_in_time": time(14, 0),
    "check_out_time": time(12, 0),
}

# code, name, description, capacity, bed type, price per night in fen
ROOM_TYPES = [
    ("STD", "Standard Twin", "Two single beds, work desk, rain shower.", 2, "twin", 48800),
    ("KNG", "King Room", "One king bed, armchair, rain shower.", 2, "king", 52800),
    ("BUS", "Business King", "King bed, large desk and sofa for working trips.", 2, "king", 68800),
    ("DLX", "Deluxe Room", "King bed and sofa bed, bathtub, minibar.", 3, "king", 88800),
    (
        "STE",
        "Harbour Suite",
        "Bedroom, living room and dining room; for families and groups.",
        4,
        "king and twin",
        168800,
    ),
]

# Room types of rooms 01, 02 and 03 on each floor.
FLOORS = {
    3: ("STD", "STD", "KNG"),
    4: ("STD", "STD", "KNG"),
    5: ("STD", "STD", "KNG"),
    6: ("STD", "STD", "KNG"),
    7: ("KNG", "BUS", "BUS"),
    8: ("KNG", "BUS", "BUS"),
    9: ("KNG", "BUS", "BUS"),
    10: ("DLX", "DLX", "DLX"),
    11: ("DLX", "DLX", "DLX"),
    12: ("STE", "STE", "STE"),
}


def _features(floor: int, slot: int) -> list[str]:
    features = [] if floor == 3 else ["non-smoking"]  # the third floor allows smoking
    if slot == 1 and floor in (3, 7):
        features.append("accessible")
    if floor >= 10 or (floor >= 7 and slot == 3):
        features.append("sea-view")
    return features


async def seed_demo(session: AsyncSession) -> None:
    prop = (await session.exec(select(Property).where(Property.name == PROPERTY["name"]))).first()
    if prop is None:
        prop = Property.model_validate(PROPERTY)
        session.add(prop)
        await session.flush()
    assert prop.id is not None  # flushed: autoincrement ids are set
    types = {
        rt.code: rt
        for rt in (await session.exec(select(RoomType).where(RoomType.property_id == prop.id)))
    }
    for code, name, description, capacity, bed_type, price in ROOM_TYPES:
        if code not in types:
            types[code] = RoomType(
                property_id=prop.id,
                code=code,
                name=name,
                description=description,
                capacity=capacity,
                bed_type=bed_type,
                base_amount=price,
            )
            session.add(types[code])
    await session.flush()
    type_ids = {code: rt.id for code, rt in types.items() if rt.id is not None}
    numbers = set(
        (await session.exec(select(col(Room.number)).where(Room.property_id == prop.id))).all()
    )
    for floor, codes in FLOORS.items():
        for slot, code in enumerate(codes, start=1):
            number = f"{floor}{slot:02d}"
            if number not in numbers:
                session.add(
                    Room(
                        number=number,
                        property_id=prop.id,
                        floor=floor,
                        room_type_id=type_ids[code],
                        features=_features(floor, slot),
                    )
                )


async def seed(runtime: Runtime) -> None:
    try:
        async with transaction(runtime.sessions) as session:
            await seed_demo(session)
    except IntegrityError:
        # A replica seeded at the same moment; a second pass finds its rows and adds the rest.
        async with transaction(runtime.sessions) as session:
            await seed_demo(session)
