"""退号 and reprint without Qt: the pure flows, and the journal's reprint records on a real local store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk_app.features.refund.flow import (
    CONFIRM,
    DONE,
    LIST,
    REFUNDING,
    LoadRefundable,
    Outcome,
    PrintRefundSlip,
    PrintState,
    RefundFlow,
    RefundRegistration,
)
from kiosk_app.features.reprint.flow import LoadPrints, Reprint, ReprintFlow
from kiosk_app.features.reprint.flow import PrintState as ReprintState
from kiosk_app.features.reprint.slip import reprint_slip
from kiosk_app.flows.identify import Patient
from offline_cache.journal import Journal
from offline_cache.reprints import MAX_REPRINTS, PrintRecord, next_reprint_job, recent_prints
from offline_cache.store import Store
from sync.client import RefundableRegistration, RefundResult, Registration

PATIENT = Patient(7, "张*", "110***********0010")


def _registration(reg_id: int = 41) -> Registration:
    return Registration(
        reg_id, f"R20260101{reg_id:06d}", "paid", 1500, "NEU", "神经内科", "Neurology",
        "王医生", "Dr Wang", "主任医师", "Chief", "2026-01-02", "09:00", "09:30",
    )  # fmt: skip


def _item(refundable: bool = True, reason: str | None = None, reg_id: int = 41) -> RefundableRegistration:
    return RefundableRegistration(_registration(reg_id), refundable, reason, "2026-01-02T08:30", 1500, "wechat")


def _result(status: str = "refunded") -> RefundResult:
    return RefundResult(
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "pay-key-0001", 41, status, 1500, 1500, 0, "wechat", "退号",
        "kiosk:K1", None, None, "", "2026-01-01T00:00:00.000+00:00", None,
    )  # fmt: skip


def _at_list(flow: RefundFlow, items: list[RefundableRegistration]) -> None:
    flow.start()
    assert flow.patient_found(PATIENT) == [LoadRefundable(7)] and flow.step == LIST and flow.busy
    assert flow.listed(items) == [] and not flow.busy


# ---- 退号 flow


def test_refund_flow_happy_path_prints_once_and_cannot_be_left_while_refunding() -> None:
    flow = RefundFlow()
    blocked = _item(False, "refund_window_closed", reg_id=40)
    _at_list(flow, [blocked, _item()])
    assert flow.refundable == (_item(),) and flow.message == ""
    assert flow.choose(blocked) == [] and flow.message == "refund.blocked.refund_window_closed" and flow.step == LIST
    assert flow.choose(_item()) == [] and flow.step == CONFIRM and flow.message == ""
    assert flow.back() == [] and flow.step == LIST  # change of mind: nothing happened
    flow.choose(_item())
    (cmd,) = flow.confirm()
    assert isinstance(cmd, RefundRegistration) and cmd.item == _item() and cmd.patient == PATIENT
    assert flow.step == REFUNDING and flow.busy and not flow.interruptible and not flow.has_back
    assert flow.confirm() == [] and flow.home() == [] and flow.step == REFUNDING  # no second request, no leaving
    flow.refund_key_stored("key-1")
    (slip,) = flow.refund_finished(Outcome.REFUNDED, _result())
    assert isinstance(slip, PrintRefundSlip) and slip.outcome is Outcome.REFUNDED and slip.txn_id == cmd.txn_id
    assert flow.step == DONE and flow.print_state is PrintState.PRINTING and flow.message == ""
    assert flow.refund_key == _result().refund_key
    assert flow.reprint() == []  # only after a failed print
    flow.printed(False, "printer.paper_out")
    assert flow.print_state is PrintState.FAILED and flow.message == "printer.paper_out"
    (again,) = flow.reprint()
    assert again == slip  # the same job: the journal prints it at most once
    flow.printed(True)
    assert flow.home() == [] and flow.at_home and flow.patient is None and flow.chosen is None


@pytest.mark.parametrize(
    ("outcome", "message"),
    [(Outcome.PENDING, "refund.pending"), (Outcome.FAILED, "refund.failed"), (Outcome.UNKNOWN, "refund.unknown")],
)
def test_refund_flow_other_outcomes_still_print_a_slip(outcome: Outcome, message: str) -> None:
    flow = RefundFlow()
    _at_list(flow, [_item()])
    flow.choose(_item())
    flow.confirm()
    (slip,) = flow.refund_finished(outcome, None if outcome is Outcome.UNKNOWN else _result("pending"))
    assert isinstance(slip, PrintRefundSlip) and flow.message == message and flow.step == DONE


def test_a_refused_refund_goes_back_to_a_fresh_list_with_the_reason() -> None:
    flow = RefundFlow()
    _at_list(flow, [_item()])
    flow.choose(_item())
    flow.confirm()
    assert flow.refund_refused("server.rejected.refund_window_closed") == [LoadRefundable(7)]
    assert flow.step == LIST and flow.chosen is None and flow.busy
    flow.listed([_item(False, "refund_window_closed")])
    assert flow.message == "server.rejected.refund_window_closed"  # the reason stays on screen


def test_an_empty_list_says_why() -> None:
    flow = RefundFlow()
    _at_list(flow, [])
    assert flow.message == "refund.none"
    flow = RefundFlow()
    _at_list(flow, [_item(False, "already_checked_in")])
    assert flow.message == "refund.none_in_window"


def test_a_failure_while_refunding_is_not_taken_as_nothing_happened() -> None:
    flow = RefundFlow()
    _at_list(flow, [_item()])
    flow.choose(_item())
    flow.confirm()
    (slip,) = flow.failed("error.unexpected")
    assert isinstance(slip, PrintRefundSlip) and slip.outcome is Outcome.UNKNOWN
    assert flow.step == DONE and flow.message == "error.unexpected"


# ---- Reprint flow


def _record(reprints: int = 0) -> PrintRecord:
    return PrintRecord(
        "t1:receipt", "t1", "registration", "示范医院\n挂号凭条", (("挂号序号", "R1"),), "", "printed", reprints
    )


def test_reprint_flow() -> None:
    flow = ReprintFlow()
    flow.start()
    assert flow.patient_found(PATIENT) == [LoadPrints("7")]
    flow.listed([])
    assert flow.message == "reprint.none"
    flow.listed([_record(), _record(MAX_REPRINTS)])
    assert flow.choose(_record(MAX_REPRINTS)) == [] and flow.message == "reprint.limit"
    assert flow.choose(_record()) == [Reprint(_record())] and flow.busy
    assert flow.choose(_record()) == []  # a double tap
    flow.reprinted(False, "printer.paper_out", 1)
    assert flow.step == "reprint.done" and flow.print_state is ReprintState.FAILED
    assert flow.again() == [Reprint(_record())]
    flow.reprinted(True, "", 1)
    assert flow.print_state is ReprintState.PRINTED and flow.copy_no == 1 and flow.again() == []
    assert flow.back() == [LoadPrints("7")] and flow.step == "reprint.list" and flow.busy


# ---- The journal's reprint records


def _txn(journal: Journal, txn_id: str, patient_ref: str, title: str = "示范医院\n挂号凭条") -> str:
    journal.create(txn_id, "registration", patient_masked="张* 110***********0010", patient_ref=patient_ref)
    job_id = f"{txn_id}:receipt"
    assert journal.claim_print(job_id, txn_id, {"title": title, "lines": [["挂号序号", txn_id]]}).allowed
    journal.finish_print(job_id, ok=True)
    return job_id


def test_recent_prints_are_the_patients_own_originals_newest_first(tmp_path: Path) -> None:
    store = Store(tmp_path / "kiosk.db")
    try:
        journal = Journal(store)
        first = _txn(journal, "t1", "7")
        _txn(journal, "t2", "8")  # another patient
        second = _txn(journal, "t3", "7", "示范医院\n退号凭条")
        journal.create("t4", "filing", patient_masked="x", patient_ref="")  # nobody's yet
        # A lab report's copy: the server counts those and a second needs a reason, so never listed here.
        journal.create("t5", "report_print", patient_masked="张* 110***********0010", patient_ref="7")
        assert journal.claim_print("t5:report", "t5", {"title": "示范医院\n检验报告"}).allowed
        journal.finish_print("t5:report", ok=True)
        records = recent_prints(journal, "7")
        assert [r.job_id for r in records] == [second, first]
        assert records[0].lines == (("挂号序号", "t3"),) and records[0].reprints == 0
        assert recent_prints(journal, "") == []

        # Copies: numbered, counted while printed or possibly printed, a failed one retried under its id.
        assert next_reprint_job(journal, first) == (f"{first}:reprint:1", 1)
        journal.claim_print(f"{first}:reprint:1", "t1", {"title": "x"})
        journal.finish_print(f"{first}:reprint:1", ok=False, error_code="paper_out")
        assert next_reprint_job(journal, first) == (f"{first}:reprint:1", 1)
        journal.claim_print(f"{first}:reprint:1", "t1", {"title": "x"})
        journal.finish_print(f"{first}:reprint:1", ok=True)
        journal.claim_print(f"{first}:reprint:2", "t1", {"title": "x"})  # a crash mid-print: it counts
        assert next_reprint_job(journal, first) is None
        (copied,) = [r for r in recent_prints(journal, "7") if r.job_id == first]
        assert copied.reprints == MAX_REPRINTS and copied.reprints_left == 0
        assert len(recent_prints(journal, "7")) == 2  # reprints are never listed as slips of their own
        assert next_reprint_job(journal, second) == (f"{second}:reprint:1", 1)
    finally:
        store.close()


def test_a_reprint_says_so_and_carries_only_what_was_kept() -> None:
    slip = reprint_slip(job_id="t1:receipt:reprint:2", record=_record(1), copy_no=2, kiosk_id="K1", printed_at="now")
    assert "补打 REPRINT" in slip.title and slip.title.startswith("示范医院\n挂号凭条")
    assert slip.lines[0] == ("补打", f"第2次（共可补打{MAX_REPRINTS}次） Copy 2 of {MAX_REPRINTS}")
    assert ("挂号序号", "R1") in slip.lines and slip.qr is None
    assert json.dumps(slip.lines, ensure_ascii=False).count("张") == 0
