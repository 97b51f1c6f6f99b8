"""The patient at the window: found by visit-card number or by the kiosk's identify step, with what
is still to pay and what was recently paid (the candidates for a refund).

Only masked identity leaves the server here (张*三, 110***********1234): enough for the cashier to
ask "are you ...?", not enough to copy an identity off the window's screen.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from server.crypto import DecryptError, FieldCipher
from server.db import Store
from server.errors import ApiError
from server.patient_store import read_identity
from server.registrations import registration_view
from server.visit_card import patient_id_of, visit_card_no

if TYPE_CHECKING:
    from server.bills.service import BillService

logger = logging.getLogger(__name__)

RECENT_PAYMENTS_DAYS = 30
RECENT_PAYMENTS_LIMIT = 20
_CJK_START = 0x2E80


def mask_name(name: str) -> str:
    """张三 -> 张*, 张小三 -> 张*三, ZHANG SAN -> Z*** (the kiosk's rule, devices/idcard/masking.py)."""
    name = name.strip()
    if not name:
        return ""
    if all(ord(ch) < _CJK_START for ch in name):
        return name[0] + "***"
    if len(name) <= 2:
        return name[0] + "*" if len(name) == 2 else "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="milliseconds")


def resolve_patient(store: Store, *, patient_id: int | None, card_no: str | None) -> int:
    """The patient id named by either means; 422 ``invalid_visit_card`` for a mistyped number."""
    if card_no is not None:
        by_card = patient_id_of(card_no.strip())
        if by_card is None:
            raise ApiError(422, "invalid_visit_card", "this is not a visit-card number (check digit wrong?)")
        patient_id = by_card
    assert patient_id is not None
    with store.connection() as conn:
        if conn.execute("SELECT 1 FROM patients WHERE id = ?", (patient_id,)).fetchone() is None:
            raise ApiError(404, "patient_not_found", "no patient with this visit card or id")
    return patient_id


def patient_summary(store: Store, cipher: FieldCipher, patient_id: int) -> dict[str, Any]:
    with store.connection() as conn:
        row = conn.execute("SELECT id_masked, sex, birth FROM patients WHERE id = ?", (patient_id,)).fetchone()
        try:
            identity = read_identity(conn, cipher, patient_id)
        except DecryptError:
            logger.error("patient_id=%d: the name cannot be decrypted with this server's key", patient_id)
            identity = None
    return {
        "patient_id": patient_id,
        "visit_card_no": visit_card_no(patient_id),
        "name_masked": mask_name(identity.name) if identity is not None else "*",
        "id_masked": row["id_masked"],
        "sex": row["sex"],
        "birth_year": int(str(row["birth"])[:4]),
    }


def open_items(store: Store, cipher: FieldCipher, bills: BillService, patient_id: int) -> dict[str, Any]:
    """The patient, their open bills and unpaid registrations, and their recent successful payments."""
    summary = patient_summary(store, cipher, patient_id)
    open_bills = bills.list_for_patient(patient_id)
    with store.connection() as conn:
        reg_ids = [
            int(r[0])
            for r in conn.execute(
                "SELECT id FROM registrations WHERE patient_id = ? AND status = 'unpaid' ORDER BY id", (patient_id,)
            )
        ]
        registrations = [v for v in (registration_view(conn, i) for i in reg_ids) if v is not None]
        payments = conn.execute(
            "SELECT p.idempotency_key, p.channel, p.amount_cents, p.created_at, p.bill_id, p.registration_id,"
            " b.title_zh AS bill_title_zh, b.title_en AS bill_title_en, r.reg_no"
            " FROM payments p LEFT JOIN bills b ON b.id = p.bill_id"
            " LEFT JOIN registrations r ON r.id = p.registration_id"
            " WHERE p.status = 'SUCCESS' AND (b.patient_id = ? OR r.patient_id = ?) AND p.created_at >= ?"
            " ORDER BY p.created_at DESC, p.id DESC LIMIT ?",
            (patient_id, patient_id, _days_ago(RECENT_PAYMENTS_DAYS), RECENT_PAYMENTS_LIMIT),
        ).fetchall()
    return {
        "patient": summary,
        "bills": open_bills,
        "registrations": registrations,
        "recent_payments": [
            {
                "payment_key": p["idempotency_key"],
                "channel": p["channel"],
                "amount_cents": p["amount_cents"],
                "paid_at": p["created_at"],
                "bill_id": p["bill_id"],
                "registration_id": p["registration_id"],
                "title_zh": p["bill_title_zh"] or f"挂号 {p['reg_no']}",
                "title_en": p["bill_title_en"] or f"Registration {p['reg_no']}",
            }
            for p in payments
        ],
    }
