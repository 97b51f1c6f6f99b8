"""The registration state machine on its own: events in, commands out, no I/O."""

import pytest

from devices.emulators.idcard import sample_cards
from kiosk_app.flows.registration import (
    CancelRegistration,
    IdentifyPatient,
    LoadDepartments,
    LoadDoctors,
    LoadSlots,
    Patient,
    Pay,
    PrintReceipt,
    PrintState,
    Register,
    RegistrationFlow,
    Step,
)
from sync.client import Department, Doctor, PaymentResult, Registration, Slot

DEPT = Department("IM", "内科", "Internal Medicine")
DOC = Doctor("D1", "林志远", "Lin Zhiyuan", "主任医师", "Chief Physician", 5000, 3)
FULL_DOC = Doctor("D2", "周雅琴", "Zhou Yaqin", "副主任医师", "Associate Chief Physician", 3000, 0)
SLOT = Slot(7, "2026-11-22", "08:00", "08:30", 2)
PATIENT = Patient(42, "张*", "110***********0010")
REG = Registration(
    9,
    "R1",
    "unpaid",
    5000,
    "IM",
    "内科",
    "Internal Medicine",
    "林志远",
    "Lin Zhiyuan",
    "主任医师",
    "Chief Physician",
    "2026-11-22",
    "08:00",
    "08:30",
)
WECHAT = "134567890123456780"


def result(status: str, code: str | None = None) -> PaymentResult:
    return PaymentResult("k", status, code, "", None)


def at_departments() -> RegistrationFlow:
    f = RegistrationFlow()
    f.start()
    f.card_read(sample_cards()["zhangsan"])
    f.identified(PATIENT)
    f.departments_loaded([DEPT])
    return f


def at_pay() -> RegistrationFlow:
    f = at_departments()
    f.choose_department(DEPT)
    f.doctors_loaded([DOC])
    f.choose_doctor(DOC)
    f.slots_loaded([SLOT])
    f.choose_slot(SLOT)
    f.confirm()
    f.registered(REG)
    return f


def test_happy_path_commands_in_order() -> None:
    f = RegistrationFlow()
    assert f.start() == [] and f.step is Step.IDENTIFY
    card = sample_cards()["zhangsan"]
    assert f.card_read(card) == [IdentifyPatient(card)] and f.busy
    assert f.identified(PATIENT) == [LoadDepartments()] and f.step is Step.DEPARTMENT
    f.departments_loaded([DEPT])
    assert f.choose_department(DEPT) == [LoadDoctors(DEPT)]
    f.doctors_loaded([DOC])
    assert f.choose_doctor(DOC) == [LoadSlots(DOC)]
    f.slots_loaded([SLOT])
    assert f.choose_slot(SLOT) == [] and f.step is Step.CONFIRM
    (cmd,) = f.confirm()
    assert isinstance(cmd, Register) and cmd.slot == SLOT and cmd.txn_id == f.txn_id
    f.registered(REG)
    assert f.step is Step.PAY and not f.busy
    (pay,) = f.code_scanned(WECHAT)
    assert pay == Pay(f.txn_id, REG, WECHAT) and f.step is Step.PAYING
    assert not f.interruptible
    (printing,) = f.payment_finished(result("SUCCESS"))
    assert printing == PrintReceipt(f.txn_id, PATIENT, REG)
    assert f.step is Step.RESULT and f.paid and f.print_state is PrintState.PRINTING
    f.printed(True)
    assert f.print_state is PrintState.PRINTED


def test_card_only_counts_on_the_identify_screen() -> None:
    f = RegistrationFlow()
    assert f.card_read(sample_cards()["zhangsan"]) == []
    assert f.step is Step.HOME


def test_a_scan_that_is_not_a_payment_code_is_refused_and_the_session_stays() -> None:
    f = at_pay()
    assert f.code_scanned("HOSPITAL-LEAFLET-42") == []
    assert f.step is Step.PAY and f.message == "pay.not_payment_code"
    assert f.code_scanned(WECHAT)  # the next real code still works


