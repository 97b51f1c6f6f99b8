"""退号: a patient hands a paid registration back within the hospital's window and gets the fee back.

The window (``ServerSettings.registration_refund_cutoff_min``): until that many minutes before the
slot starts, on the slot's own day or any day before; a past slot never. Never once the visit has
begun: the patient's arrival at the clinic (签到) or the consultation, recorded on the registration
in any of the columns of ``VISIT_STARTED_COLUMNS`` the schema has, closes it whatever the time.
Taking the number for a booking (预约取号, server/appointments/) is not such a start: it is what
made the registration.

In ONE transaction: the registration is cancelled, its place goes back to the slot (a booking
checked in to it is cancelled too: the booking held that one place), and the refund of the fee is
recorded under the kiosk's refund key (server/refunds/service.py). Only then is the provider
asked. If the provider then refuses for good, the refund ends ``failed`` with a staff work item
(the booking stays cancelled: the place may already be someone else's), and the kiosk says to see
the cashier. A retry with the same key answers the same (200), whatever happened since.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field

from server import audit
from server.auth.kiosks import KIOSK_ID_PATTERN
from server.dbapi import Conn, utc_now, write_tx
from server.errors import ApiError
from server.refunds.service import RefundService, refunds_taken, request_hash
from server.registrations import IDEMPOTENCY_KEY_PATTERN, registration_view
from server.schemas import RowId

logger = logging.getLogger(__name__)

REASON = "退号"
# Columns a check-in / consultation feature may add to registrations; any one set closes the window.
VISIT_STARTED_COLUMNS = ("checked_in_at", "called_at", "consulted_at", "visited_at")


class RegistrationRefundRequest(BaseModel):
    refund_key: str = Field(pattern=IDEMPOTENCY_KEY_PATTERN)
    kiosk_id: str = Field(pattern=KIOSK_ID_PATTERN)
    # The patient the kiosk identified: a registration of anyone else is "not found" to this kiosk.
    patient_id: RowId | None = None


def refund_deadline(slot_date: str, slot_start: str, cutoff_min: int) -> datetime:
    """The last moment (hospital wall time) the registration can be refunded at a kiosk."""
    start = datetime.combine(date.fromisoformat(slot_date), time.fromisoformat(slot_start))
    return start - timedelta(minutes=cutoff_min)


def _visit_started(reg: Any) -> bool:
    keys = set(reg.keys())
    return any(name in keys and reg[name] is not None for name in VISIT_STARTED_COLUMNS)


def _registration(conn: Conn, registration_id: int) -> Any:
    return conn.execute(
        "SELECT r.*, s.date AS slot_date, s.start AS slot_start FROM registrations r"
        " JOIN slots s ON s.id = r.slot_id WHERE r.id = ?",
        (registration_id,),
    ).fetchone()


def _paying(conn: Conn, registration_id: int) -> Any:
    return conn.execute(
        "SELECT * FROM payments WHERE registration_id = ? AND status = 'SUCCESS' ORDER BY id DESC LIMIT 1",
        (registration_id,),
    ).fetchone()


def blocked_reason(conn: Conn, reg: Any, now: datetime, cutoff_min: int) -> str | None:
    """Why this registration can't be refunded at a kiosk now (an error code), or None when it can."""
    if reg["status"] == "cancelled":
        return "registration_cancelled"
    if reg["status"] != "paid":
        return "registration_not_paid"
    if _visit_started(reg):
        return "already_checked_in"
    if now >= refund_deadline(reg["slot_date"], reg["slot_start"], cutoff_min):
        return "refund_window_closed"
    payment = _paying(conn, reg["id"])
    if payment is None:
        return "payment_not_found"
    if payment["amount_cents"] - refunds_taken(conn, payment["id"]) <= 0:
        return "nothing_to_refund"
    return None


_MESSAGES = {
    "registration_cancelled": "this registration is already cancelled",
    "registration_not_paid": "this registration is not paid; cancel it instead",
    "already_checked_in": "the visit has begun; see the cashier",
    "payment_not_found": "no payment of this registration can be refunded here; see the cashier",
    "nothing_to_refund": "the fee was already refunded",
}


