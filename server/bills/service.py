"""Lock-then-pay for bills.

A bill is paid in three steps, each safe to retry:

1. **Lock** (``lock``): the kiosk names the idempotency key its payment will use. The bill is
   locked to that key for ``bill_lock_ttl_s`` and pre-settled with the insurer, which splits it
   into the insurance share and the self-pay share. A second kiosk (or a second tab) gets 409
   ``bill_locked``; the same key gets the same answer again.
2. **Pay** the self-pay share through ``POST /payments`` with ``bill_id`` and that key
   (server/payments/service.py). A payment for a bill it has not locked, after the lock expired,
   or for another amount, is refused before any provider is called.
3. The payment's final state settles or releases the bill (``on_payment_final``, inside the
   payment's own transaction): SUCCESS -> paid and the pre-settlement is settled; FAILED or
   REVERSED -> unlocked and the pre-settlement cancelled.

A lock whose time ran out is released lazily, by the next lock attempt, and only when no payment
under its key is PENDING or SUCCESS: an unclear payment keeps its bill until it is resolved.
Insurer calls happen outside database transactions; each is recorded in ``insurance_settlements``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from server import audit
from server.bills.insurance import BillLine, InsuranceAdapter, InsuranceError
from server.db import Store
from server.dbapi import Conn, utc_now, write_tx
from server.errors import ApiError

logger = logging.getLogger(__name__)

HOLDING_PAYMENT_STATES = ("PENDING", "SUCCESS")


def _now() -> datetime:
    """A function so tests can move the clock."""
    return datetime.now(UTC)


def create_bill(
    conn: Conn,
    *,
    patient_id: int,
    kind: str,
    title_zh: str,
    title_en: str,
    items: Sequence[dict[str, Any]],
    department_code: str | None = None,
) -> int:
    """Insert a bill with its items (the HIS feed and the demo seed use this); caller owns the tx."""
    if not items:
        raise ValueError("a bill needs at least one item")
    total = sum(int(i["quantity"]) * int(i["unit_cents"]) for i in items)
    now = utc_now()
    bill_id = int(
        conn.execute(
            "INSERT INTO bills(bill_no, patient_id, kind, department_code, title_zh, title_en, total_cents, status,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'unpaid', ?, ?) RETURNING id",
            (f"tmp-{now}-{patient_id}-{kind}", patient_id, kind, department_code, title_zh, title_en, total, now, now),
        ).fetchone()[0]
    )
    conn.execute("UPDATE bills SET bill_no = ? WHERE id = ?", (f"B{now[:10].replace('-', '')}{bill_id:06d}", bill_id))
    conn.executemany(
        "INSERT INTO bill_items(bill_id, code, name_zh, name_en, category, quantity, unit_cents, amount_cents)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                bill_id,
                i["code"],
                i["name_zh"],
                i["name_en"],
                i["category"],
                int(i["quantity"]),
                int(i["unit_cents"]),
                int(i["quantity"]) * int(i["unit_cents"]),
            )
            for i in items
        ],
    )
    audit.append(conn, "his", "bill.created", {"bill_id": bill_id, "patient_id": patient_id, "total_cents": total})
    return bill_id


def bill_view(conn: Conn, bill_id: int) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM bills WHERE id = ?", (bill_id,)).fetchone()
    if row is None:
        return None
    items = conn.execute(
        "SELECT code, name_zh, name_en, category, quantity, unit_cents, amount_cents FROM bill_items"
        " WHERE bill_id = ? ORDER BY id",
        (bill_id,),
    ).fetchall()
    settlement = None
    if row["lock_key"] is not None:
        settlement = conn.execute(
            "SELECT scheme, insurance_cents, self_pay_cents, status FROM insurance_settlements WHERE lock_key = ?",
            (row["lock_key"],),
        ).fetchone()
    return {
        "bill_id": row["id"],
        "bill_no": row["bill_no"],
        "patient_id": row["patient_id"],
        "kind": row["kind"],
        "title_zh": row["title_zh"],
        "title_en": row["title_en"],
        "total_cents": row["total_cents"],
        "status": row["status"],
        "version": row["version"],
        "locked_until": row["locked_until"] if row["status"] == "locked" else None,
        "payment_key": row["lock_key"] if row["status"] in ("locked", "paid") else None,
        "insurance_scheme": settlement["scheme"] if settlement else None,
        "insurance_cents": settlement["insurance_cents"] if settlement else None,
        "self_pay_cents": settlement["self_pay_cents"] if settlement else None,
        "items": [dict(i) for i in items],
    }


class BillService:
    def __init__(self, db: Store, insurance: InsuranceAdapter, lock_ttl_s: float = 300.0) -> None:
        self.db = db
        self.insurance = insurance
        self.lock_ttl_s = lock_ttl_s

    # -- queries -------------------------------------------------------------------------------------

    def list_for_patient(self, patient_id: int, *, open_only: bool = True) -> list[dict[str, Any]]:
        with self.db.connection() as conn:
            if conn.execute("SELECT 1 FROM patients WHERE id = ?", (patient_id,)).fetchone() is None:
                raise ApiError(404, "patient_not_found", f"no patient {patient_id}")
            where = " AND status IN ('unpaid', 'locked')" if open_only else ""
            ids = [
                r[0]
                for r in conn.execute(f"SELECT id FROM bills WHERE patient_id = ?{where} ORDER BY id", (patient_id,))
            ]
            return [v for v in (bill_view(conn, i) for i in ids) if v is not None]

    def get(self, bill_id: int) -> dict[str, Any]:
        with self.db.connection() as conn:
            view = bill_view(conn, bill_id)
        if view is None:
            raise ApiError(404, "bill_not_found", f"no bill {bill_id}")
        return view

    # -- lock ----------------------------------------------------------------------------------------

    def lock(
        self, bill_id: int, *, payment_key: str, patient_id: int, version: int, scheme: str | None, kiosk_id: str
    ) -> tuple[int, dict[str, Any]]:
        """(201, view) for a new lock, (200, view) for a retry with the same key."""
        released: str | None = None
        with self.db.connection() as conn:
            with write_tx(conn):
                bill = conn.execute("SELECT * FROM bills WHERE id = ?", (bill_id,)).fetchone()
                if bill is None or bill["patient_id"] != patient_id:
                    # Someone else's bill looks exactly like a missing one.
                    raise ApiError(404, "bill_not_found", f"no bill {bill_id} for this patient")
                if bill["lock_key"] == payment_key and bill["status"] in ("locked", "paid"):
                    return 200, self._view(conn, bill_id)
                if bill["status"] == "paid":
                    raise ApiError(409, "already_paid", "this bill is already paid")
                if bill["status"] == "cancelled":
                    raise ApiError(409, "bill_cancelled", "this bill was cancelled by the hospital")
                if bill["version"] != version:
                    raise ApiError(409, "bill_changed", "the bill changed since it was listed; list it again")
                if bill["status"] == "locked":
                    if not self._expired(conn, bill):
                        raise ApiError(409, "bill_locked", "this bill is being paid elsewhere; try again shortly")
                    released = self._release(conn, bill_id, bill["lock_key"], "lock_expired")
                used = conn.execute("SELECT 1 FROM insurance_settlements WHERE lock_key = ?", (payment_key,)).fetchone()
                if used is not None:
                    raise ApiError(422, "idempotency_key_reused", "this payment key already locked another bill")
                until = (_now() + timedelta(seconds=self.lock_ttl_s)).isoformat(timespec="milliseconds")
                conn.execute(
                    "UPDATE bills SET status = 'locked', lock_key = ?, locked_until = ?, updated_at = ? WHERE id = ?",
                    (payment_key, until, utc_now(), bill_id),
                )
                conn.execute(
                    "INSERT INTO insurance_settlements(bill_id, lock_key, scheme, status, created_at, updated_at)"
                    " VALUES (?, ?, ?, 'presettling', ?, ?)",
                    (bill_id, payment_key, scheme, utc_now(), utc_now()),
                )
                audit.append(
                    conn, f"kiosk:{kiosk_id}", "bill.locked", {"bill_id": bill_id, "until": until, "scheme": scheme}
                )
                lines = [
                    BillLine(r["code"], r["category"], r["amount_cents"])
                    for r in conn.execute(
                        "SELECT code, category, amount_cents FROM bill_items WHERE bill_id = ?", (bill_id,)
                    )
                ]
                bill_no = bill["bill_no"]
            if released:
                self._cancel_with_insurer(released)
            return 201, self._presettle(conn, bill_id, bill_no, payment_key, scheme, lines)

    def _presettle(
        self, conn: Conn, bill_id: int, bill_no: str, payment_key: str, scheme: str | None, lines: list[BillLine]
    ) -> dict[str, Any]:
        try:
            pre = self.insurance.presettle(bill_no=bill_no, scheme=scheme, lines=lines)
        except Exception as exc:  # any adapter failure, expected or not, must release the lock
            code = exc.code if isinstance(exc, InsuranceError) else "INSURER_ERROR"
            logger.exception("pre-settlement of bill %d failed (%s)", bill_id, code)
            with write_tx(conn):
                self._release(conn, bill_id, payment_key, "presettle_failed", failed=True)
            raise ApiError(
                502, "insurance_unavailable", f"the insurer could not pre-settle this bill ({code})"
            ) from None
        total = sum(line.amount_cents for line in lines)
        if pre.insurance_cents + pre.self_pay_cents != total or min(pre.insurance_cents, pre.self_pay_cents) < 0:
            # An adapter answer that does not add up is never booked.
            logger.error("bill %d: insurer split %s does not add up to %d", bill_id, pre, total)
            self._cancel_with_insurer(pre.ref)
            with write_tx(conn):
                self._release(conn, bill_id, payment_key, "presettle_inconsistent", failed=True)
            raise ApiError(502, "insurance_inconsistent", "the insurer's split does not add up to the bill")
        with write_tx(conn):
            conn.execute(
                "UPDATE insurance_settlements SET ref = ?, insurance_cents = ?, self_pay_cents = ?,"
                " status = 'presettled', detail_json = ?, updated_at = ? WHERE lock_key = ?",
                (pre.ref, pre.insurance_cents, pre.self_pay_cents, json.dumps(pre.detail), utc_now(), payment_key),
            )
            if pre.self_pay_cents == 0:
                # Fully covered: nothing for the patient to pay, so the lock settles the bill at once.
                self._mark_paid(conn, bill_id, payment_key)
        if pre.self_pay_cents == 0:
            self._settle_with_insurer(pre.ref, payment_key)
        view = self._view(conn, bill_id)
        logger.info(
            "bill %d locked: insurance %d + self-pay %d cents", bill_id, pre.insurance_cents, pre.self_pay_cents
        )
        return view

    def unlock(self, bill_id: int, payment_key: str) -> dict[str, Any]:
        """The patient gave up before paying. Refused while a payment under the key is unresolved."""
        ref = None
        with self.db.connection() as conn:
            with write_tx(conn):
                bill = conn.execute("SELECT status, lock_key FROM bills WHERE id = ?", (bill_id,)).fetchone()
                if bill is None:
                    raise ApiError(404, "bill_not_found", f"no bill {bill_id}")
                if bill["status"] == "locked" and bill["lock_key"] == payment_key:
                    if self._holding_payment(conn, payment_key):
                        raise ApiError(409, "payment_pending", "a payment for this bill is still being resolved")
                    ref = self._release(conn, bill_id, payment_key, "unlocked_by_kiosk")
            if ref:
                self._cancel_with_insurer(ref)
            return self._view(conn, bill_id)

    # -- the payment's side --------------------------------------------------------------------------

    def check_payable(self, conn: Conn, bill_id: int, payment_key: str, amount_cents: int) -> dict[str, Any]:
        """Inside the payment's write transaction, before its row is written and any provider called."""
        bill = conn.execute("SELECT * FROM bills WHERE id = ?", (bill_id,)).fetchone()
        if bill is None:
            raise ApiError(404, "bill_not_found", f"no bill {bill_id}")
        if bill["status"] == "paid":
            raise ApiError(409, "already_paid", "this bill is already paid")
        if bill["status"] != "locked" or bill["lock_key"] != payment_key:
            raise ApiError(409, "bill_not_locked", "lock the bill with this payment's key before paying")
        if datetime.fromisoformat(bill["locked_until"]) <= _now():
            raise ApiError(409, "bill_lock_expired", "the lock on this bill expired; lock it again")
        settlement = conn.execute(
            "SELECT self_pay_cents, status FROM insurance_settlements WHERE lock_key = ?", (payment_key,)
        ).fetchone()
        if settlement is None or settlement["status"] != "presettled":
            raise ApiError(409, "bill_not_locked", "the bill has no pre-settlement under this key")
        if amount_cents != settlement["self_pay_cents"]:
            raise ApiError(409, "amount_mismatch", f"the self-pay share is {settlement['self_pay_cents']} cents")
        return {"description": f"缴费-{bill['title_zh']}"[:120]}

    def on_payment_final(self, conn: Conn, bill_id: int, payment_key: str, status: str) -> str | None:
        """In the payment's final transaction; returns the pre-settlement ref to settle/cancel after commit."""
        if status == "SUCCESS":
            return self._mark_paid(conn, bill_id, payment_key)
        return self._release(conn, bill_id, payment_key, f"payment_{status.lower()}")

    def after_payment_final(self, ref: str | None, payment_key: str, status: str) -> None:
        """After the commit: tell the insurer (never inside a database transaction)."""
        if ref is None:
            return
        if status == "SUCCESS":
            self._settle_with_insurer(ref, payment_key)
        else:
            self._cancel_with_insurer(ref)

    # -- internals -----------------------------------------------------------------------------------

    def _view(self, conn: Conn, bill_id: int) -> dict[str, Any]:
        view = bill_view(conn, bill_id)
        assert view is not None
        return view

    def _holding_payment(self, conn: Conn, payment_key: str) -> bool:
        row = conn.execute(
            "SELECT 1 FROM payments WHERE idempotency_key = ? AND status IN (?, ?)",
            (payment_key, *HOLDING_PAYMENT_STATES),
        ).fetchone()
        return row is not None

    def _expired(self, conn: Conn, bill: Any) -> bool:
        if bill["locked_until"] is None or datetime.fromisoformat(bill["locked_until"]) > _now():
            return False
        return not self._holding_payment(conn, bill["lock_key"])

    def _release(self, conn: Conn, bill_id: int, lock_key: str, reason: str, *, failed: bool = False) -> str | None:
        conn.execute(
            "UPDATE bills SET status = 'unpaid', lock_key = NULL, locked_until = NULL, updated_at = ?"
            " WHERE id = ? AND status = 'locked' AND lock_key = ?",
            (utc_now(), bill_id, lock_key),
        )
        row = conn.execute(
            "UPDATE insurance_settlements SET status = ?, updated_at = ? WHERE lock_key = ?"
            " AND status IN ('presettling', 'presettled') RETURNING ref",
            ("failed" if failed else "cancelled", utc_now(), lock_key),
        ).fetchone()
        audit.append(conn, "server", "bill.released", {"bill_id": bill_id, "reason": reason})
        return row["ref"] if row is not None else None

    def _mark_paid(self, conn: Conn, bill_id: int, lock_key: str) -> str | None:
        conn.execute(
            "UPDATE bills SET status = 'paid', locked_until = NULL, updated_at = ? WHERE id = ? AND lock_key = ?",
            (utc_now(), bill_id, lock_key),
        )
        audit.append(conn, "server", "bill.paid", {"bill_id": bill_id})
        row = conn.execute("SELECT ref FROM insurance_settlements WHERE lock_key = ?", (lock_key,)).fetchone()
        return row["ref"] if row is not None else None

    def _settle_with_insurer(self, ref: str, lock_key: str) -> None:
        try:
            self.insurance.settle(ref)
        except Exception:
            # The patient has paid their share; the insurer's share is retried by staff, never lost.
            logger.exception("insurer settle of %s failed; stays 'presettled' for a retry", ref)
            return
        with self.db.connection() as conn, write_tx(conn):
            conn.execute(
                "UPDATE insurance_settlements SET status = 'settled', updated_at = ? WHERE lock_key = ?",
                (utc_now(), lock_key),
            )

    def _cancel_with_insurer(self, ref: str) -> None:
        try:
            self.insurance.cancel(ref)
        except Exception:
            logger.exception("insurer cancel of pre-settlement %s failed", ref)
