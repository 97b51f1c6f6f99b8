"""The cashier window's flow, pure (no Qt, no I/O): sign-in, patients, settling, refunds, the shift."""

from __future__ import annotations

from typing import Any

import pytest

from devices.idcard import IdCardData
from kiosk_app.features.cashier import commands as c
from kiosk_app.features.cashier.entry import Entry
from kiosk_app.features.cashier.flow import CashierFlow
from kiosk_app.features.payment import PayOutcome
from kiosk_app.flows.identify import FindPatient, Method, Patient
from kiosk_app.flows.printing import PrintState
from sync.client import (
    Bill,
    CashierItems,
    CashierPatient,
    CashierQuote,
    CashierRefund,
    CashierShift,
    ChannelTotal,
    RecentPayment,
    Registration,
    Settlement,
    ShiftReport,
)
from sync.staffcard import staff_card_hash

SHIFT = CashierShift(7, "1001", "cashier-wang", False, "KIOSK-C1", "3号窗口", "open", "2025-01-02T08:00:00", None,
                     "2025-01-02T09:00:00", token="secret-token")  # fmt: skip
PATIENT = Patient(42, "张*三", "110***********0011", "800000000420", Method.ID_CARD)
PAYMENT_CODE = "134567890123456780"


def bill(bill_id: int, total: int = 4600, status: str = "unpaid") -> Bill:
    return Bill(bill_id, f"B{bill_id}", 42, "prescription", "门诊处方", "Prescription", total, status, 1, None, None,
                None, None, None)  # fmt: skip


def registration(reg_id: int, amount: int = 1500) -> Registration:
    return Registration(reg_id, f"R{reg_id}", "unpaid", amount, "IM", "内科", "Internal Medicine", "林", "Lin",
                        "主任", "Chief", "2025-01-02", "09:00", "09:30")  # fmt: skip


def payment(key: str = "pay-key-0001", channel: str = "cash", amount: int = 3000) -> RecentPayment:
    return RecentPayment(key, channel, amount, "2025-01-02T08:30:00", 1, None, "门诊处方", "Prescription")


def items(bills: tuple[Bill, ...] = (bill(1), bill(2)), regs: tuple[Registration, ...] = (registration(5),),
          payments: tuple[RecentPayment, ...] = ()) -> CashierItems:  # fmt: skip
    return CashierItems(
        CashierPatient(42, "800000000420", "张*三", "110***********0011", "M", 1980), bills, regs, payments
    )


def quote(key: str, bills: tuple[Bill, ...] = (bill(1),), regs: tuple[Registration, ...] = ()) -> CashierQuote:
    self_pay = 2000 * len(bills) + sum(r.amount_cents for r in regs)
    return CashierQuote(key, 42, "locked" if bills else None, None, bills, regs, 2600 * len(bills), 2000 * len(bills),
                        self_pay)  # fmt: skip


def settlement(key: str, channel: str, status: str = "SUCCESS", amount: int = 2000) -> Settlement:
    return Settlement(key, 7, 42, channel, (1,), (), amount, None, None, None, status, None, "2025-01-02T08:40:00")


def report(ok: bool = True) -> ShiftReport:
    totals = {ch: ChannelTotal(0, 0) for ch in ("code", "cash", "card")}
    return ShiftReport(SHIFT, "now", totals, {}, 0, 0, 0, 0, 0, 12345, None, None, False, (), ok)


def signed_in() -> CashierFlow:
    flow = CashierFlow()
    flow.start()
    flow.busy = True
    flow.signed_in(SHIFT)
    return flow


def at_items(**kw: Any) -> CashierFlow:
    flow = signed_in()
    flow.busy = True
    [load] = flow.patient_found(PATIENT)
    assert isinstance(load, c.LoadItems) and load.patient_id == 42
    flow.items_loaded(load.visit, items(**kw))
    return flow


