"""Demo data: the places of the demo (the Shanghai airports, Hongqiao railway station, the demo
property) with the travel times between them, five vehicles with Shanghai plates and their
equipment, and six drivers whose standing shifts overlap round the clock, so a demo booking
landing at any hour gets a driver.

Safe to run twice: rows are matched by code, place pair, plate and licence number, and only the
missing ones are added. A demo row seeded before issue 18 gets the fields it lacks (licence
expiry, standing shift, next service date); a value someone has set is never overwritten."""

import logging
from datetime import date, time, timedelta
from typing import Any

from hotel_common.service import Runtime
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from transfer_service.models import Driver, Place, TravelTime, Vehicle

log = logging.getLogger(__name__)

# The property of reservation-service's demo seed (its name is what booking events carry).
PROPERTY_CODE = "HARBOUR"

PLACES: list[dict[str, Any]] = [
    {
        "code": "PVG",
        "name": "Shanghai Pudong International Airport",
        "kind": "airport",
        "aliases": ["Pudong Airport", "Pudong International Airport", "浦东机场", "浦东国际机场"],
    },
    {
        "code": "SHA",
        "name": "Shanghai Hongqiao International Airport",
        "kind": "airport",
        "aliases": ["Shanghai Hongqiao", "Hongqiao Airport", "虹桥机场", "虹桥国际机场"],
    },
    {
        "code": "SHHQ",
        "name": "Shanghai Hongqiao Railway Station",
        "kind": "station",
        "aliases": ["Hongqiao Railway Station", "Shanghai Hongqiao Station", "虹桥火车站"],
    },
    {
        "code": PROPERTY_CODE,
        "name": "Harbour View Hotel",
        "kind": "property",
        "aliases": ["Harbour View"],
    },
]

# Driving minutes, one row per pair (the other direction falls back to it).
TRAVEL_TIMES = [
    ("PVG", PROPERTY_CODE, 55),
    ("SHA", PROPERTY_CODE, 35),
    ("SHHQ", PROPERTY_CODE, 40),
    ("PVG", "SHA", 60),
    ("PVG", "SHHQ", 60),
    ("SHA", "SHHQ", 10),
]


def _vehicle(
    plate: str,
    description: str,
    vehicle_class: str,
    seats: int,
    bags: int,
    *,
    child_seats: int = 0,
    wheelchair: bool = False,
    odometer_km: int = 0,
    service_in_days: int = 90,
) -> dict[str, Any]:
    return {
        "plate": plate,
        "description": description,
        "vehicle_class": vehicle_class,
        "seats": seats,
        "luggage_capacity": bags,
        "child_seats": child_seats,
        "wheelchair_accessible": wheelchair,
        "odometer_km": odometer_km,
        "service_in_days": service_in_days,
    }


def _driver(
    name: str, phone: str, licence: str, languages: list[str], shift: tuple[int, int]
) -> dict[str, Any]:
    return {
        "name": name,
        "phone": phone,
        "licence_number": licence,
        "languages": languages,
        "shift_start": time(shift[0]),
        "shift_end": time(shift[1] % 24),
    }


VEHICLES = [
    _vehicle("沪A·D1234", "Volkswagen Passat (black)", "sedan", 3, 2, odometer_km=84_200),
    _vehicle("沪A·D5678", "Toyota Camry (white)", "sedan", 3, 2, child_seats=1, odometer_km=51_900),
    _vehicle(
        "沪A·F2468",
        "Toyota Alphard (black)",
        "business",
        6,
        5,
        child_seats=2,
        odometer_km=33_400,
        service_in_days=45,
    ),
    _vehicle(
        "沪A·K1357",
        "Toyota HiAce (silver)",
        "van",
        9,
        10,
        child_seats=2,
        wheelchair=True,
        odometer_km=120_750,
        service_in_days=30,
    ),
    _vehicle(
        "沪B·M8899",
        "Toyota Coaster (white)",
        "minibus",
        18,
        20,
        child_seats=1,
        odometer_km=205_300,
        service_in_days=120,
    ),
]

