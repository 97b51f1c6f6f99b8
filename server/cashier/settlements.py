"""Settling a patient's bills and registrations at the window: quote, then settle under one key.

1. **Quote** (:meth:`Settlements.quote`): the selected bills are locked together and pre-settled
   with the insurer by the bill service (a lock group under the settlement's key), so the cashier
   sees the self-pay total before taking any money. A retry with the same key and bills answers
   the same lock. Unpaid registrations are priced (their fee; nothing to lock).
2. **Settle** (:meth:`Settlements.settle`) with the same key. The money is paid by ordinary
   ``payments`` rows: the bills' group under the key itself, each registration under
   ``<key>:r<id>``.

   - ``code``: the patient's payment code, through the payment service (micropay, query, reverse).
     A code pays one order, so a code settlement pays either the bills or one registration. The
     settlement row is committed BEFORE the payment service is called; a retry after a lost answer
     (or a crash in between) calls it again under the same payment key, which the payment service
     answers from its own record instead of charging again.
   - ``cash`` / ``card``: the money is already in the drawer or on the POS slip, so the settlement,
     its SUCCESS ``payments`` rows (channel ``cash`` / ``card``) and the bills' and registrations'
     new state are written in ONE transaction; a refusal writes nothing.

   The same key with the same request answers the stored settlement (200); with another request
   it is 422 ``idempotency_key_reused``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from server import audit
from server.cashier.shifts import Shift
from server.crypto import FieldCipher
from server.db import Store
from server.dbapi import Conn, utc_now, write_tx
from server.errors import ApiError
from server.payments.codes import mask_auth_code
from server.payments.service import PaymentRequest, new_out_trade_no
from server.registrations import registration_view

if TYPE_CHECKING:
    from server.bills.service import BillService
    from server.payments.service import PaymentService

logger = logging.getLogger(__name__)


def registration_payment_key(key: str, registration_id: int) -> str:
    return f"{key}:r{registration_id}"


@dataclass(frozen=True)
class SettleRequest:
    key: str
    shift_id: int
    patient_id: int
    bill_ids: tuple[int, ...]
    registration_ids: tuple[int, ...]
    channel: str  # code | cash | card
    amount_cents: int
    auth_code: str | None = field(default=None, repr=False)  # a bearer credential: never in a repr or a log
    pos_ref: str | None = None
    tendered_cents: int | None = None


@dataclass(frozen=True)
class _Payment:
    """One payments row a settlement makes: the bills' group (registration_id None) or one registration."""

    payment_key: str
    registration_id: int | None
    amount_cents: int


def aggregate_status(statuses: Sequence[str | None]) -> str:
    """A settlement's status from its payments: SUCCESS only when every one is paid.

    A missing payments row (the payment service was never reached) counts as PENDING: the window's
    retry under the same key will charge it or be refused.
    """
    states = ["PENDING" if s is None else s for s in statuses]
    if states and all(s == "SUCCESS" for s in states):
        return "SUCCESS"
    if "PENDING" in states:
        return "PENDING"
    if "REVERSED" in states:
        return "REVERSED"
    return "FAILED"


