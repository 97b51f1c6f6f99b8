"""Lock-then-pay for bills.

A payment pays a **lock group**: every bill locked under the payment's idempotency key. The patient
selects one or several bills and pays once; each step is safe to retry:

1. **Lock** (``lock_group``; ``lock`` is the group of one): the kiosk names the idempotency key its
   payment will use and the bills with the versions it listed. In one transaction every bill is
   checked (``already_paid``, ``bill_cancelled``, ``bill_changed``, ``bill_locked`` - all or none)
   and locked to that key for ``bill_lock_ttl_s``; then each is pre-settled with the insurer, which
   splits it into the insurance share and the self-pay share. If any pre-settlement fails the
   whole group is released. The same key with the same bills gets the same answer again; with
   other bills, 422 ``idempotency_key_reused``.
2. **Pay** the group's self-pay share (the sum over its bills) through ``POST /payments`` with
   ``bill_id`` = any bill of the group and that key (server/payments/service.py). A payment for a
   group that is not (or no longer wholly) locked, after the lock expired, or for another amount,
   is refused before any provider is called.
3. The payment's final state settles or releases the whole group (``on_payment_final``, inside the
   payment's own transaction): SUCCESS -> every bill paid and its pre-settlement settled; FAILED or
   REVERSED -> every bill unlocked and its pre-settlement cancelled.

Why one payment for several bills rather than one per bill: the patient scans once, and there is
never a half-paid selection to explain (two paid, the third timed out). Pre-settlement stays per
bill, so each bill keeps its own insurer reference and its shares on its own view.

A lock whose time ran out is released lazily, by the next lock attempt on one of its bills, and
only when no payment under its key is PENDING or SUCCESS: an unclear payment keeps its bills until
it is resolved. Taking one bill over releases the old key's whole group (it can no longer be paid
as listed). A group whose self-pay share is 0 (fully covered) is paid by the lock itself.
Insurer calls happen outside database transactions; each is recorded in ``insurance_settlements``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
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
            "SELECT scheme, insurance_cents, self_pay_cents, status FROM insurance_settlements"
            " WHERE lock_key = ? AND bill_id = ?",
            (row["lock_key"], bill_id),
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


MAX_GROUP_BILLS = 20  # one kiosk screen of bills; a larger selection is a cashier's job


@dataclass(frozen=True)
class _ToPresettle:
    bill_id: int
    bill_no: str
    lines: list[BillLine]


def _group_status(settlements: Sequence[Any], bills: Sequence[dict[str, Any]], payment_key: str) -> str:
    """paid | locked | presettling | released: where a lock group stands as a whole."""
    if all(b["status"] == "paid" and b["payment_key"] == payment_key for b in bills):
        return "paid"
    held = all(b["status"] == "locked" and b["payment_key"] == payment_key for b in bills)
    if held and all(s["status"] == "presettled" for s in settlements):
        return "locked"
    if held and all(s["status"] in ("presettling", "presettled") for s in settlements):
        return "presettling"
    return "released"


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

    def group(self, payment_key: str) -> dict[str, Any]:
        """The lock group of ``payment_key``: its bills, shares and status."""
        with self.db.connection() as conn:
            view = self.group_view(conn, payment_key)
        if view is None:
            raise ApiError(404, "lock_not_found", "no bills were locked under this payment key")
        return view

    def group_view(self, conn: Conn, payment_key: str) -> dict[str, Any] | None:
        settlements = conn.execute(
            "SELECT bill_id, scheme, insurance_cents, self_pay_cents, status FROM insurance_settlements"
            " WHERE lock_key = ? ORDER BY bill_id",
            (payment_key,),
        ).fetchall()
        if not settlements:
            return None
        bills = [self._view(conn, s["bill_id"]) for s in settlements]
        status = _group_status(settlements, bills, payment_key)
        shares_known = all(s["self_pay_cents"] is not None for s in settlements)
        return {
            "payment_key": payment_key,
            "patient_id": bills[0]["patient_id"],
            "status": status,
            "locked_until": min(b["locked_until"] for b in bills) if status == "locked" else None,
            "insurance_scheme": settlements[0]["scheme"],
            "total_cents": sum(b["total_cents"] for b in bills),
            "insurance_cents": sum(s["insurance_cents"] for s in settlements) if shares_known else None,
            "self_pay_cents": sum(s["self_pay_cents"] for s in settlements) if shares_known else None,
            # each bill's own shares, from its own pre-settlement (bill_view shows them only while held)
            "bills": [
                {**b, "insurance_cents": s["insurance_cents"], "self_pay_cents": s["self_pay_cents"]}
                for b, s in zip(bills, settlements, strict=True)
            ],
        }

    # -- lock ----------------------------------------------------------------------------------------

    def lock(
        self, bill_id: int, *, payment_key: str, patient_id: int, version: int, scheme: str | None, kiosk_id: str
    ) -> tuple[int, dict[str, Any]]:
        """One bill: (201, bill view) for a new lock, (200, bill view) for a retry with the same key."""
        status, group = self.lock_group(
            payment_key=payment_key, patient_id=patient_id, bills=[(bill_id, version)], scheme=scheme, kiosk_id=kiosk_id
        )
        return status, self.get(bill_id) if status == 200 else group["bills"][0]

    def lock_group(
        self,
        *,
        payment_key: str,
        patient_id: int,
        bills: Sequence[tuple[int, int]],
        scheme: str | None,
        kiosk_id: str,
    ) -> tuple[int, dict[str, Any]]:
        """Lock ``bills`` ((bill_id, version) pairs) under one key, all or none, and pre-settle each.

        (201, group view) for a new lock, (200, group view) for a retry with the same key and bills.
        """
        wanted = dict(bills)
        if not wanted or len(wanted) != len(bills) or len(wanted) > MAX_GROUP_BILLS:
            raise ApiError(422, "invalid_request", f"name 1 to {MAX_GROUP_BILLS} different bills")
        released: list[str] = []
        with self.db.connection() as conn:
            with write_tx(conn):
                replay = self._replay(conn, payment_key, set(wanted))
                if replay is not None:
                    return 200, replay
                old_keys: set[str] = set()
                for bill_id in sorted(wanted):
                    old = self._check_lockable(conn, bill_id, patient_id, wanted[bill_id])
                    if old is not None:
                        old_keys.add(old)
                for old in sorted(old_keys):
                    released += self._release_group(conn, old, "lock_expired")
                until = (_now() + timedelta(seconds=self.lock_ttl_s)).isoformat(timespec="milliseconds")
                todo = [self._lock_one(conn, bill_id, payment_key, until, scheme) for bill_id in sorted(wanted)]
                audit.append(
                    conn,
                    f"kiosk:{kiosk_id}",
                    "bill.locked",
                    {"bill_ids": sorted(wanted), "until": until, "scheme": scheme},
                )
            for ref in released:
                self._cancel_with_insurer(ref)
            return 201, self._presettle_group(conn, payment_key, scheme, todo)

    def _replay(self, conn: Conn, payment_key: str, wanted: set[int]) -> dict[str, Any] | None:
        """The group's view when this key already locked exactly these bills; None for a new key."""
        rows = conn.execute("SELECT bill_id FROM insurance_settlements WHERE lock_key = ?", (payment_key,))
        locked = {r[0] for r in rows}
        if not locked:
            return None
        if locked != wanted:
            raise ApiError(422, "idempotency_key_reused", "this payment key already locked other bills")
        view = self.group_view(conn, payment_key)
        assert view is not None
        if view["status"] == "released":
            raise ApiError(409, "lock_released", "this lock was given up (payment failed, cancelled or expired)")
        return view

    def _check_lockable(self, conn: Conn, bill_id: int, patient_id: int, version: int) -> str | None:
        """Refuse a bill that cannot be locked; the key of an expired lock on it to release, if any."""
        bill = conn.execute("SELECT * FROM bills WHERE id = ?", (bill_id,)).fetchone()
        if bill is None or bill["patient_id"] != patient_id:
            # Someone else's bill looks exactly like a missing one.
            raise ApiError(404, "bill_not_found", f"no bill {bill_id} for this patient")
        if bill["status"] == "paid":
            raise ApiError(409, "already_paid", f"bill {bill_id} is already paid")
        if bill["status"] == "cancelled":
            raise ApiError(409, "bill_cancelled", f"bill {bill_id} was cancelled by the hospital")
        if bill["version"] != version:
            raise ApiError(409, "bill_changed", f"bill {bill_id} changed since it was listed; list it again")
        if bill["status"] == "locked":
            if not self._expired(conn, bill):
                raise ApiError(409, "bill_locked", f"bill {bill_id} is being paid elsewhere; try again shortly")
            return str(bill["lock_key"])
        return None

    def _lock_one(self, conn: Conn, bill_id: int, payment_key: str, until: str, scheme: str | None) -> _ToPresettle:
        conn.execute(
            "UPDATE bills SET status = 'locked', lock_key = ?, locked_until = ?, updated_at = ? WHERE id = ?",
            (payment_key, until, utc_now(), bill_id),
        )
        conn.execute(
            "INSERT INTO insurance_settlements(bill_id, lock_key, scheme, status, created_at, updated_at)"
            " VALUES (?, ?, ?, 'presettling', ?, ?)",
            (bill_id, payment_key, scheme, utc_now(), utc_now()),
        )
        bill_no = conn.execute("SELECT bill_no FROM bills WHERE id = ?", (bill_id,)).fetchone()[0]
        lines = [
            BillLine(r["code"], r["category"], r["amount_cents"])
            for r in conn.execute("SELECT code, category, amount_cents FROM bill_items WHERE bill_id = ?", (bill_id,))
        ]
        return _ToPresettle(bill_id, bill_no, lines)

    def _presettle_group(
        self, conn: Conn, payment_key: str, scheme: str | None, todo: list[_ToPresettle]
    ) -> dict[str, Any]:
        for item in todo:
            self._presettle_one(conn, payment_key, scheme, item)
        refs: list[str] = []
        with write_tx(conn):
            self_pay = conn.execute(
                "SELECT sum(self_pay_cents) FROM insurance_settlements WHERE lock_key = ?", (payment_key,)
            ).fetchone()[0]
            if self_pay == 0:
                # Fully covered: nothing for the patient to pay, so the lock settles the bills at once.
                refs = self._mark_group_paid(conn, payment_key)
        for ref in refs:
            self._settle_with_insurer(ref, payment_key)
        view = self.group_view(conn, payment_key)
        assert view is not None
        logger.info(
            "bills %s locked: insurance %s + self-pay %s cents",
            [t.bill_id for t in todo],
            view["insurance_cents"],
            view["self_pay_cents"],
        )
        return view

    def _presettle_one(self, conn: Conn, payment_key: str, scheme: str | None, item: _ToPresettle) -> None:
        """Pre-settle one bill of the group and record its ref at once; on failure release the group."""
        try:
            pre = self.insurance.presettle(bill_no=item.bill_no, scheme=scheme, lines=item.lines)
        except Exception as exc:  # any adapter failure, expected or not, must release the lock
            code = exc.code if isinstance(exc, InsuranceError) else "INSURER_ERROR"
            logger.exception("pre-settlement of bill %d failed (%s)", item.bill_id, code)
            self._abandon(conn, payment_key, "presettle_failed")
            raise ApiError(
                502, "insurance_unavailable", f"the insurer could not pre-settle bill {item.bill_id} ({code})"
            ) from None
        total = sum(line.amount_cents for line in item.lines)
        if pre.insurance_cents + pre.self_pay_cents != total or min(pre.insurance_cents, pre.self_pay_cents) < 0:
            # An adapter answer that does not add up is never booked.
            logger.error("bill %d: insurer split %s does not add up to %d", item.bill_id, pre, total)
            self._cancel_with_insurer(pre.ref)
            self._abandon(conn, payment_key, "presettle_inconsistent")
            raise ApiError(502, "insurance_inconsistent", "the insurer's split does not add up to the bill")
        with write_tx(conn):
            conn.execute(
                "UPDATE insurance_settlements SET ref = ?, insurance_cents = ?, self_pay_cents = ?,"
                " status = 'presettled', detail_json = ?, updated_at = ? WHERE lock_key = ? AND bill_id = ?",
                (
                    pre.ref,
                    pre.insurance_cents,
                    pre.self_pay_cents,
                    json.dumps(pre.detail),
                    utc_now(),
                    payment_key,
                    item.bill_id,
                ),
            )

    def _abandon(self, conn: Conn, payment_key: str, reason: str) -> None:
        """Release a group whose pre-settlement failed, and cancel what the insurer did pre-settle."""
        with write_tx(conn):
            refs = self._release_group(conn, payment_key, reason, failed=True)
        for ref in refs:
            self._cancel_with_insurer(ref)

    # -- unlock --------------------------------------------------------------------------------------

    def unlock(self, bill_id: int, payment_key: str) -> dict[str, Any]:
        """The patient gave up before paying: releases the bill's whole lock group under the key.

        Refused while a payment under the key is unresolved.
        """
        with self.db.connection() as conn:
            with write_tx(conn):
                bill = conn.execute("SELECT status, lock_key FROM bills WHERE id = ?", (bill_id,)).fetchone()
                if bill is None:
                    raise ApiError(404, "bill_not_found", f"no bill {bill_id}")
                refs = self._unlock_locked(conn, payment_key) if bill["lock_key"] == payment_key else []
            for ref in refs:
                self._cancel_with_insurer(ref)
            return self._view(conn, bill_id)

    def unlock_group(self, payment_key: str) -> dict[str, Any]:
        """Give up the whole lock group of ``payment_key``; its view afterwards (released, or paid)."""
        with self.db.connection() as conn:
            with write_tx(conn):
                refs = self._unlock_locked(conn, payment_key)
            for ref in refs:
                self._cancel_with_insurer(ref)
            view = self.group_view(conn, payment_key)
        if view is None:
            raise ApiError(404, "lock_not_found", "no bills were locked under this payment key")
        return view

    def _unlock_locked(self, conn: Conn, payment_key: str) -> list[str]:
        if self._holding_payment(conn, payment_key):
            raise ApiError(409, "payment_pending", "a payment for these bills is still being resolved")
        return self._release_group(conn, payment_key, "unlocked_by_kiosk")

    # -- the payment's side --------------------------------------------------------------------------

    def check_payable(self, conn: Conn, bill_id: int, payment_key: str, amount_cents: int) -> dict[str, Any]:
        """Inside the payment's write transaction, before its row is written and any provider called.

        ``bill_id`` is any bill of the group; the payment pays the whole group locked under its key.
        """
        bill = conn.execute("SELECT * FROM bills WHERE id = ?", (bill_id,)).fetchone()
        if bill is None:
            raise ApiError(404, "bill_not_found", f"no bill {bill_id}")
        if bill["status"] == "paid":
            raise ApiError(409, "already_paid", "this bill is already paid")
        if bill["status"] != "locked" or bill["lock_key"] != payment_key:
            raise ApiError(409, "bill_not_locked", "lock the bill with this payment's key before paying")
        settlements = conn.execute(
            "SELECT bill_id, self_pay_cents, status FROM insurance_settlements WHERE lock_key = ?", (payment_key,)
        ).fetchall()
        group = conn.execute(
            "SELECT id, status, locked_until, title_zh FROM bills WHERE lock_key = ? ORDER BY id", (payment_key,)
        ).fetchall()
        held = {r["id"] for r in group if r["status"] == "locked"}
        if any(s["status"] != "presettled" for s in settlements) or held != {s["bill_id"] for s in settlements}:
            # part of the selection was released (e.g. taken over after its lock expired)
            raise ApiError(409, "bill_not_locked", "these bills are no longer locked together; lock them again")
        if any(datetime.fromisoformat(r["locked_until"]) <= _now() for r in group):
            raise ApiError(409, "bill_lock_expired", "the lock on these bills expired; lock them again")
        self_pay = sum(int(s["self_pay_cents"]) for s in settlements)
        if amount_cents != self_pay:
            raise ApiError(409, "amount_mismatch", f"the self-pay share is {self_pay} cents")
        title = group[0]["title_zh"]
        description = f"缴费-{title}" if len(group) == 1 else f"缴费-{title}等{len(group)}项"
        return {"description": description[:120]}

    def on_payment_final(self, conn: Conn, bill_id: int, payment_key: str, status: str) -> list[str]:
        """In the payment's final transaction; the pre-settlement refs to settle/cancel after commit."""
        if status == "SUCCESS":
            return self._mark_group_paid(conn, payment_key)
        return self._release_group(conn, payment_key, f"payment_{status.lower()}")

    def after_payment_final(self, refs: Sequence[str] | None, payment_key: str, status: str) -> None:
        """After the commit: tell the insurer (never inside a database transaction)."""
        for ref in refs or ():
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

    def _release_group(self, conn: Conn, lock_key: str, reason: str, *, failed: bool = False) -> list[str]:
        """Unlock every bill still locked under ``lock_key``; the refs of its pre-settlements to cancel."""
        bill_ids = [
            r[0] for r in conn.execute("SELECT id FROM bills WHERE lock_key = ? AND status = 'locked'", (lock_key,))
        ]
        conn.execute(
            "UPDATE bills SET status = 'unpaid', lock_key = NULL, locked_until = NULL, updated_at = ?"
            " WHERE lock_key = ? AND status = 'locked'",
            (utc_now(), lock_key),
        )
        rows = conn.execute(
            "UPDATE insurance_settlements SET status = ?, updated_at = ? WHERE lock_key = ?"
            " AND status IN ('presettling', 'presettled') RETURNING ref",
            ("failed" if failed else "cancelled", utc_now(), lock_key),
        ).fetchall()
        audit.append(conn, "server", "bill.released", {"bill_ids": bill_ids, "reason": reason})
        return [r["ref"] for r in rows if r["ref"] is not None]

    def _mark_group_paid(self, conn: Conn, lock_key: str) -> list[str]:
        bill_ids = [
            r[0] for r in conn.execute("SELECT id FROM bills WHERE lock_key = ? AND status = 'locked'", (lock_key,))
        ]
        if not bill_ids:
            # Cannot happen while an unresolved payment holds its lock; if it ever does, staff must see it.
            logger.error("payment %s succeeded but no bill is locked under it; needs reconciliation", lock_key)
        conn.execute(
            "UPDATE bills SET status = 'paid', locked_until = NULL, updated_at = ?"
            " WHERE lock_key = ? AND status = 'locked'",
            (utc_now(), lock_key),
        )
        audit.append(conn, "server", "bill.paid", {"bill_ids": bill_ids})
        rows = conn.execute(
            "SELECT ref FROM insurance_settlements WHERE lock_key = ? AND status = 'presettled'", (lock_key,)
        ).fetchall()
        return [r["ref"] for r in rows if r["ref"] is not None]

    def _settle_with_insurer(self, ref: str, lock_key: str) -> None:
        try:
            self.insurance.settle(ref)
        except Exception:
            # The patient has paid their share; the insurer's share is retried by staff, never lost.
            logger.exception("insurer settle of %s failed; stays 'presettled' for a retry", ref)
            return
        with self.db.connection() as conn, write_tx(conn):
            conn.execute(
                "UPDATE insurance_settlements SET status = 'settled', updated_at = ? WHERE lock_key = ? AND ref = ?",
                (utc_now(), lock_key, ref),
            )

    def _cancel_with_insurer(self, ref: str) -> None:
        try:
            self.insurance.cancel(ref)
        except Exception:
            logger.exception("insurer cancel of pre-settlement %s failed", ref)
