"""The bill payment flow, pure: every transition without Qt, devices or a server."""

from __future__ import annotations

from kiosk_app.features.bills.flow import (
    ACCOUNT,
    LIST,
    PAY,
    PAYING,
    PRESETTLE,
    QR,
    RESULT,
    BillsFlow,
    CancelQr,
    CreateQr,
    LoadBills,
    LockBills,
    Outcome,
    PayByCode,
    PayFromAccount,
    PrintBillReceipt,
    PrintState,
    UnlockBills,
    WatchQr,
)
from kiosk_app.features.payment import PayOutcome
from kiosk_app.flows.identify import Method, Patient
from sync.client import AccountPayment, Bill, BillItem, BillLock, QrPayment

WECHAT = "134567890123456780"
ITEM = BillItem("DA01", "阿莫西林胶囊", "Amoxicillin", "drug_a", 1, 3000, 3000)


def bill(bill_id: int, total: int = 3000, status: str = "unpaid") -> Bill:
    return Bill(bill_id, f"B{bill_id}", 7, "prescription", "处方", "Prescription", total, status, 1, None, None,
                None, None, None, (ITEM,))  # fmt: skip


def patient(method: Method = Method.INSURANCE_CARD) -> Patient:
    return Patient(7, "张*", "110***********0010", "", method)


def lock_for(flow: BillsFlow, status: str = "locked", self_pay: int = 1200) -> BillLock:
    bills = flow.selection
    total = sum(b.total_cents for b in bills)
    return BillLock(flow.lock_key, 7, status, "2030-01-01T00:05:00+00:00", "employee", total, total - self_pay,
                    self_pay, bills)  # fmt: skip


def qr(
    flow: BillsFlow, status: str = "PENDING", state: str | None = "awaiting_scan", code: str | None = None
) -> QrPayment:
    assert flow.lock is not None
    return QrPayment(flow.lock.payment_key, status, code, "", "wechat", 1200, qr_state=state,
                     code_url="weixin://wxpay/bizpayurl?pr=abc" if status == "PENDING" else None)  # fmt: skip


def at_presettle(method: Method = Method.INSURANCE_CARD) -> BillsFlow:
    flow = BillsFlow()
    flow.start()
    assert flow.patient_found(patient(method)) == [LoadBills(7)]
    flow.bills_loaded([bill(1), bill(2, 4000)])
    [cmd] = flow.confirm_selection()
    assert isinstance(cmd, LockBills) and cmd.selection == ((1, 1), (2, 1))
    assert cmd.scheme == ("employee" if method in (Method.INSURANCE_CARD, Method.EVOUCHER) else None)
    flow.locked(lock_for(flow))
    assert flow.step == PRESETTLE
    return flow


def test_all_items_selected_at_first_and_toggled() -> None:
    flow = BillsFlow()
    flow.start()
    flow.patient_found(patient(Method.ID_CARD))
    assert flow.step == LIST and flow.busy
    flow.bills_loaded([bill(1), bill(2, 4000)])
    assert flow.selected == {1, 2} and flow.selected_total == 7000
    flow.toggle(1)
    assert flow.selected == {2}
    flow.toggle(2)
    assert flow.confirm_selection() == [] and flow.message == "bills.select_one"
    flow.toggle(1)
    [cmd] = flow.confirm_selection()
    assert isinstance(cmd, LockBills) and cmd.scheme is None  # an ID card alone: no insurance credential


def test_nothing_to_pay_says_so() -> None:
    flow = BillsFlow()
    flow.start()
    flow.patient_found(patient())
    flow.bills_loaded([])
    assert flow.message == "bills.none" and flow.confirm_selection() == []


def test_pay_by_code_success_prints_once() -> None:
    flow = at_presettle()
    flow.choose_code()
    assert flow.step == PAY
    assert flow.code_scanned("HVC:8000000001") == [] and flow.message == "pay.not_payment_code"
    [cmd] = flow.code_scanned(WECHAT)
    assert isinstance(cmd, PayByCode) and flow.step == PAYING and not flow.interruptible
    assert flow.home() == []  # money in flight: Home does nothing
    [printing] = flow.pay_finished(PayOutcome("SUCCESS"))
    assert isinstance(printing, PrintBillReceipt) and printing.method == "code"
    assert (flow.step, flow.outcome, flow.print_state) == (RESULT, Outcome.PAID, PrintState.PRINTING)
    flow.printed(False, "printer.paper_out")
    [again] = flow.reprint()
    assert again == printing
    flow.printed(True)
    assert flow.reprint() == []


