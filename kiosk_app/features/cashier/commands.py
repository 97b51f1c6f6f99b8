"""The cashier window's steps and the commands its flow hands to the service (kiosk_app/features/cashier)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk_app.flows.identify import Patient
from sync.client import CashierQuote, CashierRefund, CashierShift, RecentPayment, Settlement, ShiftReport

SIGNIN = "cashier.signin"
IDENTIFY = "cashier.identify"
ITEMS = "cashier.items"
TAKE = "cashier.take"  # the quote: choose how the patient pays
CODE = "cashier.code"
CASH = "cashier.cash"
CARD = "cashier.card"
PAYING = "cashier.paying"
PAID = "cashier.paid"
REFUND = "cashier.refund"
APPROVE = "cashier.approve"
REFUNDING = "cashier.refunding"
REFUNDED = "cashier.refunded"
REPORT = "cashier.report"
CLOSING = "cashier.closing"
CLOSED = "cashier.closed"

CHANNELS = ("code", "cash", "card")
# As at the lobby (features/bills): a patient who showed an insurance credential is pre-settled with
# the insurer. The real scheme is the insurance platform's answer, which the demo insurer does not model.
INSURED_SCHEME = "employee"
# Refund reasons offered as buttons; the server stores the text (zh), the screen translates the key.
REASONS = {
    "duplicate": "重复缴费",
    "overcharged": "多收费用",
    "cancelled": "检查或治疗取消",
    "patient": "患者要求",
}
SIGNED_OUT = "server.rejected.cashier_signed_out"
# The server's refusals the window words for staff (messages "cashier.rejected.<code>"), not for patients.
REJECTIONS = frozenset(
    {
        "sign_in_failed", "window_in_use", "shift_open_elsewhere", "shift_closed", "shift_kiosk_mismatch",
        "supervisor_not_approved", "refund_exceeds_refundable", "payment_not_paid", "payment_not_found",
        "pos_ref_required", "refund_channel_unsupported", "bill_not_locked", "bill_lock_expired", "bill_changed",
        "bill_locked", "bill_cancelled", "amount_mismatch", "already_paid", "registration_cancelled",
        "payment_pending", "patient_not_found", "invalid_request", "idempotency_key_reused",
    }
)  # fmt: skip


def message_key(key: str) -> str:
    """``server.rejected.<code>`` as the window says it (``cashier.rejected.<code>``) when it has its own words."""
    code = key.removeprefix("server.rejected.")
    return f"cashier.rejected.{code}" if code != key and code in REJECTIONS else key


# ---- commands (run by the service)


@dataclass(frozen=True)
class SignIn:
    staff_no: str | None = None
    pin: str | None = field(default=None, repr=False)
    card_hash: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SignOut:
    shift: CashierShift = field(repr=False)


@dataclass(frozen=True)
class LoadItems:
    visit: int
    shift: CashierShift = field(repr=False)
    patient_id: int


@dataclass(frozen=True)
class Quote:
    visit: int
    shift: CashierShift = field(repr=False)
    key: str
    patient_id: int
    bills: tuple[tuple[int, int], ...]
    registration_ids: tuple[int, ...]
    insurance_scheme: str | None = None


@dataclass(frozen=True)
class Release:
    shift: CashierShift = field(repr=False)
    key: str


@dataclass(frozen=True)
class Settle:
    visit: int
    shift: CashierShift = field(repr=False)
    txn_id: str
    patient: Patient
    quote: CashierQuote
    channel: str
    auth_code: str | None = field(default=None, repr=False)  # a bearer credential for money
    pos_ref: str | None = None
    tendered_cents: int | None = None


@dataclass(frozen=True)
class PrintReceipt:
    visit: int
    shift: CashierShift = field(repr=False)
    txn_id: str
    patient: Patient
    quote: CashierQuote
    settlement: Settlement


@dataclass(frozen=True)
class Refund:
    visit: int
    shift: CashierShift = field(repr=False)
    txn_id: str
    refund_key: str
    patient: Patient
    payment: RecentPayment
    amount_cents: int
    reason: str
    supervisor_no: str
    supervisor_pin: str = field(repr=False)
    pos_ref: str | None = None


@dataclass(frozen=True)
class PrintRefundSlip:
    visit: int
    shift: CashierShift = field(repr=False)
    txn_id: str
    patient: Patient
    payment: RecentPayment
    refund: CashierRefund


@dataclass(frozen=True)
class LoadReport:
    shift: CashierShift = field(repr=False)


@dataclass(frozen=True)
class CloseShift:
    shift: CashierShift = field(repr=False)
    cash_counted_cents: int


@dataclass(frozen=True)
class PrintReport:
    report: ShiftReport = field(repr=False)


Command = (
    SignIn | SignOut | LoadItems | Quote | Release | Settle | PrintReceipt | Refund | PrintRefundSlip | LoadReport
    | CloseShift | PrintReport
)  # fmt: skip


@dataclass(frozen=True)
class Exported:
    """Where the service wrote the closed shift's report (under the kiosk's data directory)."""

    json_path: str
    csv_path: str
