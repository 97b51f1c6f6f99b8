"""Read-only catalog: departments, the doctors working on a date, and their slots.

``GET /catalog`` is the whole of one day at once, for the kiosk's offline cache, with a content
hash as a strong ETag so a kiosk polling for changes costs a 304 when nothing changed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import BaseModel

from server.dbapi import Conn, read_tx
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


# -- the day's catalog for the kiosk's offline cache ------------------------------------------------


class CatalogDoctor(BaseModel):
    code: str
    department_code: str
    name_zh: str
    name_en: str
    title_zh: str
    title_en: str
    fee_cents: int


class CatalogSlot(BaseModel):
    slot_id: int
    doctor_code: str
    date: str
    start: str
    end: str
    capacity: int
    booked: int


class DayCatalog(BaseModel):
    version: str
    date: str
    departments: list[Department]
    doctors: list[CatalogDoctor]
    slots: list[CatalogSlot]


def _day_content(conn: Conn, day: str) -> dict[str, Any]:
    departments = conn.execute("SELECT code, name_zh, name_en FROM departments ORDER BY sort_order, code")
    doctors = conn.execute(
        "SELECT code, department_code, name_zh, name_en, title_zh, title_en, fee_cents FROM doctors d"
        " WHERE EXISTS (SELECT 1 FROM slots s WHERE s.doctor_code = d.code AND s.date = ?) ORDER BY code",
        (day,),
    )
    slots = conn.execute(
        'SELECT id AS slot_id, doctor_code, date, start, "end", capacity, booked FROM slots'
        " WHERE date = ? ORDER BY doctor_code, start, id",
        (day,),
    )
    return {
        "date": day,
        "departments": [dict(r) for r in departments],
        "doctors": [dict(r) for r in doctors],
        "slots": [dict(r) for r in slots],
    }


def content_version(content: dict[str, Any]) -> str:
    """A hash of the content: any change (a booking moves ``booked``) gives a new version."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: ``*`` or a list of tags, compared weakly (a ``W/`` prefix still matches)."""
    if if_none_match is None:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or etag in (tag.removeprefix("W/") for tag in tags)


@router.get(
    "/catalog",
    response_model=DayCatalog,
    responses={
        304: {"description": "Not modified: the catalog still has the version sent in If-None-Match"},
        **error_responses(422),
    },
)
def day_catalog(
    db: DbDep,
    response: Response,
    day: Annotated[date | None, Query(alias="date")] = None,
    if_none_match: Annotated[str | None, Header(max_length=1024)] = None,
) -> Any:
    """Departments, the doctors working on ``date`` (default today) and all their slots, in one answer.

    ``version`` is also the strong ``ETag``; send it back as ``If-None-Match`` to get a 304 without a
    body while nothing changed.
    """
    with db.connection() as conn, read_tx(conn):  # one snapshot: slots and doctors agree
        content = _day_content(conn, _day(day))
    version = content_version(content)
    headers = {"ETag": f'"{version}"', "Cache-Control": "no-cache"}  # a cache must ask again every time
    if etag_matches(if_none_match, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return {"version": version, **content}
