"""The prepaid account's operations: read the balance, top it up by payment code, pay bills from it.

Top-ups are payments (server/payments/service.py) whose purpose is the account: the same
idempotency, provider calls, resolver and crash recovery as any payment, and the ledger is
credited in the transaction that makes the payment SUCCESS (``ledger.credit_top_up``). Nothing
here talks to a provider.

Paying a bill from the account (``pay_bill``) moves no money outside the hospital, so it needs no
provider and no resolver: the bill is locked as for any payment (server/bills/), then one write
transaction checks the lock, debits the ledger and marks the bill paid. The insurer is told after
the commit, as for a paid-by-code bill.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any

from server import audit
from server.accounts import ledger
from server.db import Store
from server.dbapi import Conn, write_tx
from server.errors import ApiError
from server.payments.service import PaymentRequest, PaymentService, payment_view
from server.settings import ServerSettings

if TYPE_CHECKING:
    from server.bills.service import BillService

logger = logging.getLogger(__name__)


def top_up_view(conn: Conn, payment: Any) -> dict[str, Any]:
    """A top-up payment as the kiosk sees it: the payment's state and, once paid, the new balance."""
    view = payment_view(conn, payment)
    patient_id = int(payment["top_up_patient_id"])
    entry = conn.execute("SELECT balance_after_cents FROM account_entries WHERE payment_id = ?", (payment["id"],))
    credited = entry.fetchone()
    return {
        "idempotency_key": view["idempotency_key"],
        "status": view["status"],
        "error_code": view["error_code"],
        "message": view["message"],
        "patient_id": patient_id,
        "amount_cents": view["amount_cents"],
        "channel": view["channel"],
        "credited": credited is not None,
        # The balance right after this credit (stable on a replay), else the current one.
        "balance_cents": int(credited[0]) if credited is not None else ledger.balance(conn, patient_id),
    }


