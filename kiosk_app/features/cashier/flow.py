"""The cashier window (收费窗口), pure: sign in → patient → open items → quote → take the money by
payment code, cash or bank card → receipt; refunds with a supervisor's PIN; the end-of-shift
report, printed and exported.

No I/O here: events change the state and return commands that the service runs in a worker
(kiosk_app/features/cashier/service.py). Unlike the patient features this flow never goes back
to the kiosk's home: "Home" and the idle timeout end the current patient (releasing what is held)
and return to the patient step, or to sign-in when nobody is signed in. The shift outlives the
patients; its token lives only in memory. Money steps cannot be left while a request is in flight.

Outcomes of a patient's commands carry the ``visit`` they were asked for: an answer that arrives
after the cashier moved on to the next patient is dropped (the controller's own guard only works
for flows that pass through home).
"""

from __future__ import annotations

import logging
from typing import ClassVar

from devices.idcard import IdCardData
from kiosk_app.features.base import FeatureFlow
from kiosk_app.features.cashier.commands import (
    APPROVE,
    CARD,
    CASH,
    CHANNELS,
    CLOSED,
    CLOSING,
    CODE,
    IDENTIFY,
    INSURED_SCHEME,
    ITEMS,
    PAID,
    PAYING,
    REASONS,
    REFUND,
    REFUNDED,
    REFUNDING,
    REPORT,
    SIGNED_OUT,
    SIGNIN,
    TAKE,
    CloseShift,
    Exported,
    LoadItems,
    LoadReport,
    PrintReceipt,
    PrintRefundSlip,
    PrintReport,
    Quote,
    Refund,
    Release,
    Settle,
    SignIn,
    SignOut,
    message_key,
)
from kiosk_app.features.cashier.entry import Entry
from kiosk_app.features.payment import CodePay, PayOutcome
from kiosk_app.flows.identify import Method, Patient
from kiosk_app.flows.printing import PrintState
from offline_cache.ids import uuid7
from sync.client import (
    CashierItems,
    CashierQuote,
    CashierRefund,
    CashierShift,
    RecentPayment,
    Settlement,
    ShiftReport,
)
from sync.staffcard import staff_card_hash

log = logging.getLogger(__name__)


