"""Bookings and their check-in: the rules, without HTTP (server/appointments/api.py is the routes).

Check-in turns a booking into a registration (the ``registrations`` table, server/registrations.py)
on the booked slot, so ``POST /payments`` pays its fee exactly as it pays a registration made at
the kiosk. The booking already holds its place in the slot, so check-in does not take another.

Times are the hospital's wall clock, like the slots' ``date`` and ``start`` columns. The check-in
window (``ServerSettings.checkin_open_before_min`` / ``checkin_close_after_min``) is checked
against :func:`now`, a function so tests can move the clock.

Idempotency: the check-in key is stored on the booking (UNIQUE) in the same transaction as the
registration. A retry with the key gets the same registration back (200), with its current payment
state, so a kiosk that lost the answer after the patient paid does not ask for the fee again. The
key with another booking or patient is 422 ``idempotency_key_reused``; refusals (too early, too
late, cancelled) store nothing, so a retry is judged again.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from server import audit
from server.dbapi import Conn, utc_now
from server.errors import ApiError
from server.registrations import registration_view

logger = logging.getLogger(__name__)

BookedVia = Literal["wechat", "phone", "web", "window", "kiosk"]
CheckinState = Literal["open", "too_early", "too_late", "done", "closed"]


def now() -> datetime:
    """The hospital's wall clock (naive local time, as the slots are stored)."""
    return datetime.now()


@dataclass(frozen=True)
class CheckinWindow:
    open_before: timedelta = timedelta(minutes=60)
    close_after: timedelta = timedelta(minutes=15)

    @classmethod
    def minutes(cls, open_before: int, close_after: int) -> CheckinWindow:
        return cls(timedelta(minutes=open_before), timedelta(minutes=close_after))

    def bounds(self, day: str, start: str) -> tuple[datetime, datetime]:
        begins = datetime.fromisoformat(f"{day}T{start}")
        return begins - self.open_before, begins + self.close_after

    def state(self, day: str, start: str, at: datetime) -> CheckinState:
        opens, closes = self.bounds(day, start)
        if at < opens:
            return "too_early"
        if at > closes:
            return "too_late"
        return "open"


_SELECT = """
    SELECT a.id AS appointment_id, a.appt_no, a.patient_id, a.status, a.booked_via, a.prepaid, a.fee_cents,
           a.registration_id, a.queue_no, a.checkin_key,
           dep.code AS department_code, dep.name_zh AS department_name_zh, dep.name_en AS department_name_en,
           d.code AS doctor_code, d.name_zh AS doctor_name_zh, d.name_en AS doctor_name_en,
           d.title_zh AS doctor_title_zh, d.title_en AS doctor_title_en,
           s.date, s.start, s."end",
           r.reg_no, r.status AS registration_status
    FROM appointments a
    JOIN slots s ON s.id = a.slot_id
    JOIN doctors d ON d.code = s.doctor_code
    JOIN departments dep ON dep.code = d.department_code
    LEFT JOIN registrations r ON r.id = a.registration_id
"""


def _view(row: Any, window: CheckinWindow, at: datetime) -> dict[str, Any]:
    """One booking as the kiosk lists it, with what check-in would say right now."""
    opens, closes = window.bounds(row["date"], row["start"])
    reg_status = row["registration_status"]
    if row["status"] == "checked_in" and reg_status == "cancelled":
        checkin: CheckinState = "closed"  # its registration was cancelled since (at a window): nothing to pay
    elif row["status"] == "checked_in":
        checkin = "done"
    elif row["status"] in ("cancelled", "no_show"):
        checkin = "closed"
    else:
        checkin = window.state(row["date"], row["start"], at)
    return {
        "appointment_id": int(row["appointment_id"]),
        "appt_no": row["appt_no"],
        "status": row["status"],
        "booked_via": row["booked_via"],
        "prepaid": bool(row["prepaid"]),
        "fee_cents": int(row["fee_cents"]),
        "department_code": row["department_code"],
        "department_name_zh": row["department_name_zh"],
        "department_name_en": row["department_name_en"],
        "doctor_code": row["doctor_code"],
        "doctor_name_zh": row["doctor_name_zh"],
        "doctor_name_en": row["doctor_name_en"],
        "doctor_title_zh": row["doctor_title_zh"],
        "doctor_title_en": row["doctor_title_en"],
        "date": row["date"],
        "start": row["start"],
        "end": row["end"],
        "checkin": checkin,
        "checkin_opens": opens.isoformat(timespec="minutes"),
        "checkin_closes": closes.isoformat(timespec="minutes"),
        "registration_id": row["registration_id"],
        "reg_no": row["reg_no"],
        "queue_no": row["queue_no"],
        "paid": None if reg_status in (None, "cancelled") else reg_status == "paid",
    }


def list_for_patient(
    conn: Conn, patient_id: int, day: date, window: CheckinWindow, at: datetime
) -> list[dict[str, Any]]:
    """The patient's bookings on ``day`` in time order (every status), or LookupError for no such patient."""
    if conn.execute("SELECT 1 FROM patients WHERE id = ?", (patient_id,)).fetchone() is None:
        raise LookupError(patient_id)
    rows = conn.execute(
        _SELECT + ' WHERE a.patient_id = ? AND s.date = ? ORDER BY s.start, s."end", a.id',
        (patient_id, day.isoformat()),
    ).fetchall()
    return [_view(row, window, at) for row in rows]


def _checkin_answer(conn: Conn, appointment_id: int) -> dict[str, Any]:
    row = conn.execute(_SELECT + " WHERE a.id = ?", (appointment_id,)).fetchone()
    reg = registration_view(conn, int(row["registration_id"]))
    assert reg is not None  # the CHECK constraint: a checked-in booking names its registration
    return reg | {
        "appointment_id": appointment_id,
        "appt_no": row["appt_no"],
        "queue_no": int(row["queue_no"]),
        "paid": reg["status"] == "paid",
    }


