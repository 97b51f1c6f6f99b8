"""The check-in flow on its own (no Qt, no I/O): what each booking state does on touch, keys kept
across an unknown answer, the fee with the shared pay step, leaving the pay step, the slip."""

from __future__ import annotations

from dataclasses import replace

from kiosk_app.demo import DEMO_CODES
from kiosk_app.features.checkin.flow import (
    CHECKING_IN,
    CONFIRM,
    DONE,
    LIST,
    PAY,
    PAYING,
    CheckInBooking,
    CheckinFlow,
    LoadAppointments,
    PayFee,
    PrintSlip,
    PrintState,
)
from kiosk_app.features.payment import PayOutcome
from kiosk_app.flows.identify import Patient
from sync.client import Appointment, CheckIn, PaymentResult, Registration

PATIENT = Patient(7, "张*", "110***********0010")


def appt(appointment_id: int, checkin: str = "open", **kw: object) -> Appointment:
    base = Appointment(
        appointment_id, f"A{appointment_id}", "booked", "phone", False, 5000, "SURG", "外科", "Surgery",
        "D04", "赵承宇", "Zhao", "主任医师", "Chief", "2026-03-01", "10:20", "10:50", checkin,
        "2026-03-01T09:20", "2026-03-01T10:35", None, None, None, None,
    )  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


def registration(status: str = "unpaid") -> Registration:
    return Registration(
        41, "R20260301000041", status, 5000, "SURG", "外科", "Surgery", "赵承宇", "Zhao", "主任医师", "Chief",
        "2026-03-01", "10:20", "10:50",
    )  # fmt: skip


def at_list(*appointments: Appointment) -> CheckinFlow:
    flow = CheckinFlow()
    flow.start()
    assert flow.patient_found(PATIENT) == [LoadAppointments(7)]
    flow.appointments_loaded(list(appointments))
    assert flow.step == LIST and not flow.busy
    return flow


def checked_in(flow: CheckinFlow, *, paid: bool = False) -> CheckInBooking:
    assert flow.choose(flow.appointments[0]) == [] and flow.step == CONFIRM
    (cmd,) = flow.confirm()
    assert isinstance(cmd, CheckInBooking) and flow.step == CHECKING_IN and not flow.interruptible
    result = CheckIn(cmd.appointment.appointment_id, "A1", 12, paid, registration("paid" if paid else "unpaid"))
    flow.checked_in(result)
    return cmd


def test_each_state_on_touch() -> None:
    flow = at_list(
        appt(1, "too_early"),
        appt(2, "too_late"),
        appt(3, "closed", status="cancelled"),
        appt(4, "closed", status="no_show"),
        appt(5, "done", status="checked_in", registration_id=41, reg_no="R1", queue_no=3, paid=True),
        appt(6, "closed", status="checked_in", registration_id=42, reg_no="R2", queue_no=4),  # refunded since
    )
    for a, key in zip(
        flow.appointments,
        [
            "server.rejected.too_early",
            "server.rejected.too_late",
            "server.rejected.appointment_cancelled",
            "server.rejected.appointment_no_show",
            "server.rejected.appointment_checked_in",
            "server.rejected.appointment_cancelled",
        ],
        strict=True,
    ):
        assert flow.choose(a) == [] and flow.step == LIST and flow.message == key
    assert at_list().message == "checkin.none"


