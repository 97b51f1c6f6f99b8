"""预交金充值 at the kiosk, pure: identify → balance → amount → scan the payment code → result + receipt.

No I/O here: events change the state and return commands that the service runs in a worker
(kiosk_app/features/topup/service.py). While the payment is in flight the flow cannot be left (no
Home, no idle timeout); the service writes the payment key to the journal before the request. An
unclear outcome is never guessed: the server keeps resolving it and credits the account if it was
paid, so the patient is told to check the balance later, not to pay again.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import ClassVar

from devices.scanner import is_payment_code
from kiosk_app.features.base import FeatureFlow
from kiosk_app.flows.identify import Patient
from kiosk_app.flows.printing import PrintState
from offline_cache.ids import uuid7
from sync.client import Account, TopUpResult

log = logging.getLogger(__name__)

BALANCE = "topup.balance"
AMOUNT = "topup.amount"
PAY = "topup.pay"
PAYING = "topup.paying"
DONE = "topup.done"

PRESETS_YUAN = (100, 200, 500, 1000)  # the big buttons; other amounts on the keypad
MAX_TYPED_DIGITS = 5  # whole yuan; the server's limit (5000 yuan) is checked on OK


class Outcome(enum.StrEnum):
    CREDITED = "credited"  # paid, and the balance shows it
    UNKNOWN = "unknown"  # the kiosk stopped waiting; the server credits it if it was paid
    OFFLINE = "offline"  # the hospital system could not be reached: nothing was charged


@dataclass(frozen=True)
class LoadAccount:
    patient_id: int


@dataclass(frozen=True)
class TopUp:
    txn_id: str
    patient: Patient
    amount_cents: int
    auth_code: str = field(repr=False)  # a bearer credential for money: never in a log line
    first_attempt: bool = True


@dataclass(frozen=True)
class PrintTopUpReceipt:
    txn_id: str
    patient: Patient
    result: TopUpResult


Command = LoadAccount | TopUp | PrintTopUpReceipt


class TopUpFlow(FeatureFlow):
    feature = "topup"
    BACK: ClassVar[dict[str, str]] = {BALANCE: "topup.identify", AMOUNT: BALANCE, PAY: AMOUNT}
    DEVICES: ClassVar[dict[str, str]] = {PAY: "scanner"}
    UNINTERRUPTIBLE = frozenset({PAYING})

    def reset_feature(self) -> None:
        self.account: Account | None = None
        self.unavailable = False  # the account could not be loaded (server unreachable)
        self.amount_cents = 0
        self.typed = ""  # the keypad's whole yuan
        self.txn_id = ""
        self.attempts = 0
        self.result: TopUpResult | None = None
        self.outcome: Outcome | None = None
        self.print_state = PrintState.NONE

    # ---- State

    @property
    def min_cents(self) -> int:
        return self.account.top_up_min_cents if self.account else 0

    @property
    def max_cents(self) -> int:
        return self.account.top_up_max_cents if self.account else 0

    @property
    def presets_cents(self) -> tuple[int, ...]:
        """The big buttons this kiosk's limits allow."""
        return tuple(y * 100 for y in PRESETS_YUAN if self.min_cents <= y * 100 <= self.max_cents)

    @property
    def new_balance_cents(self) -> int | None:
        return self.result.balance_cents if self.result is not None and self.outcome is Outcome.CREDITED else None

    # ---- Balance

    def identified(self, patient: Patient) -> list[object]:
        self.step, self.busy = BALANCE, True
        return [LoadAccount(patient.patient_id)]

    def account_loaded(self, account: Account) -> list[object]:
        if self.step != BALANCE:
            return []
        self.account, self.unavailable, self.busy = account, False, False
        return []

    def account_unavailable(self) -> list[object]:
        """The hospital system cannot be reached: a top-up needs it, so none is offered."""
        if self.step != BALANCE:
            return []
        self.account, self.unavailable, self.busy, self.message = None, True, False, "topup.offline"
        return []

    def reload(self) -> list[object]:
        """Try the account again (after the system came back)."""
        if self.step != BALANCE or self.busy or self.patient is None:
            return []
        self.busy, self.message = True, ""
        return [LoadAccount(self.patient.patient_id)]

    def choose_top_up(self) -> list[object]:
        if self.step != BALANCE or self.busy or self.account is None:
            return []
        self.step, self.message, self.typed = AMOUNT, "", ""
        return []

    # ---- Amount

    def choose_amount(self, cents: int) -> list[object]:
        if self.step != AMOUNT or self.busy:
            return []
        if not self.min_cents <= cents <= self.max_cents:
            self.message = "topup.amount_range"
            return []
        self.amount_cents, self.step, self.message = cents, PAY, ""
        return []

    def key_digit(self, digit: str) -> list[object]:
        fits = self.step == AMOUNT and digit.isdigit() and len(self.typed) < MAX_TYPED_DIGITS
        if fits and (self.typed or digit != "0"):  # no leading zero
            self.typed += digit
            self.message = ""
        return []

    def key_delete(self) -> list[object]:
        if self.step == AMOUNT:
            self.typed = self.typed[:-1]
        return []

    def key_ok(self) -> list[object]:
        if self.step != AMOUNT:
            return []
        if not self.typed:
            self.message = "topup.amount_range"
            return []
        return self.choose_amount(int(self.typed) * 100)

    # ---- Paying

    def scanned(self, code: str) -> list[object]:
        if self.step != PAY or self.busy or self.patient is None:
            log.info("scan ignored at step %s", self.step)
            return []
        if not is_payment_code(code):
            self.message = "pay.not_payment_code"
            return []
        if not self.txn_id:
            self.txn_id = uuid7()
        first, self.attempts = self.attempts == 0, self.attempts + 1
        self.step, self.busy, self.message, self.result = PAYING, True, "pay.waiting", None
        return [TopUp(self.txn_id, self.patient, self.amount_cents, code, first)]

    def top_up_progress(self, result: TopUpResult) -> list[object]:
        if self.step == PAYING:
            self.result, self.message = result, "pay.userpaying"
        return []

    def top_up_finished(self, result: TopUpResult | None) -> list[object]:
        """``None``: the kiosk stopped waiting without a final answer."""
        if self.step != PAYING or self.patient is None:
            return []
        self.busy, self.result = False, result
        if result is not None and result.status == "SUCCESS":
            self.step, self.outcome, self.message = DONE, Outcome.CREDITED, "topup.success"
            self.print_state = PrintState.PRINTING
            return [PrintTopUpReceipt(self.txn_id, self.patient, result)]
        if result is None or result.status == "PENDING":
            self.step, self.outcome, self.message = DONE, Outcome.UNKNOWN, "topup.unknown"
            return []
        if result.error_code == "amount_out_of_range":  # the limits changed since the balance was shown
            self.step, self.message = AMOUNT, "topup.amount_range"
            return []
        # FAILED or REVERSED: nothing was taken; another code may be scanned.
        self.step = PAY
        self.message = f"pay.failed.{result.error_code}" if result.error_code else "pay.failed"
        return []

    def top_up_refused_offline(self) -> list[object]:
        """The server could not be reached, so no payment was attempted."""
        if self.step != PAYING:
            return []
        self.step, self.busy, self.outcome, self.message = DONE, False, Outcome.OFFLINE, "topup.offline"
        return []

    def failed(self, key: str) -> list[object]:
        if self.step == PAYING:
            # The request may or may not have reached the server: unknown, not failed.
            self.step, self.busy, self.outcome, self.message = DONE, False, Outcome.UNKNOWN, "topup.unknown"
            return []
        return super().failed(key)

    # ---- The receipt

    def printed(self, ok: bool, error_key: str = "") -> list[object]:
        if self.step != DONE:
            return []
        self.print_state = PrintState.PRINTED if ok else PrintState.FAILED
        if not ok:
            self.message = error_key or "printer.error"
        return []

    def reprint(self) -> list[object]:
        """Try again after a failed print (the journal allows it only if nothing came out)."""
        if self.step != DONE or self.print_state is not PrintState.FAILED or self.result is None:
            return []
        if self.patient is None or self.outcome is not Outcome.CREDITED:
            return []
        self.print_state, self.message = PrintState.PRINTING, ""
        return [PrintTopUpReceipt(self.txn_id, self.patient, self.result)]
