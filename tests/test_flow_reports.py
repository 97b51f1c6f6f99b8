"""The report printing flow on its own (no Qt, no I/O): keys, reasons, failures, print-all."""

from __future__ import annotations

from kiosk_app.features.reports.flow import LIST, PRINTING, REASON, LoadReports, PrintReport, ReportsFlow, Undelivered
from kiosk_app.flows.identify import Patient
from sync.client import Report, ReportPrint

PATIENT = Patient(7, "张*", "110***********0010")


def report(report_id: int, *, count: int = 0, status: str = "ready") -> Report:
    return Report(
        report_id, f"L{report_id}", "lab", "IM", "内科", "IM", f"报告{report_id}", f"Report {report_id}",
        "2026-03-01T09:00", status, "2026-03-01T12:00" if status == "ready" else None, count, None,
    )  # fmt: skip


def copy(cmd: PrintReport, copy_no: int = 1) -> ReportPrint:
    kind = "reprint" if cmd.reason else "first"
    return ReportPrint(cmd.key, 1, cmd.report.report_id, "K", kind, copy_no, cmd.reason, "printed", None, "t", "t")


def at_list(*reports: Report) -> ReportsFlow:
    flow = ReportsFlow()
    flow.start()
    assert flow.patient_found(PATIENT) == [LoadReports(7)]
    flow.reports_loaded(list(reports))
    assert flow.step == LIST and not flow.busy
    return flow


def only(commands: list[object]) -> PrintReport:
    (cmd,) = commands
    assert isinstance(cmd, PrintReport)
    return cmd


def test_a_new_report_prints_at_once_and_a_printed_one_asks_why() -> None:
    flow = at_list(report(1), report(2, count=1), report(3, status="pending"))
    cmd = only(flow.choose(flow.reports[0]))
    assert cmd.reason is None and flow.step == PRINTING and not flow.interruptible and not flow.has_back
    assert flow.home() == [] and flow.step == PRINTING  # paper is moving: no Home, no idle wipe
    assert flow.report_printed(1, copy(cmd)) == [LoadReports(7)]
    assert flow.message == "reports.printed" and flow.outcomes == {1: "printed"}
    assert flow.reports[0].print_count == 1  # shown at once, before the reload
    flow.reports_loaded(flow.reports)

    assert flow.choose(flow.reports[1]) == [] and flow.step == REASON
    assert flow.choose_reason("because") == []  # only the offered reasons
    cmd = only(flow.choose_reason("damaged"))
    assert cmd.reason == "damaged" and cmd.report.report_id == 2
    flow.report_printed(2, copy(cmd, 2))
    flow.reports_loaded(flow.reports)

    assert flow.choose(flow.reports[2]) == [] and flow.message == "reports.not_ready" and flow.step == LIST


def test_back_from_the_reason_prints_nothing() -> None:
    flow = at_list(report(1, count=1))
    flow.choose(flow.reports[0])
    assert flow.back() == [] and flow.step == LIST


def test_a_lost_claim_answer_keeps_the_key_for_the_next_try_and_a_known_one_drops_it() -> None:
    flow = at_list(report(1))
    first = only(flow.choose(flow.reports[0]))
    flow.failed("server.timeout")  # the claim may have been counted: same key next time
    assert flow.step == LIST and flow.message == "server.timeout"
    again = only(flow.choose(flow.reports[0]))
    assert (again.key, again.txn_id) == (first.key, first.txn_id)
    flow.report_printed(1, copy(again))
    flow.reports_loaded([report(1, count=1)])
    assert flow.choose(flow.reports[0]) == [] and flow.step == REASON
    assert only(flow.choose_reason("lost")).key != first.key


def test_paper_out_offers_the_same_report_again_without_a_reason_and_tells_an_undelivered_failure_first() -> None:
    flow = at_list(report(1))
    cmd = only(flow.choose(flow.reports[0]))
    lost = Undelivered(cmd.key, "paper_out")
    assert flow.print_failed(1, "printer.paper_out", lost) == [LoadReports(7)]
    assert flow.message == "reports.paper_out" and flow.outcomes[1] == "failed"
    flow.reports_loaded([report(1, count=1)])  # the server still counts it: it never heard
    # The kiosk knows better: the copy failed, so no reason is asked; the failure goes first.
    assert [r.report_id for r in flow.printable_new] == [1]
    retry = only(flow.choose(flow.reports[0]))
    assert retry.undelivered == lost and retry.key != cmd.key
    flow.failed("server.unavailable")  # not even the failure got through: kept for the next try
    assert only(flow.choose(flow.reports[0])).undelivered == lost
    flow.report_printed(1, copy(retry))
    assert flow.undelivered == {}


def test_other_printer_failures_have_their_own_message() -> None:
    flow = at_list(report(1))
    only(flow.choose(flow.reports[0]))
    flow.print_failed(1, "printer.cover_open", None)
    assert flow.message == "reports.print_failed"


def test_counted_meanwhile_asks_for_a_reason() -> None:
    flow = at_list(report(1))
    only(flow.choose(flow.reports[0]))
    flow.failed("server.rejected.already_printed")
    assert flow.step == REASON and flow.chosen is not None and flow.chosen.report_id == 1


def test_print_all_new_goes_through_the_ready_unprinted_ones_and_stops_at_a_failure() -> None:
    flow = at_list(report(1), report(2, count=1), report(3), report(4, status="pending"), report(5))
    assert [r.report_id for r in flow.printable_new] == [1, 3, 5]
    first = only(flow.print_all_new())
    assert first.report.report_id == 1
    second = only(flow.report_printed(1, copy(first)))
    assert second.report.report_id == 3
    assert flow.print_failed(3, "printer.paper_out", None) == [LoadReports(7)]
    assert flow.queue == []  # report 5 waits for the patient, after the paper is refilled


def test_a_wiped_session_forgets_everything() -> None:
    flow = at_list(report(1))
    only(flow.choose(flow.reports[0]))
    flow.print_failed(1, "printer.paper_out", Undelivered("k", "paper_out"))
    flow.home()
    assert flow.at_home and flow.patient is None and flow.reports == [] and flow.undelivered == {}
    assert flow.attempts == {} and flow.outcomes == {}
