"""Runs the report flow's commands: list the reports; claim, print and report one copy.

A copy follows the money rule: its key is in the journal before the claim leaves the kiosk, the
print job is claimed in the journal before the printer is called (journal.claim_print /
finish_print), and the printer's outcome goes back to the server, which keeps the print-back
record. If the printer is visibly not ready (no paper, cover open) nothing is claimed at all.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from devices.errors import CoverOpen, DeviceError, PaperOut, PrinterError, PrinterOffline
from devices.printer import ReceiptPrinter
from kiosk_app.features.base import Command, FeatureService, Outcome, Progress, ServiceParts
from kiosk_app.features.reports.flow import LoadReports, PrintReport, Undelivered
from kiosk_app.features.reports.receipt import report_receipt
from offline_cache.journal import Journal
from sync.client import ReportTicket, ServerClient, ServerError, ServerTimeout

log = logging.getLogger(__name__)

# Journal states of a report copy (transactions of kind "report_print").
CLAIMING = "print_claiming"  # key stored, claim about to be sent
CLAIMED = "print_claimed"  # the server counts the copy
PRINTED = "printed"
PRINT_FAILED = "print_failed"


class NoPrinter(PrinterError):
    tr_key = "printer.unavailable"


def outcome_code(err: DeviceError) -> str:
    """The printer error as the server stores it (a short snake_case code)."""
    return err.code if _CODE.fullmatch(err.code) else "printer_error"


_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")


class ReportsService(FeatureService):
    def __init__(self, parts: ServiceParts) -> None:
        super().__init__(parts.finder)
        self.client: ServerClient = parts.client
        self.journal: Journal = parts.journal
        self.printer: ReceiptPrinter | None = parts.printer
        self.kiosk_id, self.hospital_name = parts.kiosk_id, parts.hospital_name

    def run(self, cmd: Command, progress: Progress) -> Outcome:
        match cmd:
            case LoadReports(patient_id):
                reports = self.client.reports(patient_id)
                return lambda f: f.reports_loaded(reports)
            case PrintReport():
                return self._print(cmd)
        raise TypeError(f"unknown command {cmd!r}")

    def _print(self, cmd: PrintReport) -> Outcome:
        report_id = cmd.report.report_id
        if cmd.undelivered is not None:
            # The earlier failed copy still counts at the server until it hears of the failure.
            self.client.report_print_outcome(cmd.undelivered.key, False, cmd.undelivered.error_code)
        self._check_printer()
        p = cmd.patient
        if self.journal.get(cmd.txn_id) is None:
            self.journal.create(
                cmd.txn_id,
                "report_print",
                patient_masked=f"{p.name_masked} {p.id_masked}",
                patient_ref=str(p.patient_id),
            )
        details = {"report_id": report_id, "print_key": cmd.key, "reason": cmd.reason}
        self.journal.update(cmd.txn_id, CLAIMING, details=details)
        ticket = self._claim(cmd)
        details |= {"copy_no": ticket.copy.copy_no, "copy_kind": ticket.copy.copy_kind}
        self.journal.update(cmd.txn_id, CLAIMED, details=details)

        job_id = f"report:{cmd.key}"
        receipt = report_receipt(
            ticket,
            job_id=job_id,
            hospital=self.hospital_name,
            kiosk_id=self.kiosk_id,
            patient_masked=f"{p.name_masked}  {p.id_masked}",
            printed_at=datetime.now().strftime("%Y-%m-%d %H:%M"),
        )
        claim = self.journal.claim_print(job_id, cmd.txn_id, {"title": receipt.title, "lines": receipt.lines})
        if not claim.allowed:
            # Printed before under this key (a replayed claim), or a crash left it mid-print: either
            # way the paper may be out, so it is not printed again by the kiosk on its own.
            log.warning("report copy %s not printed again (already printed: %s)", job_id, claim.already_printed)
            if claim.already_printed:
                copy = ticket.copy
                return lambda f: f.report_printed(report_id, copy)
            return lambda f: f.failed("printer.needs_staff")
        try:
            if self.printer is None:  # checked above; unplugged since
                raise PrinterError("no printer configured")
            self.printer.print_receipt(receipt)
        except DeviceError as err:
            return self._failed_copy(cmd, job_id, err)
        self.journal.finish_print(job_id, ok=True)
        self.journal.update(cmd.txn_id, PRINTED)
        try:
            copy = self.client.report_print_outcome(cmd.key, True)
        except ServerError as err:
            # Harmless: the server counts a claimed copy as printed until told otherwise.
            log.info("report copy %s printed; outcome not delivered (%s)", cmd.key, err.code)
            copy = ticket.copy
        log.info("report %d: copy %d printed (%s)", report_id, ticket.copy.copy_no, ticket.copy.copy_kind)
        return lambda f: f.report_printed(report_id, copy)

    def _check_printer(self) -> None:
        """Refuse before claiming when the printer says it cannot print (nothing to record then)."""
        if self.printer is None:
            raise NoPrinter("no printer configured")
        status = self.printer.query_status()  # DeviceError when it cannot be reached at all
        if not status.known:
            return  # a one-way print server: print_receipt finds out
        if status.paper_end:
            raise PaperOut("paper out before the report")
        if status.cover_open:
            raise CoverOpen("cover open before the report")
        if not status.online:
            raise PrinterOffline("printer offline before the report")

    def _claim(self, cmd: PrintReport) -> ReportTicket:
        """The claim; a lost answer is asked again at once under the same key (the server replays it)."""
        try:
            return self.client.claim_report_print(cmd.key, cmd.report.report_id, cmd.patient.patient_id, cmd.reason)
        except ServerTimeout as err:
            log.info("report claim %s: answer lost (%s), asking again under the same key", cmd.key, err.code)
            return self.client.claim_report_print(cmd.key, cmd.report.report_id, cmd.patient.patient_id, cmd.reason)

    def _failed_copy(self, cmd: PrintReport, job_id: str, err: DeviceError) -> Outcome:
        log.warning("report copy %s failed at the printer: %s", job_id, err.code)
        code = outcome_code(err)
        self.journal.finish_print(job_id, ok=False, error_code=code)
        self.journal.update(cmd.txn_id, PRINT_FAILED, code, error_code=code)
        undelivered: Undelivered | None = None
        try:
            self.client.report_print_outcome(cmd.key, False, code)
        except ServerError as server_err:
            log.warning(
                "report copy %s: failure not delivered (%s); sent before the next copy", cmd.key, server_err.code
            )
            undelivered = Undelivered(cmd.key, code)
        report_id, key = cmd.report.report_id, err.tr_key
        return lambda f: f.print_failed(report_id, key, undelivered)