def at_take(channel_items: tuple[Bill, ...] = (bill(1),), regs: tuple[Registration, ...] = ()) -> CashierFlow:
    flow = at_items(bills=channel_items, regs=regs)
    [q] = flow.settle_selected()
    assert isinstance(q, c.Quote)
    flow.quoted(q.visit, quote(q.key, channel_items, regs))
    assert flow.step == c.TAKE
    return flow


# -- sign-in ---------------------------------------------------------------------------------------


def test_sign_in_by_number_and_pin_never_keeps_the_pin() -> None:
    flow = CashierFlow()
    assert flow.start() == [] and flow.step == c.SIGNIN and not flow.has_back
    for ch in "1001":
        flow.signin_key(ch)
    assert flow.submit_signin() == [] and flow.signin_field == "pin"  # OK moves on to the PIN
    for ch in "25":
        flow.signin_key(ch)
    assert flow.submit_signin() == [] and flow.message == "cashier.signin_incomplete"
    for ch in "80":
        flow.signin_key(ch)
    [cmd] = flow.submit_signin()
    assert cmd == c.SignIn("1001", "2580") and "2580" not in repr(cmd)
    assert flow.pin.text == "" and flow.busy and "2580" not in repr(flow.pin)
    assert flow.submit_signin() == []  # busy: no second request
    flow.signed_in(SHIFT)
    assert flow.step == c.IDENTIFY and flow.shift == SHIFT and flow.message == "cashier.shift_opened"
    assert not flow.has_back and flow.face_ok is False


def test_a_staff_card_signs_in_by_its_hash_and_later_identifies_patients() -> None:
    flow = CashierFlow()
    flow.start()
    card = IdCardData(name="王五", id_number="110105198503150019")
    [cmd] = flow.card_read(card)
    assert cmd == c.SignIn(card_hash=staff_card_hash("110105198503150019"))
    assert "110105198503150019" not in repr(cmd)
    flow.signed_in(SHIFT)
    [find] = flow.card_read(IdCardData(name="张三", id_number="110105198001010011"))
    assert isinstance(find, FindPatient) and find.method is Method.ID_CARD  # now the patient's card


def test_home_keeps_the_shift_lock_and_a_lapsed_token_sign_out() -> None:
    flow = at_items()
    visit = flow.visit
    assert flow.home() == [] and flow.step == c.IDENTIFY and flow.shift == SHIFT and flow.patient is None
    assert flow.visit == visit + 1
    [out] = flow.lock_window()
    assert out == c.SignOut(SHIFT) and flow.shift is None and flow.step == c.SIGNIN
    assert flow.home() == [] and flow.step == c.SIGNIN

    flow = at_items()
    flow.failed(c.SIGNED_OUT)
    assert flow.step == c.SIGNIN and flow.shift is None and flow.message == "cashier.signed_out"


def test_a_typed_visit_card_number_and_a_late_answer_for_the_previous_patient() -> None:
    flow = signed_in()
    for ch in "800000000420":
        flow.visit_key(ch)
    flow.visit_delete()
    flow.visit_key("0")
    [find] = flow.submit_visit_no()
    assert find == FindPatient(Method.TYPED, "800000000420") and flow.visit_no.text == ""
    [load] = flow.patient_found(PATIENT)
    flow.home()
    assert flow.items_loaded(load.visit, items()) == [] and flow.items is None  # dropped


# -- settling --------------------------------------------------------------------------------------


def test_items_are_preselected_and_quoted_under_a_new_key() -> None:
    flow = at_items(bills=(bill(1), bill(2), bill(3, status="locked")))
    assert flow.selected_bills == {1, 2} and flow.selected_regs == {5}
    assert flow.selected_total_cents == 2 * 4600 + 1500
    flow.toggle_bill(2)
    flow.toggle_registration(5)
    [q] = flow.settle_selected()
    assert q.bills == ((1, 1),) and q.registration_ids == () and q.patient_id == 42 and len(q.key) == 36
    assert flow.toggle_bill(1) == [] and flow.selected_bills == {1}  # busy quoting: no change
    flow.busy = False
    flow.toggle_bill(1)
    assert flow.settle_selected() == [] and flow.message == "cashier.select_something"