def test_a_second_scan_while_paying_is_ignored() -> None:
    f = at_pay()
    f.code_scanned(WECHAT)
    assert f.code_scanned("134567890123456781") == []


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [("FAILED", "NOTENOUGH", "pay.failed.NOTENOUGH"), ("REVERSED", "USERPAYING", "pay.failed.USERPAYING")],
)
def test_failed_payment_returns_to_pay_and_keeps_the_registration(status: str, code: str, message: str) -> None:
    f = at_pay()
    f.code_scanned(WECHAT)
    assert f.payment_finished(result(status, code)) == []
    assert f.step is Step.PAY and f.message == message and f.registration == REG and not f.paid


@pytest.mark.parametrize("final", [None, result("PENDING")])
def test_unknown_outcome_is_never_guessed(final: PaymentResult | None) -> None:
    f = at_pay()
    f.code_scanned(WECHAT)
    assert f.payment_finished(final) == []
    assert f.step is Step.RESULT and f.message == "pay.unknown" and not f.paid
    assert f.print_state is PrintState.NONE


def test_a_command_failure_while_paying_means_unknown_not_failed() -> None:
    f = at_pay()
    f.code_scanned(WECHAT)
    f.failed("server.timeout")
    assert f.step is Step.RESULT and f.message == "pay.unknown"


def test_idle_timeout_cannot_interrupt_a_payment() -> None:
    f = at_pay()
    f.code_scanned(WECHAT)
    assert f.home() == [] and f.step is Step.PAYING


def test_leaving_an_unpaid_registration_releases_the_slot_and_wipes_the_session() -> None:
    f = at_pay()
    txn = f.txn_id
    assert f.home() == [CancelRegistration(txn, REG.registration_id)]
    assert f == RegistrationFlow()  # every field back to its default: nothing of the patient kept


def test_back_from_pay_releases_the_hold() -> None:
    f = at_pay()
    (cancel,) = f.back()
    assert isinstance(cancel, CancelRegistration) and f.step is Step.CONFIRM and f.registration is None


def test_back_walks_the_steps_and_home_wipes() -> None:
    f = at_departments()
    assert f.back() == [] and f.step is Step.IDENTIFY
    f.back()
    assert f.step is Step.HOME and f.patient is None


def test_paid_session_wipe_does_not_cancel() -> None:
    f = at_pay()
    f.code_scanned(WECHAT)
    f.payment_finished(result("SUCCESS"))
    assert f.home() == [] and f.step is Step.HOME


def test_fully_booked_doctor_and_slot_cannot_be_chosen() -> None:
    f = at_departments()
    f.choose_department(DEPT)
    f.doctors_loaded([FULL_DOC, DOC])
    assert f.choose_doctor(FULL_DOC) == [] and f.message == "reg.doctor_full" and f.step is Step.DOCTOR
    f.choose_doctor(DOC)
    f.slots_loaded([Slot(1, "d", "08:00", "08:30", 0)])
    assert f.message == "reg.no_slots"
    assert f.choose_slot(Slot(1, "d", "08:00", "08:30", 0)) == []


def test_slot_taken_meanwhile_reloads_the_slots() -> None:
    f = at_pay()
    f.step, f.busy = Step.CONFIRM, True  # as if Register were in flight
    assert f.failed("server.rejected.slot_full") == [LoadSlots(DOC)]
    assert f.step is Step.SLOT


def test_device_or_server_failure_keeps_the_step_usable() -> None:
    f = RegistrationFlow()
    f.start()
    f.card_read(sample_cards()["zhangsan"])
    f.failed("server.unavailable")
    assert f.step is Step.IDENTIFY and not f.busy and f.message == "server.unavailable"
    assert f.card_read(sample_cards()["zhangsan"])  # try again with the card


def test_print_failure_is_reported_but_the_registration_stands() -> None:
    f = at_pay()
    f.code_scanned(WECHAT)
    f.payment_finished(result("SUCCESS"))
    f.printed(False, "printer.paper_out")
    assert f.paid and f.print_state is PrintState.FAILED and f.message == "printer.paper_out"


def test_a_failed_receipt_can_be_printed_again_but_a_printed_one_cannot() -> None:
    f = at_pay()
    f.code_scanned(WECHAT)
    f.payment_finished(result("SUCCESS"))
    assert f.reprint() == []  # still printing
    f.printed(False, "printer.paper_out")
    (again,) = f.reprint()
    assert again == PrintReceipt(f.txn_id, PATIENT, REG) and f.print_state is PrintState.PRINTING
    f.printed(True)
    assert f.reprint() == []
