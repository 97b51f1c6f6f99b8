"""Read-only catalog: departments, the doctors working on a date, and their slots."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from server.deps import DbDep
from server.errors import ApiError
from server.schemas import error_responses

router = APIRouter(prefix="/api/v1", tags=["catalog"])

# Department and doctor codes are short ASCII-ish keys in the seed; the bound keeps junk short.
CodePath = Annotated[str, Path(min_length=1, max_length=64)]


class Department(BaseModel):
    code: str
    name_zh: str
    name_en: str


class Doctor(BaseModel):
    code: str
    name_zh: str
    name_en: str
    title_zh: str
    title_en: str
    fee_cents: int
    slots_left: int


class Slot(BaseModel):
    slot_id: int
    date: str
    start: str
    end: str
    left: int


def _day(value: date | None) -> str:
    return (value or date.today()).isoformat()


@router.get("/departments", response_model=list[Department])
def departments(db: DbDep) -> list[dict[str, Any]]:
    with db.connection() as conn:
        rows = conn.execute("SELECT code, name_zh, name_en FROM departments ORDER BY sort_order, code")
        return [dict(r) for r in rows]


@router.get("/departments/{code}/doctors", response_model=list[Doctor], responses=error_responses(404, 422))
def doctors(code: CodePath, db: DbDep, day: Annotated[date | None, Query(alias="date")] = None) -> list[dict[str, Any]]:
    """Doctors with a schedule on ``date`` (default today); ``slots_left`` 0 means fully booked."""
    with db.connection() as conn:
        if conn.execute("SELECT 1 FROM departments WHERE code = ?", (code,)).fetchone() is None:
            raise ApiError(404, "not_found", f"no department {code!r}")
        rows = conn.execute(
            """
            SELECT d.code, d.name_zh, d.name_en, d.title_zh, d.title_en, d.fee_cents,
                   sum(s.capacity - s.booked) AS slots_left
            FROM doctors d JOIN slots s ON s.doctor_code = d.code AND s.date = ?
            WHERE d.department_code = ?
            GROUP BY d.code
            ORDER BY d.fee_cents DESC, d.code
            """,
            (_day(day), code),
        )
        return [dict(r) for r in rows]


@router.get("/doctors/{code}/slots", response_model=list[Slot], responses=error_responses(404, 422))
def slots(code: CodePath, db: DbDep, day: Annotated[date | None, Query(alias="date")] = None) -> list[dict[str, Any]]:
    with db.connection() as conn:
        if conn.execute("SELECT 1 FROM doctors WHERE code = ?", (code,)).fetchone() is None:
            raise ApiError(404, "not_found", f"no doctor {code!r}")
        rows = conn.execute(
            'SELECT id AS slot_id, date, start, "end", capacity - booked AS "left" FROM slots'
            " WHERE doctor_code = ? AND date = ? ORDER BY start",
            (code, _day(day)),
        )
        return [dict(r) for r in rows]
