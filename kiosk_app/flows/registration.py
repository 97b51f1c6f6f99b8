"""Registration (挂号): identify → department → doctor → slot → confirm → pay → receipt.

The flow never does I/O. Each event method updates the state and returns the commands the
shell (``kiosk_app/controller.py``) must run in a worker; their results come back as further
events. That keeps every transition testable without Qt, devices or a server, and makes the
rule "nothing blocks the UI" structural rather than a matter of discipline.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import Any

from devices.idcard import IdCardData, mask_id, mask_name
from devices.scanner import is_payment_code
from kiosk_app.flows.printing import PrintState
from offline_cache.ids import uuid7
from offline_cache.offline_ops import IdentityClaim
from sync.client import Department, Doctor, PaymentResult, Registration, Slot

log = logging.getLogger(__name__)


class Step(enum.StrEnum):
    HOME = "home"
    IDENTIFY = "identify"
    DEPARTMENT = "department"
    DOCTOR = "doctor"
    SLOT = "slot"
    CONFIRM = "confirm"
    PAY = "pay"  # waiting for the patient's payment code
    PAYING = "paying"  # the server and provider are deciding
    RESULT = "result"


# Where "back" leads; steps missing here have no back (home, paying, result).
BACK: dict[Step, Step] = {
    Step.IDENTIFY: Step.HOME,
    Step.DEPARTMENT: Step.IDENTIFY,
    Step.DOCTOR: Step.DEPARTMENT,
    Step.SLOT: Step.DOCTOR,
    Step.CONFIRM: Step.SLOT,
    Step.PAY: Step.CONFIRM,
}


@dataclass(frozen=True)
class Patient:
    """What the session keeps of an identity: masked display values and the server's ref.

    ``patient_ref`` 0 with a ``claim``: a first-time patient identified while offline; the card
    data waits in memory (never on screen or in logs) until the filing is queued with the
    registration, and is dropped with the session.
    """

    patient_ref: int
    name_masked: str
    id_masked: str
    claim: IdentityClaim | None = field(default=None, repr=False)


# ---- Commands: what the shell must do next


@dataclass(frozen=True)
class IdentifyPatient:
    card: IdCardData


@dataclass(frozen=True)
class LoadDepartments:
    pass


@dataclass(frozen=True)
class LoadDoctors:
    department: Department


@dataclass(frozen=True)
class LoadSlots:
    doctor: Doctor


@dataclass(frozen=True)
class Register:
    txn_id: str
    patient: Patient
    department: Department
    doctor: Doctor
    slot: Slot


@dataclass(frozen=True)
class Pay:
    txn_id: str
    registration: Registration
    auth_code: str


@dataclass(frozen=True)
class PrintReceipt:
    txn_id: str
    patient: Patient
    registration: Registration


@dataclass(frozen=True)
class CancelRegistration:
    txn_id: str
    registration_id: int


Command = (
    IdentifyPatient | LoadDepartments | LoadDoctors | LoadSlots | Register | Pay | PrintReceipt | CancelRegistration
)


@dataclass
class RegistrationFlow:
    """One patient's session. ``reset()`` drops every reference to their data."""

    step: Step = Step.HOME
    busy: bool = False
    message: str = ""  # a message key (see kiosk_app/messages.py); "" = none
    patient: Patient | None = None
    departments: list[Department] = field(default_factory=list)
    department: Department | None = None
    doctors: list[Doctor] = field(default_factory=list)
    doctor: Doctor | None = None
    slots: list[Slot] = field(default_factory=list)
    slot: Slot | None = None
    txn_id: str = ""
    registration: Registration | None = None
    payment: PaymentResult | None = None
    paid: bool = False
    hold_kept: bool = False  # sent to the cashier: leaving must not release the unpaid slot
    print_state: PrintState = PrintState.NONE

    # ---- State queries

    @property
    def interruptible(self) -> bool:
        """False while money is in flight: idle timeout and "home" must wait for the outcome."""
        return self.step is not Step.PAYING

    @property
    def can_go_back(self) -> bool:
        return self.step in BACK and not self.busy

    @property
    def has_back(self) -> bool:
        """This step has a Back (shown disabled while busy, so the footer never jumps)."""
        return self.step in BACK

    @property
    def at_home(self) -> bool:
        return self.step is Step.HOME

    # ---- Events

    def start(self) -> list[Command]:
        self.reset()
        self.step = Step.IDENTIFY
        return []

    def notify(self, key: str) -> list[Command]:
        """Show a message without changing step (e.g. a service that is not open yet)."""
        self.message = key
        return []

    def card_read(self, card: IdCardData) -> list[Command]:
        if self.step is not Step.IDENTIFY or self.busy:
            log.info("card read ignored at step %s", self.step)
            return []
        self.busy, self.message = True, ""
        return [IdentifyPatient(card)]

    def identified(self, patient: Patient) -> list[Command]:
        self.patient = patient
        self.step, self.busy, self.message = Step.DEPARTMENT, True, ""
        return [LoadDepartments()]

    def departments_loaded(self, departments: list[Department]) -> list[Command]:
        self.departments, self.busy = departments, False
        self.message = "" if departments else "reg.no_departments"
        return []

    def choose_department(self, department: Department) -> list[Command]:
        if self.step is not Step.DEPARTMENT or self.busy:
            return []
        self.department, self.doctors = department, []
        self.step, self.busy, self.message = Step.DOCTOR, True, ""
        return [LoadDoctors(department)]

    def doctors_loaded(self, doctors: list[Doctor]) -> list[Command]:
        self.doctors, self.busy = doctors, False
        self.message = "" if doctors else "reg.no_doctors"
        return []

    def choose_doctor(self, doctor: Doctor) -> list[Command]:
        if self.step is not Step.DOCTOR or self.busy:
            return []
        if doctor.slots_left <= 0:
            self.message = "reg.doctor_full"
            return []
        self.doctor, self.slots = doctor, []
        self.step, self.busy, self.message = Step.SLOT, True, ""
        return [LoadSlots(doctor)]

    def slots_loaded(self, slots: list[Slot]) -> list[Command]:
        self.slots, self.busy = slots, False
        self.message = "" if any(s.left > 0 for s in slots) else "reg.no_slots"
        return []

    def choose_slot(self, slot: Slot) -> list[Command]:
        if self.step is not Step.SLOT or self.busy or slot.left <= 0:
            return []
        self.slot, self.step, self.message = slot, Step.CONFIRM, ""
        return []

    def confirm(self) -> list[Command]:
        if self.step is not Step.CONFIRM or self.busy:
            return []
        assert self.patient and self.department and self.doctor and self.slot
        self.txn_id = uuid7()
        self.busy, self.message = True, ""
        return [Register(self.txn_id, self.patient, self.department, self.doctor, self.slot)]

    def registered(self, registration: Registration) -> list[Command]:
        self.registration = registration
        if registration.status == "pending":
            # Queued offline: the slip says "pending confirmation"; payment at the cashier window.
            assert self.patient is not None
            self.step, self.busy, self.message = Step.RESULT, False, "reg.pending_offline"
            self.print_state = PrintState.PRINTING
            return [PrintReceipt(self.txn_id, self.patient, registration)]
        self.step, self.busy, self.message = Step.PAY, False, ""
        return []

    @property
    def pending(self) -> bool:
        """The registration was queued offline and is not confirmed yet."""
        return self.registration is not None and self.registration.status == "pending"

    def pay_refused_offline(self) -> list[Command]:
        """The server could not be reached, so no payment was attempted: pay at the cashier."""
        if self.step is not Step.PAYING:
            return []
        # The slot stays held (unpaid) on the server: the cashier collects the fee.
        self.step, self.busy, self.message, self.hold_kept = Step.RESULT, False, "pay.offline_cashier", True
        return []

    def code_scanned(self, code: str) -> list[Command]:
        if self.step is not Step.PAY or self.busy:
            log.info("scan ignored at step %s", self.step)
            return []
        if not is_payment_code(code):
            self.message = "pay.not_payment_code"
            return []
        assert self.registration is not None
        self.step, self.busy, self.message, self.payment = Step.PAYING, True, "pay.waiting", None
        return [Pay(self.txn_id, self.registration, code)]

    def payment_progress(self, result: PaymentResult) -> list[Command]:
        if self.step is Step.PAYING:
            self.payment = result
            self.message = "pay.userpaying"
        return []

    def payment_finished(self, result: PaymentResult | None) -> list[Command]:
        """``None`` means the kiosk stopped waiting without a final answer."""
        if self.step is not Step.PAYING:
            return []
        self.payment, self.busy = result, False
        if result is not None and result.status == "SUCCESS":
            assert self.patient and self.registration
            self.paid, self.step, self.message = True, Step.RESULT, "pay.success"
            self.print_state = PrintState.PRINTING
            return [PrintReceipt(self.txn_id, self.patient, self.registration)]
        if result is None or result.status == "PENDING":
            # Unknown outcome: never guess. The server keeps settling it (query, then reverse).
            self.step, self.message = Step.RESULT, "pay.unknown"
            return []
        # FAILED or REVERSED: the registration still holds the slot; another code may be scanned.
        self.step = Step.PAY
        self.message = f"pay.failed.{result.error_code}" if result.error_code else "pay.failed"
        return []

    def reprint(self) -> list[Command]:
        """Try the receipt again after a failed print (the journal allows it: nothing came out)."""
        printable = self.paid or self.pending
        if not (self.step is Step.RESULT and printable and self.print_state is PrintState.FAILED):
            return []
        assert self.patient and self.registration
        self.print_state, self.message = PrintState.PRINTING, ""
        return [PrintReceipt(self.txn_id, self.patient, self.registration)]

    def printed(self, ok: bool, error_key: str = "") -> list[Command]:
        self.print_state = PrintState.PRINTED if ok else PrintState.FAILED
        if not ok:
            self.message = error_key or "printer.error"
        return []

    def failed(self, error_key: str) -> list[Command]:
        """A command failed (device, server, timeout): say so and keep the session usable."""
        self.busy, self.message = False, error_key
        if self.step is Step.PAYING:
            # The payment request may or may not have reached the server: unknown, not failed.
            self.step, self.message = Step.RESULT, "pay.unknown"
        elif error_key == "server.rejected.slot_full" and self.doctor is not None:
            self.step, self.busy, self.slot = Step.SLOT, True, None
            return [LoadSlots(self.doctor)]
        return []

    def back(self) -> list[Command]:
        if not self.can_go_back:
            return []
        commands = self._release_unpaid() if self.step is Step.PAY else []
        self.step, self.message = BACK[self.step], ""
        if self.step is Step.HOME:
            self.reset()
        return commands

    def home(self) -> list[Command]:
        """Home button or idle timeout: release an unpaid hold and wipe the session."""
        if not self.interruptible:
            return []
        commands = self._release_unpaid()
        self.reset()
        return commands

    # ---- Internals

    def _release_unpaid(self) -> list[Command]:
        if self.registration is not None and not (self.paid or self.pending or self.hold_kept):
            reg = self.registration
            self.registration = None
            return [CancelRegistration(self.txn_id, reg.registration_id)]
        return []

    def reset(self) -> None:
        """Forget the patient: every field back to its default."""
        fresh = RegistrationFlow()
        self.__dict__.update(fresh.__dict__)


def patient_from_card(card: IdCardData, patient_ref: int) -> Patient:
    return Patient(patient_ref, mask_name(card.name), mask_id(card.id_number))


def describe(flow: RegistrationFlow) -> dict[str, Any]:
    """A log-safe summary of the session (no identity data)."""
    return {"step": flow.step.value, "busy": flow.busy, "message": flow.message, "txn": flow.txn_id}
