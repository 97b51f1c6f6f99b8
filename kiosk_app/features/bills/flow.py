"""Bill payment (缴费), pure: identify → unpaid bills → select → lock and pre-settle → pay → receipt.

No I/O here: events change the state and return commands that the service runs in a worker
(kiosk_app/features/bills/service.py). The selected bills are locked on the server under ONE
payment key and paid by ONE payment of their summed self-pay share (server/bills/service.py).

Paying: the patient's payment code on the scanner, a QR code the kiosk shows (WeChat or Alipay;
countdown, cancel), or the prepaid account when this session was identified by face (the face
+ phone digits just given are the confirmation; see ``account_offered``).

Every payment attempt has its own key, and its lock: a payment that definitely failed releases
the bills on the server, so the flow locks them again under a new key before the next attempt
and shows the (re-computed) shares again. Money in flight (``PAYING``, ``QR``) cannot be left:
no Home and no idle timeout; the QR step has its own Cancel, which closes the provider order and
answers "paid" if the patient paid meanwhile.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import ClassVar

from kiosk_app.features.base import FeatureFlow
from kiosk_app.features.payment import CodePay, PayOutcome
from kiosk_app.flows.identify import Method, Patient
from kiosk_app.flows.printing import PrintState
from offline_cache.ids import uuid7
from sync.client import AccountPayment, Bill, BillLock, QrPayment

LIST = "bills.list"
PRESETTLE = "bills.presettle"  # the shares, and how to pay
PAY = "bills.pay"  # waiting for the payment code
PAYING = "bills.paying"  # the code is being charged
QR = "bills.qr"  # the kiosk shows a QR code
ACCOUNT = "bills.account"  # confirm paying from the prepaid account
RESULT = "bills.result"

# The insurer's scheme for a patient who showed an insurance credential. The real scheme (职工 /
# 城乡居民) is the insurance platform's answer to the person query, which the demo insurer does not
# model; a credential is what pre-settlement needs at all (an ID card alone pays everything itself).
INSURED_SCHEME = "employee"
INSURED_BY = frozenset({Method.INSURANCE_CARD, Method.EVOUCHER})

# Refusals that mean the listed bills are not what the server has: list them again.
STALE = frozenset({"already_paid", "bill_changed", "bill_cancelled", "bill_not_found", "bill_not_locked"})


def refusal_key(code: str | None) -> str:
    """The message for a refusal of the server (a code it has words for, else the general one)."""
    return f"bills.refused.{code}" if code in STALE or code == "bill_locked" else "bills.refused"


class Outcome(enum.StrEnum):
    PAID = "paid"
    COVERED = "covered"  # the insurance pays everything: nothing to pay, the bills are settled
    UNKNOWN = "unknown"  # the kiosk could not learn the answer: the server settles it
    CASHIER = "cashier"  # the server cannot be reached: pay at the cashier window


# ---- commands


@dataclass(frozen=True)
class LoadBills:
    patient_id: int


@dataclass(frozen=True)
class LockBills:
    txn_id: str
    key: str
    patient: Patient
    selection: tuple[tuple[int, int], ...]  # (bill_id, version) as listed
    scheme: str | None


@dataclass(frozen=True)
class UnlockBills:
    txn_id: str
    key: str


@dataclass(frozen=True)
class PayByCode:
    txn_id: str
    lock: BillLock
    auth_code: str = field(repr=False)


@dataclass(frozen=True)
class CreateQr:
    txn_id: str
    lock: BillLock
    provider: str  # wechat | alipay


@dataclass(frozen=True)
class WatchQr:
    """Wait a moment, then ask about the QR payment; past its expiry (and the kiosk's grace) give up."""

    txn_id: str
    qr: QrPayment


@dataclass(frozen=True)
class CancelQr:
    txn_id: str
    key: str


@dataclass(frozen=True)
class PayFromAccount:
    txn_id: str
    lock: BillLock
    patient_id: int


@dataclass(frozen=True)
class PrintBillReceipt:
    txn_id: str
    patient: Patient
    lock: BillLock
    method: str  # code | wechat | alipay | account | covered


class BillsFlow(FeatureFlow):
    feature = "bills"
    BACK: ClassVar[dict[str, str]] = {LIST: "bills.identify", PRESETTLE: LIST, PAY: PRESETTLE, ACCOUNT: PRESETTLE}
    DEVICES: ClassVar[dict[str, str]] = {PAY: "scanner"}
    UNINTERRUPTIBLE = frozenset({PAYING, QR})

    def reset_feature(self) -> None:
        self.bills: tuple[Bill, ...] = ()
        self.loaded = False
        self.selected: set[int] = set()
        self.txn_id = ""
        self.lock: BillLock | None = None
        self.lock_key = ""  # the key of the lock asked for or held (what Home releases)
        self.method = ""
        self.pay = CodePay()
        self.qr: QrPayment | None = None
        self.qr_seconds_left: float | None = None  # at the last answer, by the server's clock
        self.cancelling = False
        self.outcome: Outcome | None = None
        self.print_state = PrintState.NONE

    # ---- state

    @property
    def selection(self) -> tuple[Bill, ...]:
        return tuple(b for b in self.bills if b.bill_id in self.selected)

    @property
    def selected_total(self) -> int:
        return sum(b.total_cents for b in self.selection)

    @property
    def insured(self) -> bool:
        return self.patient is not None and self.patient.method in INSURED_BY

    @property
    def account_offered(self) -> bool:
        """Pay from the prepaid account only when this session's identity was confirmed by face."""
        return self.patient is not None and self.patient.method is Method.FACE

    @property
    def paid(self) -> bool:
        return self.outcome in (Outcome.PAID, Outcome.COVERED)

    @property
    def interruptible(self) -> bool:
        # The account payment is final when its request returns: no Home while it is out.
        return super().interruptible and not (self.step == ACCOUNT and self.busy)

    # ---- identify → list → select

    def identified(self, patient: Patient) -> list[object]:
        self.step, self.busy = LIST, True
        return [LoadBills(patient.patient_id)]

    def bills_loaded(self, bills: list[Bill], message: str = "") -> list[object]:
        self.bills, self.loaded, self.busy = tuple(bills), True, False
        self.selected = {b.bill_id for b in bills if b.status == "unpaid"}
        self.message = message or ("" if bills else "bills.none")
        return []

    def toggle(self, bill_id: int) -> list[object]:
        if self.step != LIST or self.busy:
            return []
        bill = next((b for b in self.bills if b.bill_id == bill_id), None)
        if bill is None or bill.status != "unpaid":
            return []
        self.selected ^= {bill_id}
        self.message = ""
        return []

    def confirm_selection(self) -> list[object]:
        if self.step != LIST or self.busy:
            return []
        if not self.selection:
            self.message = "bills.select_one"
            return []
        return self._lock(self.selection, "")

    def _lock(self, bills: tuple[Bill, ...], message: str) -> list[object]:
        assert self.patient is not None
        self.txn_id = self.txn_id or uuid7()
        self.lock_key = uuid7()
        self.busy, self.message = True, message
        scheme = INSURED_SCHEME if self.insured else None
        selection = tuple((b.bill_id, b.version) for b in bills)
        return [LockBills(self.txn_id, self.lock_key, self.patient, selection, scheme)]

    def locked(self, lock: BillLock) -> list[object]:
        if lock.payment_key != self.lock_key:
            return []  # an answer for a lock the patient already left
        self.lock, self.busy = lock, False
        if lock.status == "paid":
            # Fully covered by the insurance: the lock itself settled the bills.
            return self._finish(Outcome.COVERED, "bills.covered", "covered")
        self.step = PRESETTLE
        return []

    def selection_stale(self, code: str, bills: list[Bill]) -> list[object]:
        """The server's bills are not what was listed (paid elsewhere, changed): list them again."""
        self.lock, self.lock_key, self.qr = None, "", None
        self.step = LIST
        return self.bills_loaded(bills, refusal_key(code))

    def offline(self) -> list[object]:
        """The hospital system cannot be reached: bills are paid at the cashier window meanwhile."""
        self.busy, self.lock, self.lock_key = False, None, ""
        self.step, self.outcome, self.message = RESULT, Outcome.CASHIER, "bills.offline"
        return []

    def lock_refused(self, key: str) -> list[object]:
        """The lock could not be taken (locked elsewhere, the insurer down): stay on the list."""
        self.lock, self.lock_key, self.busy, self.message = None, "", False, key
        if self.step != LIST:
            self.step = LIST
        return []

    # ---- how to pay

    def choose_code(self) -> list[object]:
        if self.step != PRESETTLE or self.busy or self.lock is None:
            return []
        self.pay.reset()
        self.step, self.method, self.message = PAY, "code", ""
        return []

    def scanned(self, code: str) -> list[object]:
        if self.step != PAY or self.busy or self.lock is None:
            return super().scanned(code)
        auth = self.pay.scan(code)
        self.message = self.pay.message
        if auth is None:
            return []
        self.step = PAYING
        return [PayByCode(self.txn_id, self.lock, auth)]

    def pay_progress(self, answer: object) -> list[object]:
        if self.step == PAYING:
            self.pay.progress(answer)  # type: ignore[arg-type]
            self.message = self.pay.message
        return []

    def pay_finished(self, outcome: PayOutcome) -> list[object]:
        if self.step != PAYING:
            return []
        self.pay.finish(outcome)
        return self._after_payment(outcome.status, outcome.error_code, self.pay.message)

    def choose_qr(self, provider: str) -> list[object]:
        if self.step != PRESETTLE or self.busy or self.lock is None or provider not in ("wechat", "alipay"):
            return []
        self.step, self.method, self.message = QR, provider, ""
        self.qr, self.cancelling, self.busy = None, False, True
        return [CreateQr(self.txn_id, self.lock, provider)]

    def qr_update(self, qr: QrPayment, seconds_left: float | None = None) -> list[object]:
        """The QR payment's latest state: show the code, keep watching, or finish."""
        if self.step != QR or self.lock is None or qr.idempotency_key != self.lock.payment_key:
            return []
        self.qr, self.busy = qr, False
        if seconds_left is not None:
            self.qr_seconds_left = max(0.0, seconds_left)
        if qr.is_final:
            message = {
                "USER_CANCELLED": "bills.qr_cancelled",
                "QR_EXPIRED": "bills.qr_expired",
                "QR_UNAVAILABLE": "bills.qr_unavailable",
                "REFUNDED_ON_CANCEL": "bills.qr_refunded",
            }.get(qr.error_code or "", f"pay.failed.{qr.error_code}" if qr.error_code else "pay.failed")
            return self._after_payment(qr.status, qr.error_code, "pay.success" if qr.status == "SUCCESS" else message)
        self.message = "pay.userpaying" if qr.qr_state == "scanned" else ""
        if qr.qr_state == "closing":
            self.message = "bills.qr_closing"
        return [WatchQr(self.txn_id, qr)]

    def cancel_qr(self) -> list[object]:
        """The patient's Cancel (or the countdown ran out): close the order at the provider."""
        if self.step != QR or self.cancelling or self.qr is None or self.qr.is_final:
            return []
        self.cancelling, self.message = True, "bills.qr_closing"
        return [CancelQr(self.txn_id, self.qr.idempotency_key)]

    def qr_refused(self, code: str) -> list[object]:
        """The server refused to make the order (the lock ran out, a bill was paid elsewhere...)."""
        if self.step != QR:
            return []
        return self._after_payment("REFUSED", code, refusal_key(code))

    def qr_cancel_failed(self) -> list[object]:
        """The cancel did not reach the server: the code is still live; Cancel may be pressed again."""
        if self.step == QR and self.cancelling:
            self.cancelling, self.message = False, "bills.qr_cancel_failed"
        return []

    def qr_lost(self, not_sent: bool) -> list[object]:
        """No answer about the QR payment: ``not_sent`` = the order was never made (server unreachable)."""
        if self.step != QR:
            return []
        if not_sent:
            return self._after_payment("NOT_SENT", None, "pay.offline_cashier")
        return self._after_payment("UNKNOWN", None, "bills.qr_unknown")

    def choose_account(self) -> list[object]:
        if self.step != PRESETTLE or self.busy or self.lock is None or not self.account_offered:
            return []
        self.step, self.method, self.message = ACCOUNT, "account", ""
        return []

    def confirm_account(self) -> list[object]:
        if self.step != ACCOUNT or self.busy or self.lock is None or self.patient is None:
            return []
        self.busy, self.message = True, ""
        return [PayFromAccount(self.txn_id, self.lock, self.patient.patient_id)]

    def account_paid(self, paid: AccountPayment) -> list[object]:
        if self.step != ACCOUNT:
            return []
        self.busy = False
        return self._finish(Outcome.PAID, "bills.paid_from_account", "account")

    def account_refused(self, key: str) -> list[object]:
        """Not paid from the account (balance too low...): the lock stays, another way may be chosen."""
        if self.step == ACCOUNT:
            self.step, self.busy, self.message = PRESETTLE, False, key
        return []

    # ---- result and receipt

    def printed(self, ok: bool, key: str = "") -> list[object]:
        self.print_state = PrintState.PRINTED if ok else PrintState.FAILED
        if not ok:
            self.message = key or "printer.error"
        return []

    def reprint(self) -> list[object]:
        if self.step != RESULT or not self.paid or self.print_state is not PrintState.FAILED:
            return []
        assert self.patient is not None and self.lock is not None
        self.print_state, self.message = PrintState.PRINTING, ""
        return [PrintBillReceipt(self.txn_id, self.patient, self.lock, self.method)]

    def failed(self, key: str) -> list[object]:
        if self.step == PAYING:
            # The worker gave up without an answer: unknown, never "failed".
            return self._after_payment("UNKNOWN", None, "pay.unknown")
        if self.step == QR and self.qr is not None:
            return self._after_payment("UNKNOWN", None, "bills.qr_unknown")
        if self.step == QR:
            # No code was ever shown: nothing can be paid; back to the choice.
            self.step, self.cancelling = PRESETTLE, False
        self.cancelling = False
        return super().failed(key)

    # ---- leaving

    def leaving_step(self, step: str, target: str) -> list[object]:
        if step == PRESETTLE and target == LIST:
            return self._release()
        if step == LIST:
            self.bills, self.loaded, self.selected = (), False, set()
        if step == PAY:
            self.pay.reset()
        return []

    def releasing(self) -> list[object]:
        return [] if self.paid else self._release()

    def _release(self) -> list[object]:
        key, self.lock, self.lock_key = self.lock_key, None, ""
        return [UnlockBills(self.txn_id, key)] if key else []

    # ---- internals

    def _after_payment(self, status: str, error_code: str | None, message: str) -> list[object]:
        """Where a payment attempt leads: the receipt, the cashier, or another try under a new lock."""
        self.busy, self.cancelling = False, False
        if status == "SUCCESS":
            return self._finish(Outcome.PAID, "pay.success", self.method)
        if status == "UNKNOWN":
            # The payment holds the bills on the server until it is settled: nothing to release.
            self.step, self.outcome, self.message, self.lock_key = RESULT, Outcome.UNKNOWN, message, ""
            return []
        if status == "NOT_SENT":
            # Nothing was charged and the server is out of reach: the cashier takes it from here.
            self.step, self.outcome, self.message = RESULT, Outcome.CASHIER, "pay.offline_cashier"
            return self._release()
        if status == "REFUSED" and error_code in STALE:
            self.step, self.busy, self.message = LIST, True, refusal_key(error_code)
            self.lock, self.lock_key = None, ""
            assert self.patient is not None
            return [LoadBills(self.patient.patient_id)]
        # Definitely not paid (failed, cancelled, expired, the lock ran out): the server released
        # the bills, so lock them again under a new key and let the patient choose again.
        if status == "REFUSED" and error_code == "bill_lock_expired":
            message = "bills.lock_expired"
        self.step, self.qr = PRESETTLE, None
        self.pay.reset()
        bills = self.lock.bills if self.lock is not None else self.selection
        self.lock = None
        return self._lock(bills, message)

    def _finish(self, outcome: Outcome, message: str, method: str) -> list[object]:
        assert self.patient is not None and self.lock is not None
        self.step, self.outcome, self.message, self.method = RESULT, outcome, message, method
        self.print_state = PrintState.PRINTING
        return [PrintBillReceipt(self.txn_id, self.patient, self.lock, method)]