def test_cash_takes_the_tendered_amount_and_prints_once_paid() -> None:
    flow = at_take()
    assert flow.choose_channel("cash") == [] and flow.step == c.CASH and flow.tendered.cents == 2000
    flow.tender(1000)
    assert flow.confirm_cash() == [] and flow.message == "cashier.tendered_too_little"
    flow.tender(5000)
    assert flow.change_cents == 3000
    [settle] = flow.confirm_cash()
    assert isinstance(settle, c.Settle) and settle.channel == "cash" and settle.tendered_cents == 5000
    assert flow.step == c.PAYING and not flow.interruptible and flow.home() == []
    done = flow.settled(settle.visit, PayOutcome("SUCCESS", None, settlement(settle.quote.key, "cash")))
    assert flow.step == c.PAID and isinstance(done[0], c.PrintReceipt)
    assert flow.print_state is PrintState.PRINTING
    flow.printed(settle.visit, False, "printer.paper_out")
    assert flow.print_state is PrintState.FAILED and flow.message == "printer.paper_out"
    [again] = flow.reprint()
    assert again == done[0]
    assert flow.home() == [] and flow.step == c.IDENTIFY  # the next patient; nothing to release: paid


def test_card_needs_the_pos_reference_and_a_refusal_lists_the_items_again() -> None:
    flow = at_take()
    flow.choose_channel("card")
    assert flow.confirm_card() == [] and flow.message == "cashier.pos_ref_missing"
    for ch in "R-0012":
        flow.amount_key(ch)
    assert flow.pos_ref.text == "0012"  # the keypad has digits only: what a POS slip prints
    [settle] = flow.confirm_card()
    assert settle.pos_ref == "0012"
    [reload] = flow.settled(settle.visit, PayOutcome("REFUSED", "bill_lock_expired"))
    assert flow.step == c.ITEMS and flow.quote is None and isinstance(reload, c.LoadItems)
    assert flow.message == "cashier.rejected.bill_lock_expired"


def test_a_payment_code_pays_one_order_and_unknown_is_never_taken_again() -> None:
    both = at_take(regs=(registration(5),))
    assert both.choose_channel("code") == [] and both.message == "cashier.code_one_order"
    flow = at_take()
    flow.choose_channel("code")
    assert flow.step == c.CODE and flow.device == "scanner"
    assert flow.code_scanned("HVC:800000000420") == [] and flow.message == "pay.not_payment_code"
    [settle] = flow.code_scanned(PAYMENT_CODE)
    assert settle.auth_code == PAYMENT_CODE and PAYMENT_CODE not in repr(settle)
    assert flow.code_scanned(PAYMENT_CODE) == []  # in flight
    flow.settlement_pending(settle.visit)
    assert flow.message == "pay.userpaying"
    assert flow.settled(settle.visit, PayOutcome("UNKNOWN")) == []
    assert flow.step == c.PAID and flow.message == "cashier.unknown" and flow.settlement is None


def test_back_from_the_quote_gives_the_bills_back() -> None:
    flow = at_take()
    key = flow.quote.key if flow.quote else ""
    assert flow.back() == [c.Release(SHIFT, key)] and flow.step == c.ITEMS and flow.quote is None
    flow = at_take()
    assert isinstance(flow.home()[0], c.Release)  # Home mid-quote releases too


# -- refunds ---------------------------------------------------------------------------------------


