"""Demo fleet: five vehicles with Shanghai plates and four drivers. Safe to run twice: rows are
matched by plate and licence number, and only the missing ones are added."""

import logging
from typing import Any

from hotel_common.service import Runtime
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from transfer_service.models import Driver, Vehicle

log = logging.getLogger(__name__)


def _vehicle(
    plate: str, description: str, vehicle_class: str, seats: int, bags: int
) -> dict[str, Any]:
    return {
        "plate": plate,
        "description": description,
        "vehicle_class": vehicle_class,
        "seats": seats,
        "luggage_capacity": bags,
    }


def _driver(name: str, phone: str, licence: str, languages: list[str]) -> dict[str, Any]:
    return {"name": name, "phone": phone, "licence_number": licence, "languages": languages}


VEHICLES = [
    _vehicle("沪A·D1234", "Volkswagen Passat (black)", "sedan", 3, 2),
    _vehicle("沪A·D5678", "Toyota Camry (white)", "sedan", 3, 2),
    _vehicle("沪A·F2468", "Toyota Alphard (black)", "business", 6, 5),
    _vehicle("沪A·K1357", "Toyota HiAce (silver)", "van", 9, 10),
    _vehicle("沪B·M8899", "Toyota Coaster (white)", "minibus", 18, 20),
]

DRIVERS = [
    _driver("王伟 Wang Wei", "+8613800138001", "SH-DL-2015-0001", ["zh-Hans", "en"]),
    _driver("李娜 Li Na", "+8613800138002", "SH-DL-2016-0002", ["zh-Hans", "zh-Hant"]),
    _driver("张强 Zhang Qiang", "+8613800138003", "SH-DL-2018-0003", ["zh-Hans"]),
    _driver("陈静 Chen Jing", "+8613800138004", "SH-DL-2020-0004", ["zh-Hans", "en"]),
]


async def seed(runtime: Runtime) -> None:
    try:
        async with runtime.sessions() as session:
            plates = set(
                (
                    await session.exec(
                        select(Vehicle.plate).where(
                            col(Vehicle.plate).in_([v["plate"] for v in VEHICLES])
                        )
                    )
                ).all()
            )
            licences = set(
                (
                    await session.exec(
                        select(Driver.licence_number).where(
                            col(Driver.licence_number).in_([d["licence_number"] for d in DRIVERS])
                        )
                    )
                ).all()
            )
            session.add_all(Vehicle(**v) for v in VEHICLES if v["plate"] not in plates)
            session.add_all(Driver(**d) for d in DRIVERS if d["licence_number"] not in licences)
            await session.commit()
    except IntegrityError:
        log.info("demo fleet seeded concurrently by another replica")