class AccountService:
    def __init__(
        self, db: Store, payments: PaymentService, bills: BillService | None, settings: ServerSettings
    ) -> None:
        self.db = db
        self.payments = payments
        self.bills = bills
        self.settings = settings

    # -- reading --------------------------------------------------------------------------------------

    def view(self, patient_id: int) -> dict[str, Any]:
        with self.db.connection() as conn:
            if not ledger.patient_exists(conn, patient_id):
                raise ApiError(404, "patient_not_found", f"no patient {patient_id}")
            return {
                "patient_id": patient_id,
                "balance_cents": ledger.balance(conn, patient_id),
                "entries": ledger.recent_entries(conn, patient_id),
                "top_up_min_cents": self.settings.top_up_min_cents,
                "top_up_max_cents": self.settings.top_up_max_cents,
            }

    # -- top-ups --------------------------------------------------------------------------------------

    def top_up(
        self, *, idempotency_key: str, patient_id: int, amount_cents: int, auth_code: str, kiosk_id: str
    ) -> tuple[int, dict[str, Any]]:
        """(201, view) for a new top-up, (200, view) for a retry; PENDING resolves in the background."""
        req = PaymentRequest(
            idempotency_key=idempotency_key,
            top_up_patient_id=patient_id,
            amount_cents=amount_cents,
            auth_code=auth_code,
            kiosk_id=kiosk_id,
        )
        status, _ = self.payments.create(req)
        view = self.top_up_status(idempotency_key)
        if view is None:  # the payment service said it exists under this key, as a top-up or not
            raise ApiError(422, "idempotency_key_reused", "this idempotency_key was used for another payment")
        return status, view

    def top_up_status(self, idempotency_key: str) -> dict[str, Any] | None:
        with self.db.connection() as conn:
            row = conn.execute("SELECT * FROM payments WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
            if row is None or row["top_up_patient_id"] is None:
                return None
            return top_up_view(conn, row)

    # -- paying a bill from the account ---------------------------------------------------------------

    @staticmethod
    def _bill_request_hash(bill_id: int, patient_id: int) -> str:
        return hashlib.sha256(json.dumps(["bill_payment", bill_id, patient_id]).encode()).hexdigest()

    def pay_bill(
        self,
        bill_id: int,
        *,
        idempotency_key: str,
        patient_id: int,
        version: int,
        verification: str,
        scheme: str | None,
        kiosk_id: str,
    ) -> tuple[int, dict[str, Any]]:
        """(201, view) when paid now, (200, view) for a retry with the same key.

        ``bill_id`` names the bill; if the key already locked a group of bills with it (the bills
        screen locks the whole selection to show the insurer's split), the whole group is paid,
        as a payment by code would pay it.
        """
        bills = self.bills
        if bills is None:
            raise ApiError(404, "bill_not_found", "bills are not served here")
        key = idempotency_key
        request_hash = self._bill_request_hash(bill_id, patient_id)
        with self.db.connection() as conn:
            replay = self._replay(conn, key, request_hash, bill_id)
            if replay is not None:
                return 200, replay
            self._refuse_code_payment_key(conn, key)
            group = bills.group_view(conn, key)
        if group is None:
            # Not locked under this key yet: lock it now (version checked, insurer pre-settles).
            bills.lock(
                bill_id, payment_key=key, patient_id=patient_id, version=version, scheme=scheme, kiosk_id=kiosk_id
            )
        elif bill_id not in {b["bill_id"] for b in group["bills"]}:
            raise ApiError(422, "idempotency_key_reused", "this key locked other bills")
        refs: list[str] = []
        with self.db.connection() as conn:
            with write_tx(conn):
                replay = self._replay(conn, key, request_hash, bill_id)  # a twin request may have won the race
                if replay is not None:
                    return 200, replay
                self._refuse_code_payment_key(conn, key)
                group = bills.group_view(conn, key)
                if group is None or group["patient_id"] != patient_id:
                    raise ApiError(404, "bill_not_found", f"no bill {bill_id} for this patient")
                if group["status"] == "paid":
                    # Fully covered by insurance: the lock itself paid it, nothing to take from the account.
                    return 201, self._paid_view(conn, key, bill_id, group, ledger.balance(conn, patient_id))
                self_pay = int(group["self_pay_cents"] or 0)
                bills.check_payable(conn, bill_id, key, self_pay)  # locked, pre-settled, not expired
                bill_ids = [b["bill_id"] for b in group["bills"]]
                balance = ledger.post(
                    conn,
                    patient_id=patient_id,
                    kind="bill_payment",
                    amount_cents=-self_pay,
                    key=key,
                    request_hash=request_hash,
                    actor=f"kiosk:{kiosk_id}",
                    bill_id=bill_id,
                    verification=verification,
                    kiosk_id=kiosk_id,
                    note="bills " + ",".join(map(str, bill_ids)),
                )
                refs = list(bills.on_payment_final(conn, bill_id, key, "SUCCESS") or [])
                audit.append(
                    conn,
                    f"kiosk:{kiosk_id}",
                    "bill.paid_from_account",
                    {"bill_ids": bill_ids, "amount_cents": self_pay, "verification": verification},
                )
            bills.after_payment_final(refs, key, "SUCCESS")  # the insurer, after the commit
            group = bills.group_view(conn, key)
            assert group is not None
            return 201, self._paid_view(conn, key, bill_id, group, balance)

    def _replay(self, conn: Conn, key: str, request_hash: str, bill_id: int) -> dict[str, Any] | None:
        entry = ledger.entry_by_key(conn, key)
        if entry is None:
            return None
        if entry["kind"] != "bill_payment" or entry["request_hash"] != request_hash:
            raise ApiError(422, "idempotency_key_reused", "this idempotency_key was used for another account operation")
        assert self.bills is not None
        group = self.bills.group_view(conn, key)
        assert group is not None  # the entry was written with the group's bills paid, in one transaction
        return self._paid_view(conn, key, bill_id, group, int(entry["balance_after_cents"]))

    @staticmethod
    def _refuse_code_payment_key(conn: Conn, key: str) -> None:
        if conn.execute("SELECT 1 FROM payments WHERE idempotency_key = ?", (key,)).fetchone() is not None:
            # A payment by code under this key owns the lock's outcome; the account must not race it.
            raise ApiError(422, "idempotency_key_reused", "this idempotency_key was used for a payment by code")

    @staticmethod
    def _paid_view(conn: Conn, key: str, bill_id: int, group: dict[str, Any], balance: int) -> dict[str, Any]:
        bill = next(b for b in group["bills"] if b["bill_id"] == bill_id)
        entry = ledger.entry_by_key(conn, key)
        return {
            "idempotency_key": key,
            "bill_id": bill_id,
            "bill_no": bill["bill_no"],
            "bill_ids": [b["bill_id"] for b in group["bills"]],
            "bill_status": bill["status"],
            "amount_cents": -int(entry["amount_cents"]) if entry is not None else 0,
            "insurance_cents": group["insurance_cents"],
            "balance_cents": balance,
        }
