"""Refunds at the window: a supervisor's PIN approves, the refund service (server/refunds/) refunds.

The supervisor is checked here, on the server (``staff.check_pin``: the same lockout as sign-in),
and must be another person than the cashier of the shift: one person alone cannot take money out.
The refund itself is the refund service's, not a second implementation: its key, its record
before any provider call, its "never more than was paid" check and its resolver.

- A code payment (WeChat Pay, Alipay) goes back to the payer's account through the refund
  service the kiosks use (``app.state.refunds``).
- A cash or bank-card payment has no provider behind it: the window is where the money goes back.
  A second refund service over the same ``refunds`` table has one "provider" for those channels,
  :class:`WindowRefunds`, which confirms at once. For a card the cashier first refunds on the POS
  terminal and types its reference, so the record follows the terminal, never the other way round;
  for cash the kiosk shows the amount to hand back after the record is made.

``cashier_refunds`` links the refund to the shift and the approving supervisor; it is committed
before the refund service is called, and forgotten again only when that service refused (nothing
recorded there). A retry with the same key answers the same refund without asking for the PIN.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from server import audit
from server.cashier.shifts import Shift
from server.cashier.staff import check_pin
from server.db import Store
from server.dbapi import Conn, utc_now, write_tx
from server.errors import ApiError
from server.refunds.providers import RefundReply
from server.refunds.service import RefundRequest, RefundService
from server.settings import ServerSettings

logger = logging.getLogger(__name__)

WINDOW_CHANNELS = ("cash", "card")


class WindowRefunds:
    """The refund "provider" of money taken at the window: the cashier hands it back (or the POS
    terminal already refunded the card), so the refund is confirmed as it is recorded."""

    def refund(
        self, *, out_trade_no: str, out_refund_no: str, total_cents: int, refund_cents: int, reason: str
    ) -> RefundReply:
        return RefundReply("refunded", None, "refunded at the cashier window")

    def refund_query(self, *, out_trade_no: str, out_refund_no: str) -> RefundReply:
        return RefundReply("refunded", None, "refunded at the cashier window")


@dataclass(frozen=True)
class WindowRefundRequest:
    refund_key: str
    shift_id: int
    payment_key: str
    amount_cents: int
    reason: str
    supervisor_staff_no: str
    supervisor_pin: str = field(repr=False)
    pos_ref: str | None = None


def _digest(req: WindowRefundRequest) -> str:
    # The PIN is not part of what the key stands for: a retry may come without it.
    parts = [req.shift_id, req.payment_key, req.amount_cents, req.reason, req.supervisor_staff_no, req.pos_ref]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


def cashier_refund_view(conn: Conn, refund_key: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT cr.*, r.status, r.error_code FROM cashier_refunds cr"
        " LEFT JOIN refunds r ON r.refund_key = cr.refund_key"
        " WHERE cr.refund_key = ?",
        (refund_key,),
    ).fetchone()
    if row is None:
        return None
    return {
        "refund_key": row["refund_key"],
        "shift_id": row["shift_id"],
        "payment_key": row["payment_key"],
        "channel": row["channel"],
        "amount_cents": row["amount_cents"],
        "reason": row["reason"],
        "approved_by": row["approved_by"],
        "pos_ref": row["pos_ref"],
        # None: recorded here, but the refund service was never reached; retry under the same key
        "status": row["status"] or "requested",
        "error_code": row["error_code"],
        "created_at": row["created_at"],
    }


class WindowRefundService:
    def __init__(self, db: Store, settings: ServerSettings, provider_refunds: RefundService | None) -> None:
        self.db = db
        self.provider_refunds = provider_refunds
        self.window_refunds = RefundService(db, {channel: WindowRefunds() for channel in WINDOW_CHANNELS}, settings)

    def get(self, refund_key: str, kiosk_id: str) -> dict[str, Any] | None:
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT sh.kiosk_id FROM cashier_refunds cr JOIN cashier_shifts sh ON sh.id = cr.shift_id"
                " WHERE cr.refund_key = ?",
                (refund_key,),
            ).fetchone()
            if row is None or row["kiosk_id"] != kiosk_id:
                return None
            return cashier_refund_view(conn, refund_key)

    def refund(self, shift: Shift, req: WindowRefundRequest) -> tuple[int, dict[str, Any]]:
        if req.shift_id != shift.shift_id:
            raise ApiError(403, "shift_mismatch", "the refund names another shift than the token's")
        digest = _digest(req)
        with self.db.connection() as conn:
            existing = conn.execute(
                "SELECT request_hash, channel, approved_by FROM cashier_refunds WHERE refund_key = ?",
                (req.refund_key,),
            ).fetchone()
            if existing is not None and existing["request_hash"] != digest:
                raise ApiError(422, "idempotency_key_reused", "this refund_key was used for another refund")
            if existing is None:
                supervisor = self._approve(conn, shift, req)
                channel = self._record(conn, shift, req, digest)
            else:
                channel = existing["channel"]
                supervisor_name = conn.execute(
                    "SELECT username FROM cashier_staff WHERE staff_no = ?", (existing["approved_by"],)
                ).fetchone()["username"]
        approved_by = supervisor.username if existing is None else supervisor_name
        service = self.window_refunds if channel in WINDOW_CHANNELS else self.provider_refunds
        if service is None:
            self._forget(req.refund_key)
            raise ApiError(503, "refunds_unavailable", "refunds of code payments are not served here")
        try:
            _, answer = service.create(
                req.payment_key,
                RefundRequest(
                    refund_key=req.refund_key,
                    amount_cents=req.amount_cents,
                    reason=req.reason,
                    kiosk_id=shift.kiosk_id,
                    approved_by=approved_by,
                ),
            )
        except ApiError:
            self._forget(req.refund_key)
            raise
        if channel in WINDOW_CHANNELS and answer["status"] == "requested":
            # Recorded by a run that stopped before confirming (a crash): the window confirms it now.
            self.window_refunds.submit(self._refund_id(req.refund_key))
        with self.db.connection() as conn:
            view = cashier_refund_view(conn, req.refund_key)
        assert view is not None
        return (200 if existing is not None else 201), view

    def _approve(self, conn: Conn, shift: Shift, req: WindowRefundRequest) -> Any:
        supervisor = check_pin(conn, req.supervisor_staff_no, req.supervisor_pin, purpose="approve_refund")
        if supervisor is None:
            raise ApiError(403, "supervisor_not_approved", "the supervisor's number or PIN is wrong, or locked")
        if not supervisor.supervisor:
            raise ApiError(403, "supervisor_not_approved", "this staff member may not approve refunds")
        if supervisor.staff_no == shift.staff_no:
            raise ApiError(403, "supervisor_not_approved", "a refund needs another person's approval")
        return supervisor

    def _record(self, conn: Conn, shift: Shift, req: WindowRefundRequest, digest: str) -> str:
        with write_tx(conn):
            payment = conn.execute(
                "SELECT channel, status FROM payments WHERE idempotency_key = ?", (req.payment_key,)
            ).fetchone()
            if payment is None:
                raise ApiError(404, "payment_not_found", "no payment with this key")
            channel = str(payment["channel"])
            if channel == "card" and not req.pos_ref:
                raise ApiError(
                    422, "pos_ref_required", "refund the card on the POS terminal first and give its reference"
                )
            conn.execute(
                "INSERT INTO cashier_refunds(refund_key, request_hash, shift_id, payment_key, channel, pos_ref,"
                " amount_cents, reason, approved_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    req.refund_key,
                    digest,
                    shift.shift_id,
                    req.payment_key,
                    channel,
                    req.pos_ref if channel == "card" else None,
                    req.amount_cents,
                    req.reason,
                    req.supervisor_staff_no,
                    utc_now(),
                ),
            )
            audit.append(
                conn,
                f"cashier:{shift.staff_no}",
                "cashier.refund_approved",
                {
                    "shift_id": shift.shift_id,
                    "channel": channel,
                    "amount_cents": req.amount_cents,
                    "approved_by": req.supervisor_staff_no,
                },
            )
        logger.info(
            "cashier %s: refund %s of %d cents (%s) approved by %s",
            shift.staff_no,
            req.refund_key,
            req.amount_cents,
            channel,
            req.supervisor_staff_no,
        )
        return channel

    def _refund_id(self, refund_key: str) -> int:
        with self.db.connection() as conn:
            return int(conn.execute("SELECT id FROM refunds WHERE refund_key = ?", (refund_key,)).fetchone()[0])

    def _forget(self, refund_key: str) -> None:
        """The refund service refused: nothing moved, so the window's record of the request goes too."""
        with self.db.connection() as conn, write_tx(conn):
            if conn.execute("SELECT 1 FROM refunds WHERE refund_key = ?", (refund_key,)).fetchone() is None:
                conn.execute("DELETE FROM cashier_refunds WHERE refund_key = ?", (refund_key,))
