"""Runs the bill payment flow's commands in a worker; every money step journalled first.

One journal transaction (kind ``bill_payment``) per session. Its ``payment_key`` is the key of
the current lock, which is also the key of the payment that pays it: it is written BEFORE the
lock request and before every payment request, so after a crash the row names the attempt in
flight. Unclear answers are followed by key (``pay_until_final``; the QR payment's own status),
never guessed. Offline, nothing here can work: the patient is sent to the cashier window.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from kiosk_app.features.base import FeatureService, Progress, ServiceParts
from kiosk_app.features.base import Outcome as Applied
from kiosk_app.features.bills.flow import (
    STALE,
    CancelQr,
    CreateQr,
    LoadBills,
    LockBills,
    PayByCode,
    PayFromAccount,
    PrintBillReceipt,
    UnlockBills,
    WatchQr,
    refusal_key,
)
from kiosk_app.features.bills.receipt import bill_receipt
from kiosk_app.features.payment import PayOutcome, pay_until_final
from kiosk_app.services.receipts import print_once
from offline_cache import journal as J
from sync.client import (
    BillLock,
    BusinessError,
    QrPayment,
    ServerError,
    ServerTimeout,
    ServerUnavailable,
)

log = logging.getLogger(__name__)

# Journal states of a bill payment besides the payment ones (offline_cache/journal.py).
LOCKING = "locking"  # lock key stored, lock request about to be sent
LOCKED = "locked"  # the bills are locked and pre-settled; nothing charged yet
LOCK_REFUSED = "lock_refused"

PRESETTLE_POLLS = 5
EXPIRY_MARGIN_S = 2.0  # a replayed lock still being pre-settled by its first request: ask again


class BillsService(FeatureService):
    def __init__(self, parts: ServiceParts, *, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(parts.finder)
        self.parts = parts
        self.client = parts.client
        self.journal = parts.journal
        self.offline = parts.offline
        self.sleep = sleep

    def run(self, cmd: object, progress: Progress) -> Applied:
        match cmd:
            case LoadBills(patient_id):
                return self._load(patient_id)
            case LockBills():
                return self._lock(cmd)
            case UnlockBills(txn_id, key):
                return self._unlock(txn_id, key)
            case PayByCode():
                return self._pay_by_code(cmd, progress)
            case CreateQr():
                return self._create_qr(cmd)
            case WatchQr():
                return self._watch_qr(cmd)
            case CancelQr(txn_id, key):
                return self._cancel_qr(txn_id, key)
            case PayFromAccount():
                return self._pay_from_account(cmd)
            case PrintBillReceipt():
                return self._print(cmd)
        raise TypeError(f"unknown command {cmd!r}")

    # ---- the offline policy: bills need the server (and payments the provider)

    @property
    def _offline_now(self) -> bool:
        return self.offline is not None and bool(self.offline.uploader.offline)

    def _unreachable(self, err: ServerError) -> None:
        if self.offline is not None:
            self.offline.uploader.note_unreachable(err.code)

    # ---- list, lock, unlock

    def _load(self, patient_id: int) -> Applied:
        if self._offline_now:
            log.info("offline: bills cannot be listed; patient sent to the cashier")
            return lambda f: f.offline()
        try:
            bills = self.client.list_bills(patient_id)
        except (ServerUnavailable, ServerTimeout) as err:
            self._unreachable(err)
            return lambda f: f.offline()
        log.info("patient %d has %d open bill(s)", patient_id, len(bills))
        return lambda f: f.bills_loaded(bills)

    def _lock(self, cmd: LockBills) -> Applied:
        p = cmd.patient
        if self.journal.get(cmd.txn_id) is None:
            masked = f"{p.name_masked} {p.id_masked}"
            self.journal.create(cmd.txn_id, "bill_payment", patient_masked=masked, patient_ref=str(p.patient_id))
        bills = [b for b, _ in cmd.selection]
        self.journal.update(cmd.txn_id, LOCKING, f"lock {cmd.key}", payment_key=cmd.key, details={"bills": bills})
        try:
            lock = self._lock_once(cmd)
        except BusinessError as err:
            self.journal.update(cmd.txn_id, LOCK_REFUSED, err.code, error_code=err.code)
            if err.code in STALE:
                fresh = self.client.list_bills(p.patient_id)
                code = err.code
                return lambda f: f.selection_stale(code, fresh)
            key = refusal_key(err.code)
            return lambda f: f.lock_refused(key)
        except ServerUnavailable as err:
            self._unreachable(err)
            self.journal.update(cmd.txn_id, LOCK_REFUSED, "server unreachable", error_code=err.code)
            return lambda f: f.offline()
        except ServerError as err:
            if err.code not in ("insurance_unavailable", "insurance_inconsistent"):
                raise
            # The insurer could not pre-settle: the server released the bills again.
            self.journal.update(cmd.txn_id, LOCK_REFUSED, err.code, error_code=err.code)
            return lambda f: f.lock_refused("bills.insurance_unavailable")
        self.journal.update(
            cmd.txn_id,
            LOCKED,
            f"self-pay {lock.self_pay_cents}",
            amount_cents=lock.self_pay_cents,
            details={"bills": bills, "total": lock.total_cents, "insurance": lock.insurance_cents},
        )
        return lambda f: f.locked(lock)

    def _lock_once(self, cmd: LockBills) -> BillLock:
        args = (cmd.key, cmd.patient.patient_id, list(cmd.selection), cmd.scheme)
        try:
            lock = self.client.lock_bills(*args)
        except ServerTimeout:
            # Unknown whether it locked: the same key again is answered with the same lock.
            lock = self.client.lock_bills(*args)
        for _ in range(PRESETTLE_POLLS):
            if lock.status != "presettling":
                break
            self.sleep(self.parts.pay.poll_interval_s if self.parts.pay else 1.0)
            lock = self.client.bill_lock(cmd.key) or lock
        return lock

    def _unlock(self, txn_id: str, key: str) -> Applied:
        try:
            self.client.unlock_bills(key)
        except ServerError as err:
            # Never locked, a payment still settling, or no network: the lock then runs out by itself
            # (bill_lock_ttl_s). Nothing on screen depends on it.
            log.info("unlock of %s not done: %s", key, err.code)
            return lambda f: []
        row = self.journal.get(txn_id)
        if row is not None and row["payment_key"] == key and row["state"] in (LOCKING, LOCKED, LOCK_REFUSED):
            self.journal.update(txn_id, J.CANCELLED, "bills released by the patient or a timeout")
        return lambda f: []

    # ---- pay by code

    def _pay_by_code(self, cmd: PayByCode, progress: Progress) -> Applied:
        lock = cmd.lock
        if self._offline_now:
            log.info("offline: payment by code refused, patient sent to the cashier window")
            return lambda f: f.pay_finished(PayOutcome("NOT_SENT"))
        amount = lock.self_pay_cents or 0
        bill_id = lock.bills[0].bill_id
        outcome = pay_until_final(
            journal=self.journal,
            txn_id=cmd.txn_id,
            key=lock.payment_key,
            amount_cents=amount,
            send=lambda: self.client.pay_bill(lock.payment_key, bill_id, amount, cmd.auth_code),
            query=lambda: self.client.payment_status(lock.payment_key),
            timings=self.parts.pay,
            progress=lambda answer: progress(lambda f: f.pay_progress(answer)),
            unreachable=self._unreachable,
            sleep=self.sleep,
        )
        return lambda f: f.pay_finished(outcome)

    # ---- a QR code the patient scans

    def _create_qr(self, cmd: CreateQr) -> Applied:
        lock, key = cmd.lock, cmd.lock.payment_key
        if self._offline_now:
            return lambda f: f.qr_lost(True)
        amount = lock.self_pay_cents or 0
        self.journal.update(cmd.txn_id, J.PAYING, f"qr {cmd.provider} {key}", payment_key=key, amount_cents=amount)
        create = lambda: self.client.create_qr_payment(key, amount, cmd.provider, bill_id=lock.bills[0].bill_id)  # noqa: E731
        try:
            qr = create()
        except BusinessError as err:
            self.journal.update(cmd.txn_id, J.PAYMENT_FAILED, err.code, payment_status="REFUSED", error_code=err.code)
            code = err.code
            return lambda f: f.qr_refused(code)
        except ServerUnavailable as err:
            self._unreachable(err)
            self.journal.update(cmd.txn_id, J.PAYMENT_FAILED, "server unreachable", payment_status="NOT_SENT")
            return lambda f: f.qr_lost(True)
        except ServerError as err:
            found = self._recover_qr(key, create, err)
            if found is None:
                # No code was ever shown, so nothing can have been paid with it; make sure it is closed.
                self._close_quietly(key)
                self.journal.update(cmd.txn_id, J.PAYMENT_FAILED, "no QR code shown", payment_status="NOT_SENT")
                return lambda f: f.qr_lost(True)
            qr = found
        self._journal_qr(cmd.txn_id, qr)
        left = self._seconds_left(qr)
        return lambda f: f.qr_update(qr, left)

    def _seconds_left(self, qr: QrPayment) -> float | None:
        expires = _timestamp(qr.expires_at)
        return None if expires is None else expires - self.client.server_now()

    def _recover_qr(self, key: str, create: Callable[[], QrPayment], err: ServerError) -> QrPayment | None:
        """After an unclear create: what the server has under the key (resent if it never saw it)."""
        log.info("QR payment %s: create unclear (%s); asking by key", key, err.code)
        try:
            found = self.client.qr_payment_status(key)
            return found if found is not None else create()
        except ServerError as again:
            log.info("QR payment %s: still no answer (%s)", key, again.code)
            return None

    def _close_quietly(self, key: str) -> None:
        try:
            self.client.cancel_payment(key)
        except ServerError as err:  # the server closes an unshown code at its expiry anyway
            log.info("QR payment %s: close not sent (%s)", key, err.code)

    def _watch_qr(self, cmd: WatchQr) -> Applied:
        qr, key = cmd.qr, cmd.qr.idempotency_key
        interval = self.parts.pay.poll_interval_s if self.parts.pay else 1.0
        grace = self.parts.pay.deadline_s if self.parts.pay else 90.0
        self.sleep(interval)
        expires = _timestamp(qr.expires_at)
        now = self.client.server_now()
        try:
            latest = self.client.qr_payment_status(key)
            if latest is not None and not latest.is_final and expires is not None and now >= expires + EXPIRY_MARGIN_S:
                # The code's time is up and the server has not closed it yet (its resolver normally does,
                # at the expiry): close it now. The margin covers the kiosk's estimate of server time.
                latest = self.client.cancel_payment(key)
        except ServerError as err:
            log.info("QR payment %s: status unknown (%s)", key, err.code)
            latest = None
        if latest is None:
            if expires is not None and now >= expires + grace:
                # Long past the code's expiry without an answer: the server settles it (closes or keeps it).
                self.journal.update(cmd.txn_id, J.PAYMENT_UNKNOWN, "kiosk deadline", payment_status="UNKNOWN")
                return lambda f: f.qr_lost(False)
            same_left = self._seconds_left(qr)
            return lambda f: f.qr_update(qr, same_left)
        self._journal_qr(cmd.txn_id, latest)
        left = self._seconds_left(latest)
        return lambda f: f.qr_update(latest, left)

    def _cancel_qr(self, txn_id: str, key: str) -> Applied:
        try:
            result = self.client.cancel_payment(key)
        except ServerError as err:
            log.info("QR payment %s: cancel not confirmed (%s)", key, err.code)
            return lambda f: f.qr_cancel_failed()
        self._journal_qr(txn_id, result)
        return lambda f: f.qr_update(result)

    def _journal_qr(self, txn_id: str, qr: QrPayment) -> None:
        if not qr.is_final:
            row = self.journal.get(txn_id)
            if row is None or row["state"] != J.PAYMENT_PENDING:
                self.journal.update(txn_id, J.PAYMENT_PENDING, qr.qr_state or "", payment_status="PENDING")
            return
        state = J.PAID if qr.status == "SUCCESS" else J.PAYMENT_FAILED
        self.journal.update(txn_id, state, qr.error_code or "", payment_status=qr.status, error_code=qr.error_code)

    # ---- the prepaid account

    def _pay_from_account(self, cmd: PayFromAccount) -> Applied:
        lock, key = cmd.lock, cmd.lock.payment_key
        amount = lock.self_pay_cents or 0
        self.journal.update(cmd.txn_id, J.PAYING, f"account {key}", payment_key=key, amount_cents=amount)
        first = lock.bills[0]
        try:
            paid = self.client.pay_bill_from_account(
                key, first.bill_id, cmd.patient_id, first.version, "face", insurance_scheme=lock.insurance_scheme
            )
        except BusinessError as err:
            self.journal.update(cmd.txn_id, J.PAYMENT_FAILED, err.code, payment_status="REFUSED", error_code=err.code)
            if err.code in STALE:
                fresh = self.client.list_bills(cmd.patient_id)
                code = err.code
                return lambda f: f.selection_stale(code, fresh)
            key_msg = "bills.account_low" if err.code == "insufficient_balance" else refusal_key(err.code)
            return lambda f: f.account_refused(key_msg)
        self.journal.update(cmd.txn_id, J.PAID, "prepaid account", payment_status="SUCCESS")
        return lambda f: f.account_paid(paid)

    # ---- the receipt, printed once

    def _print(self, cmd: PrintBillReceipt) -> Applied:
        receipt = bill_receipt(
            job_id=f"{cmd.txn_id}:receipt",
            hospital=self.parts.hospital_name,
            kiosk_id=self.parts.kiosk_id,
            patient=cmd.patient,
            lock=cmd.lock,
            method=cmd.method,
            printed_at=datetime.now().strftime("%Y-%m-%d %H:%M"),
        )
        printed = print_once(self.journal, self.parts.printer, receipt, cmd.txn_id)
        return lambda f: f.printed(printed.ok, printed.tr_key)


def _timestamp(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None
