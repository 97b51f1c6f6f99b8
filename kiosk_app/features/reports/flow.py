"""Report printing (报告打印): identify → the patient's reports → print each one once.

A report prints once without a question. Another copy of one that already counts asks why (a few
fixed reasons on touch buttons) and is recorded as a reprint with that reason. The server decides
what counts (server/reports/service.py): a copy counts from its claim until the kiosk reports that
the printer failed, so paper out mid-report makes the copy not count and it is offered again
without a reason. "Print all new" prints every ready report not printed yet, one after another.

Keys: each copy is claimed under an idempotency key made here. When the claim's answer is lost
(the server may have counted it) the same key is used for the next attempt of the same copy, so
the server replays the claim instead of asking for a reason. A failed copy whose outcome could not
be told to the server is told first, before the next claim, so it stops counting.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import ClassVar

from kiosk_app.features.base import FeatureFlow
from kiosk_app.flows.identify import Patient
from offline_cache.ids import uuid7
from sync.client import Report, ReportPrint

log = logging.getLogger(__name__)

LIST = "reports.list"
REASON = "reports.reason"
PRINTING = "reports.printing"

# Reasons a patient may give for another copy; the server stores the code with the reprint.
REPRINT_REASONS = ("lost", "damaged", "for_doctor")


@dataclass(frozen=True)
class LoadReports:
    patient_id: int


@dataclass(frozen=True)
class Undelivered:
    """A failed copy the server was not told about yet (it still counts there)."""

    key: str
    error_code: str


@dataclass(frozen=True)
class PrintReport:
    txn_id: str
    key: str
    patient: Patient
    report: Report
    reason: str | None
    undelivered: Undelivered | None = None


@dataclass
class _Attempt:
    """The key (and journal transaction) of a copy whose claim has no known answer yet."""

    txn_id: str
    key: str
    reason: str | None


class ReportsFlow(FeatureFlow):
    feature = "reports"
    BACK: ClassVar[Mapping[str, str]] = {LIST: "reports.identify", REASON: LIST}
    # Not PRINTING: a failure there comes back as the print outcome, with its own message.
    DEVICES: ClassVar[Mapping[str, str]] = {LIST: "printer", REASON: "printer"}
    # Paper is moving: the patient waits for the outcome (a few seconds), then may leave.
    UNINTERRUPTIBLE = frozenset({PRINTING})

    # Set by reset_feature(), which the base class calls from __init__ and at every start and end.
    reports: list[Report]
    loaded: bool
    chosen: Report | None
    queue: list[int]  # "print all new": report ids still to print
    outcomes: dict[int, str]  # report id -> printed | failed, in this session
    attempts: dict[int, _Attempt]
    undelivered: dict[int, Undelivered]

    # ---- State

    @property
    def printable_new(self) -> list[Report]:
        """Ready reports no copy of which counts: printed without a question."""
        return [r for r in self.reports if r.status == "ready" and not self.needs_reason(r)]

    def needs_reason(self, report: Report) -> bool:
        """A copy counts. One the server counts only because it has not heard of its failure yet
        does not: that failure is told first, with the next claim."""
        failed_unheard = 1 if report.report_id in self.undelivered else 0
        return report.print_count - failed_unheard > 0

    # ---- Events

    def identified(self, patient: Patient) -> list[object]:
        self.step, self.busy = LIST, True
        return [LoadReports(patient.patient_id)]

    def reports_loaded(self, reports: list[Report]) -> list[object]:
        if self.step not in (LIST, PRINTING):
            return []
        self.reports, self.loaded, self.busy = reports, True, False
        if not reports and not self.message:
            self.message = "reports.none"
        return []

    def choose(self, report: Report) -> list[object]:
        if self.step != LIST or self.busy:
            return []
        if report.status != "ready":
            self.message = "reports.not_ready"
            return []
        self.queue = []
        if self.needs_reason(report):
            self.step, self.chosen, self.message = REASON, report, ""
            return []
        return self._print(report, None)

    def choose_reason(self, reason: str) -> list[object]:
        if self.step != REASON or self.busy or self.chosen is None or reason not in REPRINT_REASONS:
            return []
        return self._print(self.chosen, reason)

    def print_all_new(self) -> list[object]:
        if self.step != LIST or self.busy or not self.printable_new:
            return []
        first, *rest = self.printable_new
        self.queue = [r.report_id for r in rest]
        return self._print(first, None)

    def report_printed(self, report_id: int, copy: ReportPrint) -> list[object]:
        if self.step != PRINTING:
            return []
        self.attempts.pop(report_id, None)
        self.undelivered.pop(report_id, None)
        self.outcomes[report_id] = "printed"
        self._count(report_id, copy.copy_no)
        self.message = "reports.printed"
        following = self._next_in_queue()
        if following is not None:
            return self._print(following, None)
        return self._back_to_list()

    def print_failed(self, report_id: int, error_key: str, undelivered: Undelivered | None) -> list[object]:
        """The printer failed mid-report (or before): the copy does not count; offer it again."""
        if self.step != PRINTING:
            return []
        self.attempts.pop(report_id, None)  # the claim is known: a new copy needs a new key
        self.undelivered.pop(report_id, None)
        if undelivered is not None:
            self.undelivered[report_id] = undelivered
        self.outcomes[report_id] = "failed"
        self.queue = []
        self.message = "reports.paper_out" if error_key == "printer.paper_out" else "reports.print_failed"
        return self._back_to_list()

    def failed(self, key: str) -> list[object]:
        commands = super().failed(key)
        if self.step == PRINTING:
            # The claim's outcome is unknown (its key is kept for the next attempt) or it was refused.
            self.queue = []
            if key == "server.rejected.already_printed" and self.chosen is not None:
                self.attempts.pop(self.chosen.report_id, None)
                self.step = REASON  # counted meanwhile (another kiosk, a lost answer): ask why
            else:
                self.step = LIST
        return commands

    def reset_feature(self) -> None:
        self.reports, self.loaded, self.chosen = [], False, None
        self.queue, self.outcomes, self.attempts, self.undelivered = [], {}, {}, {}

    # ---- Internals

    def _print(self, report: Report, reason: str | None) -> list[object]:
        assert self.patient is not None
        attempt = self.attempts.get(report.report_id)
        if attempt is None or attempt.reason != reason:
            attempt = _Attempt(uuid7(), uuid7(), reason)
            self.attempts[report.report_id] = attempt
        self.step, self.busy, self.chosen, self.message = PRINTING, True, report, ""
        self.outcomes.pop(report.report_id, None)
        return [
            PrintReport(
                attempt.txn_id,
                attempt.key,
                self.patient,
                report,
                reason,
                self.undelivered.get(report.report_id),  # dropped once a claim after it is known
            )
        ]

    def _next_in_queue(self) -> Report | None:
        while self.queue:
            report_id = self.queue.pop(0)
            report = next((r for r in self.reports if r.report_id == report_id), None)
            if report is not None:
                return report
        return None

    def _count(self, report_id: int, copies: int) -> None:
        """Show the new count at once; the reload that follows brings the server's own."""
        self.reports = [
            replace(r, print_count=max(r.print_count, copies)) if r.report_id == report_id else r for r in self.reports
        ]

    def _back_to_list(self) -> list[object]:
        assert self.patient is not None
        self.step, self.busy, self.chosen = LIST, True, None
        return [LoadReports(self.patient.patient_id)]
