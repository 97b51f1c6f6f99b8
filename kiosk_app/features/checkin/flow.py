"""Appointment check-in (预约取号): identify → today's bookings → check in → pay the fee → slip.

Pure: events change the state and return commands the service runs in a worker
(kiosk_app/features/checkin/service.py). The server decides whether a booking may be checked in
now (its window, ServerSettings) and turns it into a registration; the list shows what it would
answer, so a booking that is too early says when check-in opens instead of failing on touch.

A booking paid when it was made gets its slip at once. Otherwise the fee is paid with the shared
pay-by-code step (kiosk_app/features/payment.py). Leaving the pay step does not cancel anything:
the booking held its place before the patient came and keeps it; the checked-in, unpaid visit is
listed again ("touch to pay") and the cashier can take the fee.

Keys: the check-in key is made here and kept for the booking until an answer is known, so a
retry after a lost answer is replayed by the server instead of being refused as checked in.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from kiosk_app.features.base import FeatureFlow
from kiosk_app.features.payment import Answer, CodePay, PayOutcome, PayPhase
from kiosk_app.flows.identify import Patient
from kiosk_app.flows.printing import PrintState
from offline_cache.ids import uuid7
from sync.client import Appointment, CheckIn, Registration

log = logging.getLogger(__name__)

LIST = "checkin.list"
CONFIRM = "checkin.confirm"
CHECKING_IN = "checkin.checking_in"
PAY = "checkin.pay"
PAYING = "checkin.paying"
DONE = "checkin.done"

# A booking the list shows as not open: the message that explains why.
_CLOSED = {
    "too_early": "server.rejected.too_early",
    "too_late": "server.rejected.too_late",
    "cancelled": "server.rejected.appointment_cancelled",
    "no_show": "server.rejected.appointment_no_show",
}


@dataclass(frozen=True)
class LoadAppointments:
    patient_id: int


@dataclass(frozen=True)
class CheckInBooking:
    txn_id: str
    key: str
    patient: Patient
    appointment: Appointment


@dataclass(frozen=True)
class PayFee:
    txn_id: str  # the check-in's journal row, or a new one for a visit checked in earlier
    patient: Patient
    registration: Registration
    auth_code: str = field(repr=False)  # a bearer credential for money: never in a log line


@dataclass(frozen=True)
class PrintSlip:
    txn_id: str
    patient: Patient
    registration: Registration
    queue_no: int
    appt_no: str
    prepaid: bool


def registration_of(appt: Appointment) -> Registration:
    """The registration a checked-in booking became, from the list (to pay it later)."""
    assert appt.registration_id is not None and appt.reg_no is not None
    return Registration(
        registration_id=appt.registration_id,
        reg_no=appt.reg_no,
        status="paid" if appt.paid else "unpaid",
        amount_cents=appt.fee_cents,
        department_code=appt.department_code,
        department_name_zh=appt.department_name_zh,
        department_name_en=appt.department_name_en,
        doctor_name_zh=appt.doctor_name_zh,
        doctor_name_en=appt.doctor_name_en,
        doctor_title_zh=appt.doctor_title_zh,
        doctor_title_en=appt.doctor_title_en,
        date=appt.date,
        start=appt.start,
        end=appt.end,
    )


class CheckinFlow(FeatureFlow):
    feature = "checkin"
    BACK: ClassVar[Mapping[str, str]] = {LIST: "checkin.identify", CONFIRM: LIST, PAY: LIST}
    DEVICES: ClassVar[Mapping[str, str]] = {PAY: "scanner"}
    # A booking or money in flight: no Home, no idle timeout until the answer is in.
    UNINTERRUPTIBLE = frozenset({CHECKING_IN, PAYING})

    # Set by reset_feature(), which the base class calls from __init__ and at every start and end.
    appointments: list[Appointment]
    loaded: bool
    chosen: Appointment | None
    keys: dict[int, tuple[str, str]]  # appointment id -> (txn id, check-in key) awaiting an answer
    txn_id: str
    registration: Registration | None
    queue_no: int
    appt_no: str
    prepaid: bool
    paid: bool
    pay: CodePay
    pay_outcome: PayOutcome | None
    print_state: PrintState

    def reset_feature(self) -> None:
        self.appointments, self.loaded, self.chosen, self.keys = [], False, None, {}
        self.txn_id, self.registration, self.queue_no, self.appt_no = "", None, 0, ""
        self.prepaid = self.paid = False
        self.pay, self.pay_outcome = CodePay(), None
        self.print_state = PrintState.NONE

    # ---- The list

    def identified(self, patient: Patient) -> list[object]:
        self.step, self.busy = LIST, True
        return [LoadAppointments(patient.patient_id)]

    def appointments_loaded(self, appointments: list[Appointment]) -> list[object]:
        if self.step != LIST:
            return []
        self.appointments, self.loaded, self.busy = appointments, True, False
        if not appointments and not self.message:
            self.message = "checkin.none"
        return []

    def choose(self, appt: Appointment) -> list[object]:
        if self.step != LIST or self.busy:
            return []
        if appt.checkin == "open":
            self.step, self.chosen, self.message = CONFIRM, appt, ""
            return []
        if appt.checkin == "done" and appt.paid is False and appt.registration_id is not None:
            # Checked in earlier (here or elsewhere) without paying: pay now.
            self._checked(registration_of(appt), appt.queue_no or 0, appt.appt_no, prepaid=False, txn_id=uuid7())
            return []
        if appt.checkin == "done":
            self.message = "server.rejected.appointment_checked_in"
        elif appt.checkin == "closed":
            # Cancelled, missed, or checked in and its registration cancelled since (at a window).
            self.message = _CLOSED.get(appt.status, "server.rejected.appointment_cancelled")
        else:
            self.message = _CLOSED.get(appt.checkin, "server.rejected")
        return []

    # ---- Check-in

    def confirm(self) -> list[object]:
        if self.step != CONFIRM or self.busy or self.chosen is None or self.patient is None:
            return []
        txn_id, key = self.keys.setdefault(self.chosen.appointment_id, (uuid7(), uuid7()))
        self.step, self.busy, self.message = CHECKING_IN, True, ""
        return [CheckInBooking(txn_id, key, self.patient, self.chosen)]

    def checked_in(self, result: CheckIn) -> list[object]:
        if self.step != CHECKING_IN or self.chosen is None:
            return []
        txn_id, _key = self.keys.pop(self.chosen.appointment_id)
        self.busy = False
        return self._checked(result.registration, result.queue_no, result.appt_no, prepaid=result.paid, txn_id=txn_id)

    # ---- Paying the fee

    def scanned(self, code: str) -> list[object]:
        if self.step != PAY or self.busy or self.registration is None or self.patient is None:
            log.info("scan ignored at step %s", self.step)
            return []
        auth = self.pay.scan(code)
        self.message = self.pay.message
        if auth is None:
            return []
        self.step, self.busy = PAYING, True
        return [PayFee(self.txn_id, self.patient, self.registration, auth)]

    def pay_progress(self, answer: Answer) -> list[object]:
        if self.step == PAYING:
            self.pay.progress(answer)
            self.message = self.pay.message
        return []

    def pay_finished(self, outcome: PayOutcome) -> list[object]:
        if self.step != PAYING:
            return []
        self.busy, self.pay_outcome = False, outcome
        self.pay.finish(outcome)
        self.message = self.pay.message
        if self.pay.phase is PayPhase.PAID:
            self.paid = True
            return self._done_and_print()
        if self.pay.phase is PayPhase.FAILED:
            self.pay.retry()  # definite, nothing charged: another code may be scanned
            self.step = PAY
            return []
        self.step = DONE  # UNKNOWN (the server settles it) or NOT_SENT (pay at the cashier)
        return []

    # ---- The slip

    def reprint(self) -> list[object]:
        if self.step != DONE or self.print_state is not PrintState.FAILED or not (self.paid or self.prepaid):
            return []
        return self._print()

    def printed(self, ok: bool, error_key: str = "") -> list[object]:
        self.print_state = PrintState.PRINTED if ok else PrintState.FAILED
        if not ok:
            self.message = error_key or "printer.error"
        return []

    # ---- Failures and leaving

    def failed(self, key: str) -> list[object]:
        step = self.step
        commands = super().failed(key)
        if step == CHECKING_IN:
            definite = key.startswith("server.rejected.")
            if definite and self.chosen is not None:
                self.keys.pop(self.chosen.appointment_id, None)  # refused: nothing stored under the key
                return self._reload()
            self.step = CONFIRM  # the answer is unknown: the same key is sent again on "Check in"
        elif step == PAYING:
            # The request may have reached the server: unknown, never guessed as failed.
            self.pay.finish(PayOutcome("UNKNOWN"))
            self.step, self.message = DONE, self.pay.message
        return commands

    def leaving_step(self, step: str, target: str) -> list[object]:
        if step == PAY:
            # Checked in, not paid: the booking keeps its place; the list says "touch to pay".
            return self._reload()
        return []

    # ---- Internals

    def _checked(self, reg: Registration, queue_no: int, appt_no: str, *, prepaid: bool, txn_id: str) -> list[object]:
        self.registration, self.queue_no, self.appt_no, self.prepaid = reg, queue_no, appt_no, prepaid
        self.txn_id, self.paid, self.pay_outcome = txn_id, prepaid, None
        self.pay.reset()
        if prepaid:
            self.message = "checkin.done"
            return self._done_and_print()
        self.step, self.message = PAY, ""
        return []

    def _done_and_print(self) -> list[object]:
        self.step = DONE
        return self._print()

    def _print(self) -> list[object]:
        assert self.patient is not None and self.registration is not None
        self.print_state = PrintState.PRINTING
        return [PrintSlip(self.txn_id, self.patient, self.registration, self.queue_no, self.appt_no, self.prepaid)]

    def _reload(self) -> list[object]:
        assert self.patient is not None
        self.step, self.busy, self.chosen = LIST, True, None
        return [LoadAppointments(self.patient.patient_id)]