def test_a_failed_payment_locks_again_under_a_new_key() -> None:
    flow = at_presettle()
    first = flow.lock_key
    flow.choose_code()
    flow.code_scanned(WECHAT)
    [relock] = flow.pay_finished(PayOutcome("FAILED", "NOTENOUGH"))
    assert isinstance(relock, LockBills) and relock.key != first and flow.step == PRESETTLE
    assert flow.message == "pay.failed.NOTENOUGH" and flow.busy
    flow.locked(lock_for(flow))
    assert flow.step == PRESETTLE and not flow.busy and flow.message == "pay.failed.NOTENOUGH"


def test_an_expired_lock_is_taken_again() -> None:
    flow = at_presettle()
    flow.choose_code()
    flow.code_scanned(WECHAT)
    [relock] = flow.pay_finished(PayOutcome("REFUSED", "bill_lock_expired"))
    assert isinstance(relock, LockBills) and flow.message == "bills.lock_expired"


def test_a_bill_paid_elsewhere_lists_again() -> None:
    flow = at_presettle()
    flow.choose_code()
    flow.code_scanned(WECHAT)
    assert flow.pay_finished(PayOutcome("REFUSED", "already_paid")) == [LoadBills(7)]
    assert flow.step == LIST and flow.message == "bills.refused.already_paid" and flow.lock is None
    flow.bills_loaded([bill(2, 4000)], flow.message)
    assert flow.message == "bills.refused.already_paid" and flow.selected == {2}


def test_stale_lock_refusal_shows_the_fresh_list() -> None:
    flow = at_presettle()
    flow.back()  # to the list: the lock is released
    flow.confirm_selection()
    flow.selection_stale("bill_changed", [bill(1), bill(2, 4500)])
    assert flow.step == LIST and flow.message == "bills.refused.bill_changed" and flow.selected_total == 7500


def test_unknown_and_offline_outcomes() -> None:
    flow = at_presettle()
    flow.choose_code()
    flow.code_scanned(WECHAT)
    assert flow.pay_finished(PayOutcome("UNKNOWN")) == []
    assert (flow.step, flow.outcome, flow.message) == (RESULT, Outcome.UNKNOWN, "pay.unknown")
    assert flow.home() == [] and flow.at_home  # never an unlock: the server settles the payment
    flow = at_presettle()
    key = flow.lock_key
    flow.choose_code()
    flow.code_scanned(WECHAT)
    assert flow.pay_finished(PayOutcome("NOT_SENT")) == [UnlockBills(flow.txn_id, key)]
    assert (flow.outcome, flow.message) == (Outcome.CASHIER, "pay.offline_cashier")


def test_back_and_home_release_the_lock() -> None:
    flow = at_presettle()
    key = flow.lock_key
    assert flow.back() == [UnlockBills(flow.txn_id, key)] and flow.step == LIST and flow.lock is None
    flow.confirm_selection()
    flow.locked(lock_for(flow))
    key, txn = flow.lock_key, flow.txn_id
    flow.choose_code()
    assert flow.back() == [] and flow.step == PRESETTLE  # from the code screen: still held
    assert flow.home() == [UnlockBills(txn, key)] and flow.at_home


def test_qr_payment_scanned_then_paid() -> None:
    flow = at_presettle()
    [create] = flow.choose_qr("wechat")
    assert isinstance(create, CreateQr) and flow.step == QR and not flow.interruptible
    [watch] = flow.qr_update(qr(flow), 95.0)
    assert isinstance(watch, WatchQr) and flow.qr_seconds_left == 95.0 and not flow.busy
    flow.qr_update(qr(flow, state="scanned"))
    assert flow.message == "pay.userpaying"
    [printing] = flow.qr_update(qr(flow, "SUCCESS", None))
    assert isinstance(printing, PrintBillReceipt) and printing.method == "wechat" and flow.outcome is Outcome.PAID