class CashierFlow(FeatureFlow):
    feature = "cashier"
    BACK: ClassVar[dict[str, str]] = {
        ITEMS: IDENTIFY,
        TAKE: ITEMS,
        CODE: TAKE,
        CASH: TAKE,
        CARD: TAKE,
        REFUND: ITEMS,
        APPROVE: REFUND,
        REPORT: IDENTIFY,
    }
    DEVICES: ClassVar[dict[str, str]] = {CODE: "scanner"}
    UNINTERRUPTIBLE = frozenset({PAYING, REFUNDING, CLOSING})

    def __init__(self) -> None:
        self.shift: CashierShift | None = None
        self.visit = 0
        super().__init__()

    def reset_feature(self) -> None:
        """The patient's fields; the shift (who is signed in) is kept."""
        self.staff_no = Entry("digits", 12)
        self.pin = Entry("digits", 12)
        self.signin_field = "staff_no"
        self.visit_no = Entry("digits", 20)
        self.items: CashierItems | None = None
        self.selected_bills: set[int] = set()
        self.selected_regs: set[int] = set()
        self.insured = False  # pre-settle with the insurer: the patient showed an insurance credential
        self.quote: CashierQuote | None = None
        self.channel = ""
        self.pay = CodePay()
        self.tendered = Entry("yuan")
        self.pos_ref = Entry("digits", 20)
        self.txn_id = ""
        self.outcome: PayOutcome | None = None
        self.settlement: Settlement | None = None
        self.print_state = PrintState.NONE
        self.refund_payment: RecentPayment | None = None
        self.refund_amount = Entry("yuan")
        self.refund_reason = ""
        self.refund_pos_ref = Entry("digits", 20)
        self.supervisor_no = Entry("digits", 12)
        self.supervisor_pin = Entry("digits", 12)
        self.approve_field = "supervisor_no"
        self.refund: CashierRefund | None = None
        self.refund_outcome = ""  # refunded | pending | failed | refused | unknown
        self.report: ShiftReport | None = None
        self.cash_counted = Entry("yuan")
        self.exported: Exported | None = None

    # ---- State

    @property
    def has_back(self) -> bool:
        return self.step in self.BACK  # neither sign-in nor the patient step: they are the window's start

    @property
    def selected_total_cents(self) -> int:
        if self.items is None:
            return 0
        bills = sum(b.total_cents for b in self.items.bills if b.bill_id in self.selected_bills)
        return bills + sum(r.amount_cents for r in self.items.registrations if r.registration_id in self.selected_regs)

    @property
    def amount_cents(self) -> int:
        return self.quote.self_pay_cents if self.quote is not None else 0

    @property
    def change_cents(self) -> int | None:
        tendered = self.tendered.cents
        return None if tendered is None or tendered < self.amount_cents else tendered - self.amount_cents

    @property
    def code_allowed(self) -> bool:
        """A payment code pays one order: the bills together, or a single registration."""
        q = self.quote
        if q is None:
            return False
        return (bool(q.bills) and not q.registrations) or (not q.bills and len(q.registrations) == 1)

    @property
    def refundable_cents(self) -> int:
        return self.refund_payment.amount_cents if self.refund_payment is not None else 0

    # ---- Start and leave

    def start(self, face_ok: bool = False) -> list[object]:
        self.reset()
        self.face_ok = False  # staff identify patients by their cards and codes, not by face
        self.step = IDENTIFY if self.shift is not None else SIGNIN
        return []

    def home(self) -> list[object]:
        """Home / idle timeout: the patient is done (holds released); the window stays signed in."""
        if not self.interruptible:
            return []
        commands = list(self.releasing())
        self.reset()
        self.visit += 1
        self.step = IDENTIFY if self.shift is not None else SIGNIN
        return commands

    def releasing(self) -> list[object]:
        if self.quote is not None and self.quote.bills and self.shift is not None and self.settlement is None:
            return [Release(self.shift, self.quote.key)]
        return []

    def leaving_step(self, step: str, target: str) -> list[object]:
        if step == TAKE:
            commands = self.releasing()
            self.quote, self.channel = None, ""
            return commands
        if step in (CODE, CASH, CARD):
            self.channel = ""
            self.pay.reset()
        if step == APPROVE:
            self.supervisor_pin.clear()
        return []

    def failed(self, key: str) -> list[object]:
        if key == SIGNED_OUT:
            return self.signed_out()
        # A step that waits on a request must not outlive its failure (none of them can be left).
        if self.step == PAYING:  # a refusal before any money moved (e.g. the lock expired)
            self.step, self.quote = ITEMS, None
        elif self.step == REFUNDING:
            self.step = REFUND
        elif self.step == CLOSING:
            self.step = REPORT
        return super().failed(message_key(key))

    def signed_out(self) -> list[object]:
        """The server no longer accepts the token (idle too long): sign in again, the shift resumes."""
        self.reset()
        self.shift, self.busy, self.step, self.message = None, False, SIGNIN, "cashier.signed_out"
        self.visit += 1
        return []

    # ---- Sign-in: staff number and PIN, or the staff card on the ID reader

    def choose_signin_field(self, name: str) -> list[object]:
        if self.step == SIGNIN and name in ("staff_no", "pin"):
            self.signin_field = name
        return []

    def signin_key(self, ch: str) -> list[object]:
        if self.step == SIGNIN and not self.busy:
            (self.staff_no if self.signin_field == "staff_no" else self.pin).key(ch)
            if self.signin_field == "staff_no" and len(self.staff_no.text) >= 12:
                self.signin_field = "pin"
        return []

    def signin_delete(self) -> list[object]:
        if self.step == SIGNIN and not self.busy:
            (self.staff_no if self.signin_field == "staff_no" else self.pin).delete()
        return []

    def submit_signin(self) -> list[object]:
        if self.step != SIGNIN or self.busy:
            return []
        if self.signin_field == "staff_no" and self.staff_no.text and not self.pin.text:
            self.signin_field = "pin"  # OK after the number moves on to the PIN
            return []
        if len(self.staff_no.text) < 3 or len(self.pin.text) < 4:
            self.message = "cashier.signin_incomplete"
            return []
        self.busy, self.message = True, ""
        cmd = SignIn(self.staff_no.text, self.pin.text)
        self.pin.clear()  # the PIN leaves the flow with the command
        return [cmd]

    def card_read(self, card: IdCardData) -> list[object]:
        if self.step == SIGNIN:
            if self.busy:
                return []
            self.busy, self.message = True, ""
            self.pin.clear()
            return [SignIn(card_hash=staff_card_hash(card.id_number))]
        return super().card_read(card)

    def signed_in(self, shift: CashierShift) -> list[object]:
        if self.step != SIGNIN:
            return []
        self.reset()
        self.shift, self.step = shift, IDENTIFY
        self.message = "cashier.shift_resumed" if shift.resumed else "cashier.shift_opened"
        return []

    def lock_window(self) -> list[object]:
        """A break: the token is given up at once; the shift stays open for the next sign-in."""
        if self.step != IDENTIFY or self.busy or self.shift is None:
            return []
        shift = self.shift
        self.reset()
        self.shift, self.step, self.message = None, SIGNIN, "cashier.locked"
        self.visit += 1
        return [SignOut(shift)]

    # ---- The patient: the shared identification, or a visit-card number typed at the keypad

    def visit_key(self, ch: str) -> list[object]:
        if self.step == IDENTIFY and not self.busy:
            self.visit_no.key(ch)
        return []

    def visit_delete(self) -> list[object]:
        if self.step == IDENTIFY and not self.busy:
            self.visit_no.delete()
        return []

    def submit_visit_no(self) -> list[object]:
        if self.step != IDENTIFY or self.busy or not self.visit_no.text:
            return []
        number = self.visit_no.text
        self.visit_no.clear()
        return self.visit_number_typed(number)

    def identified(self, patient: Patient) -> list[object]:
        assert self.shift is not None
        self.insured = patient.method in (Method.INSURANCE_CARD, Method.EVOUCHER)
        self.step, self.busy = ITEMS, True
        return [LoadItems(self.visit, self.shift, patient.patient_id)]

    def items_loaded(self, visit: int, items: CashierItems) -> list[object]:
        if visit != self.visit or self.step != ITEMS:
            return []
        self.items, self.busy = items, False
        self.selected_bills = {b.bill_id for b in items.bills if b.status == "unpaid"}
        self.selected_regs = {r.registration_id for r in items.registrations}
        if not items.bills and not items.registrations:
            self.message = "cashier.nothing_open"
        return []

    def reload_items(self) -> list[object]:
        if self.step != ITEMS or self.busy or self.patient is None or self.shift is None:
            return []
        self.busy, self.message = True, ""
        return [LoadItems(self.visit, self.shift, self.patient.patient_id)]

    def toggle_bill(self, bill_id: int) -> list[object]:
        if self.step == ITEMS and not self.busy:
            self.selected_bills ^= {bill_id}
        return []

    def toggle_insured(self) -> list[object]:
        """The patient shows the insurance card at the window (identified by the ID card or a number)."""
        if self.step == ITEMS and not self.busy:
            self.insured = not self.insured
        return []

    def toggle_registration(self, registration_id: int) -> list[object]:
        if self.step == ITEMS and not self.busy:
            self.selected_regs ^= {registration_id}
        return []

    # ---- Quote, then take the money

    def settle_selected(self) -> list[object]:
        if self.step != ITEMS or self.busy or self.items is None or self.shift is None or self.patient is None:
            return []
        bills = tuple((b.bill_id, b.version) for b in self.items.bills if b.bill_id in self.selected_bills)
        regs = tuple(sorted(self.selected_regs))
        if not bills and not regs:
            self.message = "cashier.select_something"
            return []
        self.busy, self.message = True, ""
        scheme = INSURED_SCHEME if self.insured else None
        return [Quote(self.visit, self.shift, uuid7(), self.patient.patient_id, bills, regs, scheme)]

    def quoted(self, visit: int, quote: CashierQuote) -> list[object]:
        if visit != self.visit or self.step != ITEMS:
            return []
        self.quote, self.busy, self.step, self.channel = quote, False, TAKE, ""
        if quote.bills_status == "paid" and not quote.registrations:
            self.message = "cashier.fully_covered"
        return []

    def choose_channel(self, channel: str) -> list[object]:
        if self.step != TAKE or self.busy or channel not in CHANNELS or self.quote is None:
            return []
        if channel == "code" and not self.code_allowed:
            self.message = "cashier.code_one_order"
            return []
        self.channel, self.message = channel, ""
        self.pay.reset()
        self.tendered.clear()
        self.pos_ref.clear()
        self.step = {"code": CODE, "cash": CASH, "card": CARD}[channel]
        if channel == "cash":
            self.tendered.set_cents(self.amount_cents)
        return []

    def scanned(self, code: str) -> list[object]:
        if self.step != CODE:
            return super().scanned(code)
        auth = self.pay.scan(code)
        self.message = self.pay.message
        if auth is None:
            return []
        return self._settle(auth_code=auth)

    def amount_key(self, ch: str) -> list[object]:
        """A key of the cash (tendered) or card (POS reference) keypad."""
        if self.step == CASH:
            self.tendered.key(ch)
        elif self.step == CARD:
            self.pos_ref.key(ch)
        return []

    def amount_delete(self) -> list[object]:
        if self.step == CASH:
            self.tendered.delete()
        elif self.step == CARD:
            self.pos_ref.delete()
        return []

    def tender(self, cents: int) -> list[object]:
        """A quick button: the patient handed over exactly this."""
        if self.step == CASH:
            self.tendered.set_cents(cents)
        return []

    def confirm_cash(self) -> list[object]:
        if self.step != CASH or self.busy:
            return []
        if self.change_cents is None:
            self.message = "cashier.tendered_too_little"
            return []
        return self._settle(tendered_cents=self.tendered.cents)

    def confirm_card(self) -> list[object]:
        if self.step != CARD or self.busy:
            return []
        if len(self.pos_ref.text) < 4:
            self.message = "cashier.pos_ref_missing"
            return []
        return self._settle(pos_ref=self.pos_ref.text)

    def _settle(self, **how: object) -> list[object]:
        assert self.quote is not None and self.shift is not None and self.patient is not None
        self.txn_id = uuid7()
        self.step, self.busy = PAYING, True
        if self.channel != "code":
            self.message = ""
        return [Settle(self.visit, self.shift, self.txn_id, self.patient, self.quote, self.channel, **how)]  # type: ignore[arg-type]

    def settlement_pending(self, visit: int) -> list[object]:
        """An intermediate answer: the payer confirms on the phone."""
        if visit == self.visit and self.step == PAYING:
            self.message = "pay.userpaying"
        return []

    def settled(self, visit: int, outcome: PayOutcome) -> list[object]:
        if visit != self.visit or self.step != PAYING:
            return []
        self.busy, self.outcome = False, outcome
        self.settlement = outcome.result if isinstance(outcome.result, Settlement) else None
        if self.channel == "code":
            self.pay.finish(outcome)
            self.message = self.pay.message
        if outcome.status == "SUCCESS":
            assert self.shift is not None and self.patient is not None and self.quote is not None
            assert self.settlement is not None
            self.step, self.print_state = PAID, PrintState.PRINTING
            self.message = "cashier.paid"
            return [PrintReceipt(visit, self.shift, self.txn_id, self.patient, self.quote, self.settlement)]
        if outcome.status in ("FAILED", "REVERSED", "REFUSED", "NOT_SENT"):
            # Nothing was taken: the bills are free again (or still quoted); list them afresh.
            if self.channel != "code" or outcome.status == "REFUSED":  # a declined code keeps its own words
                code = outcome.error_code
                self.message = message_key(f"server.rejected.{code}") if code else "cashier.not_recorded"
            self.step, self.quote, self.channel = ITEMS, None, ""
            if outcome.status == "NOT_SENT":
                self.message = "server.unavailable"
            if outcome.error_code == "cashier_signed_out":
                return self.signed_out()
            assert self.shift is not None and self.patient is not None
            self.busy = True
            return [LoadItems(visit, self.shift, self.patient.patient_id)]
        # Unknown or still pending: never taken again; the report reconciles it with the server.
        self.step, self.message = PAID, "cashier.unknown"
        return []

    def printed(self, visit: int, ok: bool, key: str = "") -> list[object]:
        if visit != self.visit:
            return []
        self.print_state = PrintState.PRINTED if ok else PrintState.FAILED
        if not ok:
            self.message = key or "printer.error"
        return []

    def reprint(self) -> list[object]:
        if self.print_state is not PrintState.FAILED or self.shift is None or self.patient is None:
            return []
        self.print_state, self.message = PrintState.PRINTING, ""
        if self.step == PAID and self.settlement is not None and self.quote is not None:
            return [PrintReceipt(self.visit, self.shift, self.txn_id, self.patient, self.quote, self.settlement)]
        if self.step == REFUNDED and self.refund is not None and self.refund_payment is not None:
            return [
                PrintRefundSlip(self.visit, self.shift, self.txn_id, self.patient, self.refund_payment, self.refund)
            ]
        return []

    # ---- Refunds: a paid payment of this patient, an amount, a reason, a supervisor's PIN

    def start_refund(self) -> list[object]:
        if self.step != ITEMS or self.busy or self.items is None:
            return []
        if not self.items.recent_payments:
            self.message = "cashier.nothing_to_refund"
            return []
        self.step, self.message, self.refund_payment = REFUND, "", None
        return []

    def choose_payment(self, payment_key: str) -> list[object]:
        if self.step != REFUND or self.items is None:
            return []
        chosen = next((p for p in self.items.recent_payments if p.payment_key == payment_key), None)
        if chosen is not None:
            self.refund_payment = chosen
            self.refund_amount.set_cents(chosen.amount_cents)
            self.refund_pos_ref.clear()
        return []

    def choose_reason(self, reason: str) -> list[object]:
        if self.step == REFUND and reason in REASONS:
            self.refund_reason = reason
        return []

    def refund_key_pressed(self, ch: str, target: str = "amount") -> list[object]:
        if self.step == REFUND:
            (self.refund_amount if target == "amount" else self.refund_pos_ref).key(ch)
        return []

    def refund_delete(self, target: str = "amount") -> list[object]:
        if self.step == REFUND:
            (self.refund_amount if target == "amount" else self.refund_pos_ref).delete()
        return []

    def ask_supervisor(self) -> list[object]:
        if self.step != REFUND or self.refund_payment is None:
            return []
        amount = self.refund_amount.cents
        if amount is None or not 0 < amount <= self.refundable_cents:
            self.message = "cashier.refund_amount"
        elif not self.refund_reason:
            self.message = "cashier.refund_reason"
        elif self.refund_payment.channel == "card" and len(self.refund_pos_ref.text) < 4:
            self.message = "cashier.refund_pos_ref"
        else:
            self.step, self.message, self.approve_field = APPROVE, "", "supervisor_no"
            self.supervisor_no.clear()
            self.supervisor_pin.clear()
        return []

    def choose_approve_field(self, name: str) -> list[object]:
        if self.step == APPROVE and name in ("supervisor_no", "supervisor_pin"):
            self.approve_field = name
        return []

    def approve_key(self, ch: str) -> list[object]:
        if self.step == APPROVE and not self.busy:
            (self.supervisor_no if self.approve_field == "supervisor_no" else self.supervisor_pin).key(ch)
        return []

    def approve_delete(self) -> list[object]:
        if self.step == APPROVE and not self.busy:
            (self.supervisor_no if self.approve_field == "supervisor_no" else self.supervisor_pin).delete()
        return []

    def approve(self) -> list[object]:
        if self.step != APPROVE or self.busy or self.refund_payment is None or self.shift is None:
            return []
        if self.approve_field == "supervisor_no" and self.supervisor_no.text and not self.supervisor_pin.text:
            self.approve_field = "supervisor_pin"
            return []
        if len(self.supervisor_no.text) < 3 or len(self.supervisor_pin.text) < 4:
            self.message = "cashier.signin_incomplete"
            return []
        assert self.patient is not None and self.refund_amount.cents is not None
        self.txn_id = uuid7()
        cmd = Refund(
            self.visit,
            self.shift,
            self.txn_id,
            uuid7(),
            self.patient,
            self.refund_payment,
            self.refund_amount.cents,
            REASONS[self.refund_reason],
            self.supervisor_no.text,
            self.supervisor_pin.text,
            self.refund_pos_ref.text if self.refund_payment.channel == "card" else None,
        )
        self.supervisor_pin.clear()  # the PIN leaves the flow with the command
        self.step, self.busy, self.message = REFUNDING, True, ""
        return [cmd]

    def refund_finished(self, visit: int, outcome: str, refund: CashierRefund | None, key: str = "") -> list[object]:
        if visit != self.visit or self.step != REFUNDING:
            return []
        self.busy, self.refund, self.refund_outcome = False, refund, outcome
        if outcome == "refused":
            if key == SIGNED_OUT:
                return self.signed_out()
            # Nothing was refunded: back to the approval (a wrong PIN) or the refund form.
            self.step = APPROVE if key == "server.rejected.supervisor_not_approved" else REFUND
            self.message = message_key(key) if key else "cashier.refund_refused"
            return []
        self.step = REFUNDED
        self.message = f"cashier.refund_{outcome}"
        if refund is None:
            return []
        assert self.shift is not None and self.patient is not None and self.refund_payment is not None
        self.print_state = PrintState.PRINTING
        return [PrintRefundSlip(visit, self.shift, self.txn_id, self.patient, self.refund_payment, refund)]

    # ---- End of shift

    def end_shift(self) -> list[object]:
        if self.step != IDENTIFY or self.busy or self.shift is None:
            return []
        self.step, self.busy, self.message = REPORT, True, ""
        self.cash_counted.clear()
        return [LoadReport(self.shift)]

    def report_loaded(self, report: ShiftReport) -> list[object]:
        if self.step not in (REPORT, CLOSING):
            return []
        self.report, self.busy = report, False
        if self.step == REPORT and not self.cash_counted.text:
            self.cash_counted.set_cents(report.cash_expected_cents)
        return []

    def counted_key(self, ch: str) -> list[object]:
        if self.step == REPORT and not self.busy:
            self.cash_counted.key(ch)
        return []

    def counted_delete(self) -> list[object]:
        if self.step == REPORT and not self.busy:
            self.cash_counted.delete()
        return []

    def close_shift(self) -> list[object]:
        if self.step != REPORT or self.busy or self.shift is None:
            return []
        counted = self.cash_counted.cents
        if counted is None:
            self.message = "cashier.count_cash"
            return []
        self.step, self.busy, self.message = CLOSING, True, ""
        return [CloseShift(self.shift, counted)]

    def shift_closed(
        self, report: ShiftReport, exported: Exported | None, printed: bool, key: str = ""
    ) -> list[object]:
        if self.step != CLOSING:
            return []
        self.report, self.exported, self.busy, self.step = report, exported, False, CLOSED
        self.print_state = PrintState.PRINTED if printed else PrintState.FAILED
        self.message = "cashier.reconciled" if report.ok else "cashier.mismatches"
        if not printed:
            self.message = key or "printer.error"
        return []

    def reprint_report(self) -> list[object]:
        if self.step != CLOSED or self.report is None or self.print_state is not PrintState.FAILED:
            return []
        self.print_state, self.message = PrintState.PRINTING, ""
        return [PrintReport(self.report)]

    def report_printed(self, ok: bool, key: str = "") -> list[object]:
        if self.step == CLOSED:
            self.print_state = PrintState.PRINTED if ok else PrintState.FAILED
            self.message = "" if ok else key or "printer.error"
        return []

    def leave_window(self) -> list[object]:
        """Out of the cashier mode to the kiosk's home (a lobby kiosk showing the mode: the tour, the
        demo). Only when nobody is signed in, so a shift can never be walked away from this way."""
        if self.step == SIGNIN and not self.busy and self.shift is None:
            self.reset()  # at home: the controller ends the session and wipes every screen
        return []

    def sign_off(self) -> list[object]:
        """After the closed report: the window is free for the next cashier."""
        if self.step != CLOSED:
            return []
        self.reset()
        self.shift, self.step, self.message = None, SIGNIN, ""
        self.visit += 1
        return []