# Standing shifts (property time), twelve hours each, starting at most five hours apart: every
# hour of the day has at least two drivers on, every window of up to seven hours lies wholly
# inside somebody's shift, and 12:00-17:00 has three (the access matrix books three pickups
# landing at the same moment, each with its own driver).
DRIVERS = [
    _driver("王伟 Wang Wei", "+8613800138001", "SH-DL-2015-0001", ["zh-Hans", "en"], (5, 17)),
    _driver("李娜 Li Na", "+8613800138002", "SH-DL-2016-0002", ["zh-Hans", "zh-Hant"], (7, 19)),
    _driver("张强 Zhang Qiang", "+8613800138003", "SH-DL-2018-0003", ["zh-Hans"], (12, 24)),
    _driver("陈静 Chen Jing", "+8613800138004", "SH-DL-2020-0004", ["zh-Hans", "en"], (17, 5)),
    _driver("赵敏 Zhao Min", "+8613800138005", "SH-DL-2021-0005", ["zh-Hans", "ja"], (21, 9)),
    _driver("刘洋 Liu Yang", "+8613800138006", "SH-DL-2019-0006", ["zh-Hans", "en"], (0, 12)),
]
LICENCE_YEARS = 5  # demo licences expire this long after the seed runs


async def seed(runtime: Runtime) -> None:
    try:
        async with runtime.sessions() as session:
            today = date.today()
            places = {
                p.code: p
                for p in (
                    await session.exec(
                        select(Place).where(col(Place.code).in_([p["code"] for p in PLACES]))
                    )
                ).all()
            }
            for data in PLACES:
                if data["code"] not in places:
                    places[data["code"]] = Place(**data)
                    session.add(places[data["code"]])
            await session.flush()
            ids = {code: place.id or 0 for code, place in places.items()}
            pairs = set(
                (await session.exec(select(TravelTime.from_place_id, TravelTime.to_place_id))).all()
            )
            for origin, destination, minutes in TRAVEL_TIMES:
                pair = (ids[origin], ids[destination])
                if pair not in pairs and pair[::-1] not in pairs:
                    session.add(
                        TravelTime(from_place_id=pair[0], to_place_id=pair[1], minutes=minutes)
                    )

            vehicles = {
                v.plate: v
                for v in (
                    await session.exec(
                        select(Vehicle).where(
                            col(Vehicle.plate).in_([v["plate"] for v in VEHICLES])
                        )
                    )
                ).all()
            }
            for data in VEHICLES:
                fields = {k: v for k, v in data.items() if k != "service_in_days"}
                service = today + timedelta(days=data["service_in_days"])
                found = vehicles.get(data["plate"])
                if found is None:
                    session.add(Vehicle(**fields, next_service_date=service))
                elif found.next_service_date is None:  # seeded before issue 18
                    found.next_service_date = service
                    session.add(found)

            drivers = {
                d.licence_number: d
                for d in (
                    await session.exec(
                        select(Driver).where(
                            col(Driver.licence_number).in_([d["licence_number"] for d in DRIVERS])
                        )
                    )
                ).all()
            }
            licence = today.replace(year=today.year + LICENCE_YEARS, day=min(today.day, 28))
            for data in DRIVERS:
                known = drivers.get(data["licence_number"])
                if known is None:
                    session.add(Driver(**data, licence_expires_on=licence))
                    continue
                if known.licence_expires_on is None:  # seeded before issue 18
                    known.licence_expires_on = licence
                    if known.shift_start is None and known.shift_end is None:
                        known.shift_start, known.shift_end = data["shift_start"], data["shift_end"]
                    session.add(known)
            await session.commit()
    except IntegrityError:
        log.info("demo fleet seeded concurrently by another replica")