_REFUSED = {
    "cancelled": ("appointment_cancelled", "this booking was cancelled"),
    "no_show": ("appointment_no_show", "this booking was marked as missed"),
    "checked_in": ("appointment_checked_in", "this booking is checked in already (under another key)"),
}


def check_in(
    conn: Conn, *, appointment_id: int, patient_id: int, key: str, kiosk_id: str, window: CheckinWindow, at: datetime
) -> tuple[int, dict[str, Any]]:
    """Check in (201) or replay (200) in the caller's write transaction; a refusal raises ApiError."""
    claimed = conn.execute("SELECT id, patient_id FROM appointments WHERE checkin_key = ?", (key,)).fetchone()
    if claimed is not None:
        if (int(claimed["id"]), int(claimed["patient_id"])) != (appointment_id, patient_id):
            raise ApiError(422, "idempotency_key_reused", "this key checked in another booking")
        return 200, _checkin_answer(conn, appointment_id)

    row = conn.execute(_SELECT + " WHERE a.id = ?", (appointment_id,)).fetchone()
    # Another patient's booking is "not found": the id alone must not reveal anyone's visit.
    if row is None or int(row["patient_id"]) != patient_id:
        raise ApiError(404, "appointment_not_found", f"no booking {appointment_id} for this patient")
    if row["status"] in _REFUSED:
        code, message = _REFUSED[row["status"]]
        raise ApiError(409, code, message)
    state = window.state(row["date"], row["start"], at)
    if state != "open":
        opens, closes = window.bounds(row["date"], row["start"])
        when = f"opens {opens:%Y-%m-%d %H:%M}" if state == "too_early" else f"closed {closes:%Y-%m-%d %H:%M}"
        raise ApiError(409, state, f"check-in for this booking {when}")

    stamp = utc_now()
    status = "paid" if row["prepaid"] else "unpaid"
    # The registration's own key is derived, so it cannot collide with a kiosk registration's UUID.
    cur = conn.execute(
        "INSERT INTO registrations(reg_no, patient_id, slot_id, status, amount_cents, idempotency_key,"
        " response_json, created_at, updated_at)"
        " SELECT ?, patient_id, slot_id, ?, fee_cents, ?, '{}', ?, ? FROM appointments WHERE id = ? RETURNING id",
        (f"tmp-checkin-{key}", status, f"checkin:{key}", stamp, stamp, appointment_id),
    )
    reg_id = int(cur.fetchone()[0])
    reg_no = f"R{row['date'].replace('-', '')}{reg_id:06d}"
    conn.execute("UPDATE registrations SET reg_no = ? WHERE id = ?", (reg_no, reg_id))
    view = registration_view(conn, reg_id)
    assert view is not None
    conn.execute("UPDATE registrations SET response_json = ? WHERE id = ?", (json.dumps(view), reg_id))
    # The queue number is the patient's place among this doctor's registrations that day, fixed now.
    queue_no = int(
        conn.execute(
            "SELECT count(*) FROM registrations r JOIN slots s ON s.id = r.slot_id"
            " WHERE s.doctor_code = ? AND s.date = ? AND r.status <> 'cancelled'",
            (row["doctor_code"], row["date"]),
        ).fetchone()[0]
    )
    conn.execute(
        "UPDATE appointments SET status = 'checked_in', registration_id = ?, queue_no = ?, checkin_key = ?,"
        " checkin_kiosk = ?, checked_in_at = ?, updated_at = ? WHERE id = ?",
        (reg_id, queue_no, key, kiosk_id, stamp, stamp, appointment_id),
    )
    detail = {"appointment_id": appointment_id, "registration_id": reg_id, "key": key, "prepaid": bool(row["prepaid"])}
    audit.append(conn, f"kiosk:{kiosk_id}", "appointment.checked_in", detail)
    logger.info(
        "appointment %d checked in at %s: registration %d (%s), queue %d, %s",
        appointment_id,
        kiosk_id,
        reg_id,
        reg_no,
        queue_no,
        status,
    )
    return 201, _checkin_answer(conn, appointment_id)


def book(
    conn: Conn,
    *,
    patient_id: int,
    slot_id: int,
    booked_via: BookedVia,
    prepaid: bool = False,
    status: Literal["booked", "cancelled"] = "booked",
) -> int:
    """Record a booking made elsewhere (the HIS feed, the demo seed, tests); the caller owns the tx.

    A live booking takes its place in the slot now (capacity is checked by the slots table's own
    CHECK); a cancelled one holds none.
    """
    slot = conn.execute(
        "SELECT s.date, d.fee_cents FROM slots s JOIN doctors d ON d.code = s.doctor_code WHERE s.id = ?", (slot_id,)
    ).fetchone()
    if slot is None:
        raise LookupError(f"no slot {slot_id}")
    if status == "booked":
        conn.execute("UPDATE slots SET booked = booked + 1 WHERE id = ?", (slot_id,))
    stamp = utc_now()
    appointment_id = int(
        conn.execute(
            "INSERT INTO appointments(appt_no, patient_id, slot_id, fee_cents, prepaid, status, booked_via, booked_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                f"tmp-{uuid.uuid4()}",
                patient_id,
                slot_id,
                slot["fee_cents"],
                int(prepaid),
                status,
                booked_via,
                stamp,
                stamp,
            ),
        ).fetchone()[0]
    )
    appt_no = f"A{slot['date'].replace('-', '')}{appointment_id:06d}"
    conn.execute("UPDATE appointments SET appt_no = ? WHERE id = ?", (appt_no, appointment_id))
    return appointment_id