def test_qr_cancel_closes_then_locks_again() -> None:
    flow = at_presettle()
    flow.choose_qr("alipay")
    flow.qr_update(qr(flow))
    key = flow.lock_key
    [cancel] = flow.cancel_qr()
    assert cancel == CancelQr(flow.txn_id, key) and flow.cancel_qr() == []  # one cancel at a time
    [relock] = flow.qr_update(qr(flow, "FAILED", None, "USER_CANCELLED"))
    assert isinstance(relock, LockBills) and flow.step == PRESETTLE and flow.message == "bills.qr_cancelled"
    # a late watch answer for the old key is ignored
    assert flow.qr_update(QrPayment(key, "PENDING", None, "", "alipay", 1200)) == []


def test_qr_paid_while_cancelling_is_paid() -> None:
    flow = at_presettle()
    flow.choose_qr("wechat")
    flow.qr_update(qr(flow))
    flow.cancel_qr()
    [printing] = flow.qr_update(qr(flow, "SUCCESS", None))
    assert isinstance(printing, PrintBillReceipt) and flow.outcome is Outcome.PAID


def test_qr_lost_and_never_made() -> None:
    flow = at_presettle()
    flow.choose_qr("wechat")
    flow.qr_update(qr(flow))
    flow.qr_lost(False)
    assert (flow.step, flow.outcome, flow.message) == (RESULT, Outcome.UNKNOWN, "bills.qr_unknown")
    flow = at_presettle()
    flow.choose_qr("wechat")
    flow.qr_lost(True)
    assert (flow.outcome, flow.message) == (Outcome.CASHIER, "pay.offline_cashier")
    flow = at_presettle()
    flow.choose_qr("wechat")
    flow.failed("server.error")  # no code was ever shown: back to the choice
    assert flow.step == PRESETTLE and flow.message == "server.error"


def test_qr_cancel_that_did_not_arrive_can_be_pressed_again() -> None:
    flow = at_presettle()
    flow.choose_qr("wechat")
    flow.qr_update(qr(flow))
    flow.cancel_qr()
    flow.qr_cancel_failed()
    assert flow.message == "bills.qr_cancel_failed" and len(flow.cancel_qr()) == 1


def test_account_only_after_a_face_identification() -> None:
    flow = at_presettle(Method.INSURANCE_CARD)
    assert not flow.account_offered and flow.choose_account() == []
    flow = at_presettle(Method.FACE)
    assert flow.account_offered
    flow.choose_account()
    assert flow.step == ACCOUNT
    [cmd] = flow.confirm_account()
    assert isinstance(cmd, PayFromAccount) and not flow.interruptible
    flow.account_refused("bills.account_low")
    assert flow.step == PRESETTLE and flow.message == "bills.account_low" and flow.lock is not None
    flow.choose_account()
    flow.confirm_account()
    assert flow.lock is not None
    paid = AccountPayment(flow.lock.payment_key, 1, "B1", (1, 2), "paid", 1200, 5800, 3800)
    [printing] = flow.account_paid(paid)
    assert isinstance(printing, PrintBillReceipt) and printing.method == "account"


def test_fully_covered_is_settled_by_the_lock() -> None:
    flow = BillsFlow()
    flow.start()
    flow.patient_found(patient())
    flow.bills_loaded([bill(1)])
    flow.confirm_selection()
    [printing] = flow.locked(lock_for(flow, "paid", 0))
    assert isinstance(printing, PrintBillReceipt) and flow.outcome is Outcome.COVERED and printing.method == "covered"


def test_offline_sends_to_the_cashier() -> None:
    flow = BillsFlow()
    flow.start()
    flow.patient_found(patient())
    flow.offline()
    assert (flow.step, flow.outcome, flow.message) == (RESULT, Outcome.CASHIER, "bills.offline")


def test_a_late_lock_answer_after_leaving_is_ignored() -> None:
    flow = at_presettle()
    old = flow.lock
    flow.back()
    assert old is not None and flow.locked(old) == [] and flow.step == LIST