def settlement_view(conn: Conn, key: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM cashier_settlements WHERE idempotency_key = ?", (key,)).fetchone()
    if row is None:
        return None
    paid = conn.execute(
        "SELECT sp.payment_key, sp.registration_id, sp.amount_cents, p.status, p.error_code, p.channel"
        " FROM cashier_settlement_payments sp LEFT JOIN payments p ON p.idempotency_key = sp.payment_key"
        " WHERE sp.settlement_id = ? ORDER BY sp.id",
        (row["id"],),
    ).fetchall()
    status = aggregate_status([p["status"] for p in paid])
    error = next((p["error_code"] for p in paid if p["error_code"]), None)
    return {
        "key": row["idempotency_key"],
        "shift_id": row["shift_id"],
        "patient_id": row["patient_id"],
        "channel": row["channel"],
        "bill_ids": json.loads(row["bill_ids_json"]),
        "registration_ids": [p["registration_id"] for p in paid if p["registration_id"] is not None],
        "amount_cents": row["amount_cents"],
        "tendered_cents": row["tendered_cents"],
        "change_cents": row["change_cents"],
        "pos_ref": row["pos_ref"],
        "status": status,
        "error_code": error if status != "SUCCESS" else None,
        "created_at": row["created_at"],
        "payments": [
            {
                "payment_key": p["payment_key"],
                "registration_id": p["registration_id"],
                "amount_cents": p["amount_cents"],
                "status": p["status"],
                "channel": p["channel"],
            }
            for p in paid
        ],
    }


class Settlements:
    def __init__(self, db: Store, cipher: FieldCipher, bills: BillService, payments: PaymentService) -> None:
        self.db = db
        self.cipher = cipher
        self.bills = bills
        self.payments = payments

    # -- quote ---------------------------------------------------------------------------------------

    def quote(
        self,
        shift: Shift,
        *,
        key: str,
        patient_id: int,
        bills: Sequence[tuple[int, int]],
        registration_ids: Sequence[int],
        scheme: str | None,
    ) -> dict[str, Any]:
        """Lock and pre-settle ``bills`` ((bill_id, version) pairs) under ``key``; price the registrations."""
        with self.db.connection() as conn:
            if conn.execute("SELECT 1 FROM patients WHERE id = ?", (patient_id,)).fetchone() is None:
                raise ApiError(404, "patient_not_found", f"no patient {patient_id}")
            regs = [self._payable_registration(conn, patient_id, reg_id) for reg_id in registration_ids]
        group = None
        if bills:
            _, group = self.bills.lock_group(
                payment_key=key, patient_id=patient_id, bills=bills, scheme=scheme, kiosk_id=shift.kiosk_id
            )
        bills_self_pay = int(group["self_pay_cents"] or 0) if group is not None else 0
        logger.info("cashier quote %s: %d bill(s), %d registration(s)", key, len(bills), len(regs))
        return {
            "key": key,
            "patient_id": patient_id,
            "bills_status": group["status"] if group is not None else None,
            "locked_until": group["locked_until"] if group is not None else None,
            "bills": group["bills"] if group is not None else [],
            "registrations": regs,
            "insurance_cents": int(group["insurance_cents"] or 0) if group is not None else 0,
            "bills_self_pay_cents": bills_self_pay,
            "self_pay_cents": bills_self_pay + sum(int(r["amount_cents"]) for r in regs),
        }

    def release(self, key: str) -> dict[str, Any]:
        """Give back the quote's locks (the patient changed their mind); a paid group stays paid."""
        return self.bills.unlock_group(key)

    # -- settle --------------------------------------------------------------------------------------

    def _request_hash(self, req: SettleRequest) -> str:
        # Keyed: a payment code in a bare hash could be found by trying the few codes near a known prefix.
        fields = [
            req.shift_id,
            req.patient_id,
            sorted(req.bill_ids),
            sorted(req.registration_ids),
            req.channel,
            req.amount_cents,
            (req.auth_code or "").strip(),
            req.pos_ref,
            req.tendered_cents,
        ]
        return self.cipher.blind_index("cashier-settlement:" + json.dumps(fields))

    def get(self, key: str, kiosk_id: str) -> dict[str, Any] | None:
        """The settlement under ``key`` if one of this kiosk's shifts made it."""
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT sh.kiosk_id FROM cashier_settlements s JOIN cashier_shifts sh ON sh.id = s.shift_id"
                " WHERE s.idempotency_key = ?",
                (key,),
            ).fetchone()
            if row is None or row["kiosk_id"] != kiosk_id:
                return None
            return settlement_view(conn, key)

    def settle(self, shift: Shift, req: SettleRequest) -> tuple[int, dict[str, Any]]:
        """(201, view) for a new settlement, (200, view) for a retry; a refusal raises ApiError."""
        if req.shift_id != shift.shift_id:
            raise ApiError(403, "shift_mismatch", "the settlement names another shift than the token's")
        request_hash = self._request_hash(req)
        refs: list[str] = []
        with self.db.connection() as conn:
            with write_tx(conn):
                existing = conn.execute(
                    "SELECT request_hash FROM cashier_settlements WHERE idempotency_key = ?", (req.key,)
                ).fetchone()
                if existing is not None and existing["request_hash"] != request_hash:
                    raise ApiError(422, "idempotency_key_reused", "this key was used for another settlement")
                if existing is None:
                    payments = self._price(conn, req)
                    settlement_id = self._insert(conn, req, request_hash, payments)
                    if req.channel != "code":
                        refs = self._record_window_money(conn, shift, req, settlement_id, request_hash, payments)
            replay = existing is not None
            if req.channel != "code":
                # After the commit: the insurer is never called inside a database transaction.
                self.bills.after_payment_final(refs, req.key, "SUCCESS")
                view = settlement_view(conn, req.key)
                assert view is not None
                return (200 if replay else 201), view
        return self._charge_code(shift, req, replay=replay)

    def _price(self, conn: Conn, req: SettleRequest) -> list[_Payment]:
        """The payments this settlement makes; refused unless they add up to ``amount_cents``."""
        if conn.execute("SELECT 1 FROM patients WHERE id = ?", (req.patient_id,)).fetchone() is None:
            raise ApiError(404, "patient_not_found", f"no patient {req.patient_id}")
        payments: list[_Payment] = []
        if req.bill_ids:
            group = self.bills.group_view(conn, req.key)
            if group is None or {b["bill_id"] for b in group["bills"]} != set(req.bill_ids):
                raise ApiError(409, "bill_not_locked", "quote exactly these bills under this key first")
            if group["patient_id"] != req.patient_id:
                raise ApiError(404, "bill_not_found", "these bills are not this patient's")
            if group["status"] == "paid":
                raise ApiError(409, "already_paid", "these bills are already paid")
            self_pay = int(group["self_pay_cents"] or 0)
            # The bill service's own checks: still wholly locked to this key, not expired, presettled.
            self.bills.check_payable(conn, req.bill_ids[0], req.key, self_pay)
            payments.append(_Payment(req.key, None, self_pay))
        for reg_id in req.registration_ids:
            reg = self._payable_registration(conn, req.patient_id, reg_id)
            payments.append(_Payment(registration_payment_key(req.key, reg_id), reg_id, int(reg["amount_cents"])))
        expected = sum(p.amount_cents for p in payments)
        if expected != req.amount_cents:
            raise ApiError(409, "amount_mismatch", f"the self-pay total is {expected} cents")
        return payments

    def _payable_registration(self, conn: Conn, patient_id: int, reg_id: int) -> dict[str, Any]:
        row = conn.execute("SELECT patient_id, status FROM registrations WHERE id = ?", (reg_id,)).fetchone()
        if row is None or row["patient_id"] != patient_id:
            raise ApiError(404, "registration_not_found", f"no registration {reg_id} for this patient")
        if row["status"] == "paid":
            raise ApiError(409, "already_paid", f"registration {reg_id} is already paid")
        if row["status"] == "cancelled":
            raise ApiError(409, "registration_cancelled", f"registration {reg_id} was cancelled")
        pending = conn.execute(
            "SELECT 1 FROM payments WHERE registration_id = ? AND status = 'PENDING'", (reg_id,)
        ).fetchone()
        if pending is not None:
            raise ApiError(409, "payment_pending", f"a payment for registration {reg_id} is still being resolved")
        view = registration_view(conn, reg_id)
        assert view is not None
        return view

    def _insert(self, conn: Conn, req: SettleRequest, request_hash: str, payments: list[_Payment]) -> int:
        cash = req.channel == "cash"
        change = req.tendered_cents - req.amount_cents if cash and req.tendered_cents is not None else None
        settlement_id = int(
            conn.execute(
                "INSERT INTO cashier_settlements(idempotency_key, request_hash, shift_id, patient_id, channel,"
                " bill_ids_json, amount_cents, tendered_cents, change_cents, pos_ref, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    req.key,
                    request_hash,
                    req.shift_id,
                    req.patient_id,
                    req.channel,
                    json.dumps(sorted(req.bill_ids)),
                    req.amount_cents,
                    req.tendered_cents if cash else None,
                    change,
                    req.pos_ref if req.channel == "card" else None,
                    utc_now(),
                ),
            ).fetchone()[0]
        )
        conn.executemany(
            "INSERT INTO cashier_settlement_payments(settlement_id, payment_key, registration_id, amount_cents)"
            " VALUES (?, ?, ?, ?)",
            [(settlement_id, p.payment_key, p.registration_id, p.amount_cents) for p in payments],
        )
        return settlement_id

    def _record_window_money(
        self,
        conn: Conn,
        shift: Shift,
        req: SettleRequest,
        settlement_id: int,
        request_hash: str,
        payments: list[_Payment],
    ) -> list[str]:
        """Cash or card, in the caller's transaction: SUCCESS payments, and what they pay marked paid.

        Returns the bills' pre-settlement refs, to settle with the insurer after the commit.
        """
        now = utc_now()
        masked = mask_auth_code(req.pos_ref) if req.channel == "card" and req.pos_ref else ""
        refs: list[str] = []
        for p in payments:
            bill_id = req.bill_ids[0] if p.registration_id is None else None
            conn.execute(
                "INSERT INTO payments(idempotency_key, request_hash, registration_id, bill_id, amount_cents,"
                " auth_code_masked, channel, kiosk_id, status, out_trade_no, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'SUCCESS', ?, ?, ?)",
                (
                    p.payment_key,
                    request_hash,
                    p.registration_id,
                    bill_id,
                    p.amount_cents,
                    masked,
                    req.channel,
                    shift.kiosk_id,
                    new_out_trade_no(),
                    now,
                    now,
                ),
            )
            if bill_id is not None:
                refs.extend(self.bills.on_payment_final(conn, bill_id, p.payment_key, "SUCCESS"))
            else:
                conn.execute(
                    "UPDATE registrations SET status = 'paid', updated_at = ? WHERE id = ? AND status = 'unpaid'",
                    (now, p.registration_id),
                )
        audit.append(
            conn,
            f"cashier:{shift.staff_no}",
            "cashier.settled",
            {
                "settlement_id": settlement_id,
                "shift_id": shift.shift_id,
                "channel": req.channel,
                "amount_cents": req.amount_cents,
                "bill_ids": sorted(req.bill_ids),
                "registration_ids": sorted(req.registration_ids),
            },
        )
        logger.info(
            "cashier %s settled %s: %d cents by %s (%d payment(s))",
            shift.staff_no,
            req.key,
            req.amount_cents,
            req.channel,
            len(payments),
        )
        return refs

    def _charge_code(self, shift: Shift, req: SettleRequest, *, replay: bool) -> tuple[int, dict[str, Any]]:
        """Pay the settlement's one payment with the scanned code, through the payment service."""
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT sp.payment_key, sp.registration_id, sp.amount_cents, s.id AS settlement_id, s.bill_ids_json"
                " FROM cashier_settlement_payments sp JOIN cashier_settlements s ON s.id = sp.settlement_id"
                " WHERE s.idempotency_key = ?",
                (req.key,),
            ).fetchone()
        assert row is not None and req.auth_code is not None
        bill_ids = json.loads(row["bill_ids_json"])
        try:
            payment = PaymentRequest(
                idempotency_key=row["payment_key"],
                registration_id=row["registration_id"],
                bill_id=bill_ids[0] if row["registration_id"] is None else None,
                amount_cents=row["amount_cents"],
                auth_code=req.auth_code,
                kiosk_id=shift.kiosk_id,
            )
        except ValidationError:
            raise ApiError(422, "invalid_request", "the payment code or the kiosk id is not acceptable") from None
        try:
            self.payments.create(payment)
        except ApiError:
            # Refused before any provider call (lock expired, already paid elsewhere, ...): nothing was
            # charged, so the settlement is forgotten and a retry under the key is evaluated afresh.
            self._forget_uncharged(row["settlement_id"], row["payment_key"])
            raise
        with self.db.connection() as conn:
            view = settlement_view(conn, req.key)
        assert view is not None
        logger.info("cashier %s settlement %s by code: %s", shift.staff_no, req.key, view["status"])
        return (200 if replay else 201), view

    def _forget_uncharged(self, settlement_id: int, payment_key: str) -> None:
        with self.db.connection() as conn, write_tx(conn):
            if conn.execute("SELECT 1 FROM payments WHERE idempotency_key = ?", (payment_key,)).fetchone():
                return  # a payment exists after all: the settlement must stay to account for it
            conn.execute("DELETE FROM cashier_settlement_payments WHERE settlement_id = ?", (settlement_id,))
            conn.execute("DELETE FROM cashier_settlements WHERE id = ?", (settlement_id,))
