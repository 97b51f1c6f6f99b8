"""Schema v12 (QR side): the provider order behind a kiosk-shown QR payment.

A QR payment is an ordinary ``payments`` row (same idempotency key, states and bill/registration
hooks); this table holds what only a QR order has. Kept apart so ``payments`` is never rebuilt.
"""

from __future__ import annotations

from typing import Any

from server.dbapi import Conn
from server.ddl import Statement

QR_V12: tuple[Statement, ...] = (
    """CREATE TABLE IF NOT EXISTS payment_qr (
    id INTEGER PRIMARY KEY,
    payment_id INTEGER NOT NULL UNIQUE REFERENCES payments(id),
    provider TEXT NOT NULL CHECK (provider IN ('wechat', 'alipay')),
    -- what the kiosk renders as a QR code; NULL while the provider has not given one
    code_url TEXT,
    -- the provider refuses payment after this (UTC ISO); the server closes the order then
    expires_at TEXT NOT NULL,
    -- created | scanned (the payer opened it on the phone) | closing (a close is being attempted)
    provider_state TEXT NOT NULL DEFAULT 'created',
    cancel_requested_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)""",
)


# provider_state -> what the kiosk shows while the payment is PENDING
_QR_STATES = {"created": "awaiting_scan", "scanned": "scanned", "closing": "closing"}


def qr_view_fields(conn: Conn, payment_id: int) -> dict[str, Any]:
    """The QR part of a payment's view (all None for a payment by scanned code)."""
    row = conn.execute(
        "SELECT q.code_url, q.expires_at, q.provider_state, p.status FROM payment_qr q"
        " JOIN payments p ON p.id = q.payment_id WHERE q.payment_id = ?",
        (payment_id,),
    ).fetchone()
    if row is None:
        return {"qr_state": None, "code_url": None, "expires_at": None}
    pending = row["status"] == "PENDING"
    return {
        "qr_state": _QR_STATES.get(row["provider_state"]) if pending else None,
        # a code that can no longer be paid is not handed out again
        "code_url": row["code_url"] if pending else None,
        "expires_at": row["expires_at"],
    }