class RegistrationRefunds:
    def __init__(self, refunds: RefundService) -> None:
        self.refunds = refunds
        self.db = refunds.db
        self.cutoff_min = refunds.settings.registration_refund_cutoff_min

    def refund(self, registration_id: int, req: RegistrationRefundRequest) -> tuple[int, dict[str, Any]]:
        """(201, answer) for a new 退号, (200, answer) for a replay; ApiError when it can't be done."""
        digest = request_hash("registration", registration_id, req.patient_id, req.kiosk_id)
        with self.db.connection() as conn, write_tx(conn):
            replay = self.refunds.replay(conn, req.refund_key, digest)
            if replay is not None:
                return 200, self._answer(conn, registration_id, replay)
            reg = _registration(conn, registration_id)
            if reg is None or (req.patient_id is not None and reg["patient_id"] != req.patient_id):
                raise ApiError(404, "registration_not_found", f"no registration {registration_id} of this patient")
            now = self.refunds.clock()
            reason = blocked_reason(conn, reg, now, self.cutoff_min)
            if reason == "refund_window_closed":
                deadline = refund_deadline(reg["slot_date"], reg["slot_start"], self.cutoff_min)
                raise ApiError(409, reason, f"refunds at the kiosk closed at {deadline:%Y-%m-%d %H:%M}")
            if reason is not None:
                raise ApiError(409, reason, _MESSAGES[reason])
            payment = _paying(conn, registration_id)
            conn.execute(
                "UPDATE registrations SET status = 'cancelled', updated_at = ? WHERE id = ? AND status = 'paid'",
                (utc_now(), registration_id),
            )
            conn.execute("UPDATE slots SET booked = booked - 1 WHERE id = ?", (reg["slot_id"],))
            # A booking checked in to this registration (server/appointments/) ends with it: left
            # "checked in" to a cancelled registration, it would still look like a visit to pay for.
            conn.execute(
                "UPDATE appointments SET status = 'cancelled', updated_at = ? WHERE registration_id = ?"
                " AND status = 'checked_in'",
                (utc_now(), registration_id),
            )
            refund_id = self.refunds.record(
                conn,
                payment,
                refund_key=req.refund_key,
                digest=digest,
                amount_cents=payment["amount_cents"] - refunds_taken(conn, payment["id"]),
                reason=REASON,
                kiosk_id=req.kiosk_id,
                registration_id=registration_id,
            )
            audit.append(
                conn,
                f"kiosk:{req.kiosk_id}",
                "registration.refunded",
                {"registration_id": registration_id, "refund_id": refund_id, "slot_id": reg["slot_id"]},
            )
        logger.info("registration %d handed back (退号), slot %d released", registration_id, reg["slot_id"])
        self.refunds.submit(refund_id)
        with self.db.connection() as conn:
            return 201, self._answer(conn, registration_id, self.refunds.view(refund_id))

    @staticmethod
    def _answer(conn: Conn, registration_id: int, refund: dict[str, Any]) -> dict[str, Any]:
        if refund["registration_id"] != registration_id:
            raise ApiError(422, "idempotency_key_reused", "this refund_key was used for another refund")
        return {"registration": registration_view(conn, registration_id), "refund": refund}

    def candidates(self, patient_id: int) -> list[dict[str, Any]]:
        """The patient's paid registrations from today on, each saying whether a kiosk may refund it now."""
        now = self.refunds.clock()
        with self.db.connection() as conn:
            regs = conn.execute(
                "SELECT r.*, s.date AS slot_date, s.start AS slot_start FROM registrations r"
                " JOIN slots s ON s.id = r.slot_id WHERE r.patient_id = ? AND r.status = 'paid' AND s.date >= ?"
                " ORDER BY s.date, s.start, r.id",
                (patient_id, now.date().isoformat()),
            ).fetchall()
            out = []
            for reg in regs:
                reason = blocked_reason(conn, reg, now, self.cutoff_min)
                payment = _paying(conn, reg["id"])
                left = payment["amount_cents"] - refunds_taken(conn, payment["id"]) if payment is not None else 0
                view = registration_view(conn, reg["id"])
                assert view is not None
                deadline = refund_deadline(reg["slot_date"], reg["slot_start"], self.cutoff_min)
                out.append(
                    view
                    | {
                        "refundable": reason is None,
                        "blocked_reason": reason,
                        "refund_deadline": deadline.isoformat(timespec="minutes"),
                        "refundable_cents": max(left, 0),
                        "channel": payment["channel"] if payment is not None else None,
                    }
                )
            return out