def test_check_in_then_pay_then_the_slip() -> None:
    flow = at_list(appt(1))
    cmd = checked_in(flow)
    assert flow.step == PAY and flow.queue_no == 12 and flow.txn_id == cmd.txn_id and flow.keys == {}
    assert flow.scanned(DEMO_CODES["not_payment"]) == [] and flow.message == "pay.not_payment_code"
    (pay,) = flow.scanned(DEMO_CODES["success"])
    assert isinstance(pay, PayFee) and pay.txn_id == cmd.txn_id and flow.step == PAYING
    assert "auth_code" not in repr(pay) and DEMO_CODES["success"] not in repr(pay)
    assert flow.home() == [] and flow.step == PAYING  # money in flight: no Home
    flow.pay_progress(PaymentResult("k", "PENDING", "USERPAYING", "", None))
    assert flow.message == "pay.userpaying"
    (slip,) = flow.pay_finished(PayOutcome("SUCCESS"))
    assert isinstance(slip, PrintSlip) and flow.step == DONE and flow.paid and slip.queue_no == 12
    assert flow.reprint() == []  # printing, not failed
    flow.printed(False, "printer.paper_out")
    assert flow.message == "printer.paper_out" and flow.print_state is PrintState.FAILED
    assert isinstance(flow.reprint()[0], PrintSlip)


def test_a_prepaid_booking_goes_straight_to_the_slip() -> None:
    flow = at_list(appt(1, prepaid=True))
    flow.choose(flow.appointments[0])
    assert len(flow.confirm()) == 1
    commands = flow.checked_in(CheckIn(1, "A1", 5, True, registration("paid")))
    assert flow.step == DONE and flow.message == "checkin.done" and isinstance(commands[0], PrintSlip)
    assert commands[0].prepaid


def test_an_unknown_check_in_answer_keeps_the_key_and_a_refusal_reloads() -> None:
    flow = at_list(appt(1))
    flow.choose(flow.appointments[0])
    (first,) = flow.confirm()
    flow.failed("server.timeout")
    assert flow.step == CONFIRM and flow.message == "server.timeout"
    (again,) = flow.confirm()
    assert isinstance(again, CheckInBooking) and isinstance(first, CheckInBooking)
    assert (again.key, again.txn_id) == (first.key, first.txn_id)  # the server replays it
    assert flow.failed("server.rejected.too_late") == [LoadAppointments(7)]
    assert flow.step == LIST and flow.busy and flow.message == "server.rejected.too_late" and flow.keys == {}


def test_a_refused_payment_waits_for_another_code_and_an_unknown_one_is_never_guessed() -> None:
    flow = at_list(appt(1))
    checked_in(flow)
    flow.scanned(DEMO_CODES["insufficient"])
    assert flow.pay_finished(PayOutcome("FAILED", "NOTENOUGH")) == []
    assert flow.step == PAY and flow.message == "pay.failed.NOTENOUGH"
    flow.scanned(DEMO_CODES["success"])
    flow.failed("server.timeout")  # the worker died mid-payment
    assert flow.step == DONE and flow.message == "pay.unknown" and not flow.paid
    assert flow.reprint() == []  # nothing to print for an unpaid visit


def test_leaving_the_pay_step_cancels_nothing_and_the_visit_is_paid_from_the_list() -> None:
    flow = at_list(appt(1))
    checked_in(flow)
    assert flow.back() == [LoadAppointments(7)] and flow.step == LIST  # no CancelRegistration
    done = appt(1, "done", status="checked_in", registration_id=41, reg_no="R20260301000041", queue_no=12, paid=False)
    flow.appointments_loaded([done])
    assert flow.choose(flow.appointments[0]) == [] and flow.step == PAY
    assert flow.registration is not None and flow.registration.registration_id == 41 and flow.queue_no == 12
    (pay,) = flow.scanned(DEMO_CODES["success"])
    assert isinstance(pay, PayFee) and pay.registration.amount_cents == 5000 and pay.txn_id


def test_offline_at_the_pay_step_sends_the_patient_to_the_cashier() -> None:
    flow = at_list(appt(1))
    checked_in(flow)
    flow.scanned(DEMO_CODES["success"])
    assert flow.pay_finished(PayOutcome("NOT_SENT", "unavailable")) == []
    assert flow.step == DONE and flow.message == "pay.offline_cashier"
    flow.home()
    assert flow.at_home and flow.registration is None and flow.patient is None and flow.appointments == []
