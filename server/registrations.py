"""Registrations: hold a slot for a patient (idempotent by a client key), cancel an unpaid one.

Idempotency follows sync.md §1.2: the key is claimed in the same transaction as the effect, the
first answer is stored and replayed verbatim (200) on a retry, and the same key with a different
body is a client bug (422 ``idempotency_key_reused``). Rejections such as ``slot_full`` store
nothing, so a retry is evaluated again (at worst it now succeeds, which is what the patient wanted).
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from server import audit
from server.dbapi import Conn, utc_now, write_tx
from server.deps import DbDep
from server.errors import ApiError
from server.schemas import RowId, RowIdPath, error_responses

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["registrations"])

# UUIDs and similar; bounded so a key can't be used to stuff the database.
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$"


class RegistrationRequest(BaseModel):
    idempotency_key: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN)
    patient_id: RowId
    slot_id: RowId


class RegistrationView(BaseModel):
    registration_id: int
    reg_no: str
    status: Literal["unpaid", "paid", "cancelled"]
    amount_cents: int
    department_code: str
    department_name_zh: str
    department_name_en: str
    doctor_name_zh: str
    doctor_name_en: str
    doctor_title_zh: str
    doctor_title_en: str
    date: str
    start: str
    end: str


def registration_view(conn: Conn, registration_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        """
        SELECT r.id AS registration_id, r.reg_no, r.status, r.amount_cents,
               dep.code AS department_code, dep.name_zh AS department_name_zh,
               dep.name_en AS department_name_en,
               d.name_zh AS doctor_name_zh, d.name_en AS doctor_name_en,
               d.title_zh AS doctor_title_zh, d.title_en AS doctor_title_en,
               s.date, s.start, s."end"
        FROM registrations r
        JOIN slots s ON s.id = r.slot_id
        JOIN doctors d ON d.code = s.doctor_code
        JOIN departments dep ON dep.code = d.department_code
        WHERE r.id = ?
        """,
        (registration_id,),
    ).fetchone()
    return dict(row) if row is not None else None


def create_in_tx(conn: Conn, req: RegistrationRequest) -> tuple[int, dict[str, Any]]:
    """Book (201) or replay (200) in the caller's write transaction; a rejection raises ApiError.

    Shared by ``POST /registrations`` and the offline sync (server/sync_ops.py), which passes the
    op's key as ``idempotency_key`` so an online attempt and its offline retry book once.
    """
    existing = conn.execute(
        "SELECT patient_id, slot_id, response_json FROM registrations WHERE idempotency_key = ?",
        (req.idempotency_key,),
    ).fetchone()
    if existing is not None:
        if (existing["patient_id"], existing["slot_id"]) != (req.patient_id, req.slot_id):
            raise ApiError(422, "idempotency_key_reused", "this idempotency_key was used for another request")
        return 200, json.loads(existing["response_json"])

    if conn.execute("SELECT 1 FROM patients WHERE id = ?", (req.patient_id,)).fetchone() is None:
        raise ApiError(404, "patient_not_found", f"no patient {req.patient_id}")
    slot = conn.execute(
        "SELECT s.id, s.date, s.capacity, s.booked, d.fee_cents FROM slots s"
        " JOIN doctors d ON d.code = s.doctor_code WHERE s.id = ?",
        (req.slot_id,),
    ).fetchone()
    if slot is None:
        raise ApiError(404, "slot_not_found", f"no slot {req.slot_id}")
    if slot["date"] < date.today().isoformat():
        raise ApiError(409, "slot_expired", "this slot is in the past")
    if slot["booked"] >= slot["capacity"]:
        raise ApiError(409, "slot_full", "no places left in this slot")

    now = utc_now()
    conn.execute("UPDATE slots SET booked = booked + 1 WHERE id = ?", (slot["id"],))
    # reg_no is filled from the row id right after, so it is unique without a separate counter.
    cur = conn.execute(
        "INSERT INTO registrations(reg_no, patient_id, slot_id, status, amount_cents, idempotency_key,"
        " response_json, created_at, updated_at) VALUES (?, ?, ?, 'unpaid', ?, ?, '{}', ?, ?) RETURNING id",
        (f"tmp-{req.idempotency_key}", req.patient_id, slot["id"], slot["fee_cents"], req.idempotency_key, now, now),
    )
    reg_id = int(cur.fetchone()[0])
    reg_no = f"R{slot['date'].replace('-', '')}{reg_id:06d}"
    conn.execute("UPDATE registrations SET reg_no = ? WHERE id = ?", (reg_no, reg_id))
    view = registration_view(conn, reg_id)
    assert view is not None
    conn.execute("UPDATE registrations SET response_json = ? WHERE id = ?", (json.dumps(view), reg_id))
    audit.append(conn, "api", "registration.created", {"registration_id": reg_id, "slot_id": slot["id"]})
    logger.info("registration %d (%s) for patient_id=%d slot %d", reg_id, reg_no, req.patient_id, slot["id"])
    return 201, view


@router.post(
    "/registrations",
    status_code=201,
    response_model=RegistrationView,
    responses={
        200: {"model": RegistrationView, "description": "A retry with the same key: the first answer, replayed"},
        **error_responses(400, 404, 409, 422),
    },
)
def create_registration(req: RegistrationRequest, db: DbDep) -> JSONResponse:
    with db.connection() as conn, write_tx(conn):
        status, body = create_in_tx(conn, req)
    headers = {"Idempotent-Replayed": "true"} if status == 200 else {}
    return JSONResponse(status_code=status, content=body, headers=headers)


@router.get("/registrations/{registration_id}", response_model=RegistrationView, responses=error_responses(404, 422))
def get_registration(registration_id: RowIdPath, db: DbDep) -> dict[str, Any]:
    with db.connection() as conn:
        view = registration_view(conn, registration_id)
    if view is None:
        raise ApiError(404, "not_found", f"no registration {registration_id}")
    return view


@router.post(
    "/registrations/{registration_id}/cancel",
    response_model=RegistrationView,
    responses=error_responses(404, 409, 422),
)
def cancel_registration(registration_id: RowIdPath, db: DbDep) -> dict[str, Any]:
    """Release an unpaid registration's slot. Cancelling twice is a no-op that answers the same."""
    with db.connection() as conn, write_tx(conn):
        reg = conn.execute("SELECT status, slot_id FROM registrations WHERE id = ?", (registration_id,)).fetchone()
        if reg is None:
            raise ApiError(404, "not_found", f"no registration {registration_id}")
        if reg["status"] == "paid":
            raise ApiError(409, "already_paid", "a paid registration is refunded at the cashier, not cancelled")
        if reg["status"] == "unpaid":
            pending = conn.execute(
                "SELECT 1 FROM payments WHERE registration_id = ? AND status = 'PENDING'", (registration_id,)
            ).fetchone()
            if pending is not None:
                # the payer may still be confirming: releasing the slot now could strand their money
                raise ApiError(409, "payment_pending", "a payment for this registration is still being resolved")
            conn.execute(
                "UPDATE registrations SET status = 'cancelled', updated_at = ? WHERE id = ?",
                (utc_now(), registration_id),
            )
            conn.execute("UPDATE slots SET booked = booked - 1 WHERE id = ?", (reg["slot_id"],))
            audit.append(conn, "api", "registration.cancelled", {"registration_id": registration_id})
            logger.info("registration %d cancelled, slot %d released", registration_id, reg["slot_id"])
        view = registration_view(conn, registration_id)
    assert view is not None
    return view