def test_refund_needs_a_payment_amount_reason_and_the_supervisor() -> None:
    flow = at_items(payments=())
    assert flow.start_refund() == [] and flow.message == "cashier.nothing_to_refund"
    flow = at_items(payments=(payment("k-card-0001", "card"), payment(amount=6000)))
    flow.start_refund()
    assert flow.step == c.REFUND
    flow.choose_payment("pay-key-0001")
    assert flow.refund_amount.cents == 6000
    flow.refund_delete()
    flow.refund_delete()
    flow.refund_key_pressed("5")
    flow.refund_key_pressed("0")
    flow.refund_key_pressed("0")  # ¥500: more than was paid
    assert flow.ask_supervisor() == [] and flow.message == "cashier.refund_amount"
    flow.refund_delete()
    assert flow.ask_supervisor() == [] and flow.message == "cashier.refund_reason"
    flow.choose_reason("overcharged")
    assert flow.ask_supervisor() == [] and flow.step == c.APPROVE
    for ch in "9001":
        flow.approve_key(ch)
    flow.approve()
    for ch in "8642":
        flow.approve_key(ch)
    [refund] = flow.approve()
    assert refund.amount_cents == 5000 and refund.reason == "多收费用" and refund.supervisor_pin == "8642"
    assert "8642" not in repr(refund) and flow.supervisor_pin.text == "" and flow.step == c.REFUNDING
    flow.refund_finished(refund.visit, "refused", None, "server.rejected.supervisor_not_approved")
    assert flow.step == c.APPROVE and flow.message == "cashier.rejected.supervisor_not_approved"

    flow.approve_key("8")
    flow.choose_approve_field("supervisor_pin")
    for ch in "8642":
        flow.approve_key(ch)
    [refund] = flow.approve()
    made = CashierRefund(refund.refund_key, 7, "pay-key-0001", "cash", 5000, "多收费用", "9001", None, "refunded",
                         None, "now")  # fmt: skip
    [slip] = flow.refund_finished(refund.visit, "refunded", made)
    assert flow.step == c.REFUNDED and isinstance(slip, c.PrintRefundSlip) and flow.message == "cashier.refund_refunded"

    card = at_items(payments=(payment("k-card-0001", "card"),))
    card.start_refund()
    card.choose_payment("k-card-0001")
    card.choose_reason("duplicate")
    assert card.ask_supervisor() == [] and card.message == "cashier.refund_pos_ref"
    for ch in "7788":
        card.refund_key_pressed(ch, "pos_ref")
    card.ask_supervisor()
    assert card.step == c.APPROVE


# -- end of shift ----------------------------------------------------------------------------------


def test_end_of_shift_counts_the_cash_closes_and_signs_off() -> None:
    flow = signed_in()
    [load] = flow.end_shift()
    assert load == c.LoadReport(SHIFT) and flow.step == c.REPORT and flow.has_back
    flow.report_loaded(report())
    assert flow.cash_counted.cents == 12345 and not flow.busy
    flow.counted_delete()
    flow.counted_key("0")
    [close] = flow.close_shift()
    assert close == c.CloseShift(SHIFT, 12340) and flow.step == c.CLOSING and flow.home() == []
    flow.failed("server.unavailable")
    assert flow.step == c.REPORT and not flow.busy  # a failed close can be tried again
    [close] = flow.close_shift()
    flow.shift_closed(report(ok=False), c.Exported("/x.json", "/x.csv"), printed=False, key="printer.paper_out")
    assert flow.step == c.CLOSED and flow.message == "printer.paper_out"
    [again] = flow.reprint_report()
    assert isinstance(again, c.PrintReport)
    flow.report_printed(True)
    assert flow.print_state is PrintState.PRINTED and flow.message == ""
    flow.sign_off()
    assert flow.step == c.SIGNIN and flow.shift is None


@pytest.mark.parametrize(
    ("keys", "cents"),
    [("12", 1200), ("12.5", 1250), ("12.05", 1205), ("0.999", 99), (".5", 50), ("", None), (".", 0),
     ("1234567", 12345600), ("007", 700)],
)  # fmt: skip
def test_yuan_entry(keys: str, cents: int | None) -> None:
    entry = Entry("yuan")
    for ch in keys:
        entry.key(ch)
    assert entry.cents == cents
    entry.set_cents(4650)
    assert entry.text == "46.5" and entry.cents == 4650
