"""Bounds for whole numbers a client sends, so a value the database cannot store is a 422
naming its field, never a 500 from the driver (PostgreSQL INTEGER is 32-bit; SQLite overflows
past 64 bits)."""

from typing import Annotated

from pydantic import Field

INT32_MAX = 2**31 - 1

# The integer id of a reference row (property, room type, room, driver, vehicle).
RowId = Annotated[int, Field(ge=1, le=INT32_MAX, description="Row id")]
