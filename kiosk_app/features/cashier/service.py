"""Runs the cashier window's commands in a worker: sign-in, lookup, quote, settle, refund, report.

Money follows the kiosk's rule: the settlement key (or refund key) is written to the journal BEFORE
the request leaves (``kiosk_app.features.payment.pay_until_final``), an unanswered request is asked
about by its key, sent again under the SAME key only when the server never saw it, and never
guessed. Journal kinds ``cashier_settlement`` / ``cashier_refund`` carry the shift in ``details``:
at the end of the shift they are the kiosk's own count, sent to the server to reconcile against.
Printing goes through ``print_once`` (the journal's print-back record): nothing prints twice by
accident. Every call but sign-in carries the shift's token; neither the token nor a PIN is logged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk_app.features.base import FeatureService, Outcome, Progress, ServiceParts
from kiosk_app.features.cashier.commands import (
    CloseShift,
    LoadItems,
    LoadReport,
    PrintReceipt,
    PrintRefundSlip,
    PrintReport,
    Quote,
    Refund,
    Release,
    Settle,
    SignIn,
    SignOut,
)
from kiosk_app.features.cashier.export import export_report
from kiosk_app.features.cashier.slips import refund_slip, report_receipt, settlement_receipt
from kiosk_app.features.payment import pay_until_final
from kiosk_app.services.receipts import print_once
from kiosk_app.services.registration import PaySettings
from offline_cache import journal as J
from offline_cache.ids import uuid7
from sync.client import BusinessError, CashierRefund, ServerError, ServerUnavailable, ShiftReport

log = logging.getLogger(__name__)

SETTLEMENT = "cashier_settlement"
REFUND = "cashier_refund"
SHIFT = "cashier_shift"
# Journal states of a window refund (as for the 退号 feature).
REFUNDING = "refunding"
REFUND_PENDING = "refund_pending"
REFUNDED = "refunded"
REFUND_FAILED = "refund_failed"
REFUND_REFUSED = "refund_refused"
REFUND_UNKNOWN = "refund_unknown"
_REFUND_STATES = {"refunded": REFUNDED, "failed": REFUND_FAILED, "requested": REFUND_PENDING, "pending": REFUND_PENDING}
_SETTLEMENT_OPEN = (J.PAYING, J.PAYMENT_PENDING, J.PAYMENT_UNKNOWN)
_REFUND_OPEN = (REFUNDING, REFUND_PENDING, REFUND_UNKNOWN)
# How long the window waits for a refund the provider has not confirmed: the server finishes it.
REFUND_WAIT_S = 15.0


def report_job_id(report: ShiftReport) -> str:
    return f"cashier-shift-{report.shift.kiosk_id}-{report.shift.shift_id}:report"


class CashierService(FeatureService):
    def __init__(self, parts: ServiceParts, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(parts.finder)
        self.client, self.journal, self.printer = parts.client, parts.journal, parts.printer
        self.hospital_name = parts.hospital_name
        self.pay: PaySettings = parts.pay or PaySettings()
        self.sleep = sleep
        data_dir = parts.extra.get("data_dir") or Path(self.journal.store.path).parent
        self.export_dir = Path(data_dir) / "cashier-reports"
        self.window_label = str(parts.extra.get("cashier_window", ""))

    def run(self, cmd: object, progress: Progress) -> Outcome:
        match cmd:
            case SignIn(staff_no, pin, card_hash):
                shift = self.client.cashier_sign_in(
                    staff_no=staff_no, pin=pin, card_hash=card_hash, window_label=self.window_label
                )
                return lambda f: f.signed_in(shift)
            case SignOut(shift):
                try:
                    self.client.cashier_sign_out(shift.token, shift.shift_id)
                except ServerError as err:  # the token lapses by itself on the server anyway
                    log.info("cashier sign-out not confirmed: %s", err.code)
                return lambda f: []
            case LoadItems(visit, shift, patient_id):
                items = self.client.cashier_lookup(shift.token, patient_id=patient_id)
                return lambda f: f.items_loaded(visit, items)
            case Quote(visit, shift, key, patient_id, bills, regs, scheme):
                quote = self.client.cashier_quote(shift.token, key, shift.shift_id, patient_id, bills, regs, scheme)
                return lambda f: f.quoted(visit, quote)
            case Release(shift, key):
                try:
                    self.client.cashier_release(shift.token, key)
                except ServerError as err:  # the lock expires by itself; nothing was paid
                    log.info("cashier quote %s not released: %s", key, err.code)
                return lambda f: []
            case Settle():
                return self._settle(cmd, progress)
            case PrintReceipt():
                return self._print_receipt(cmd)
            case Refund():
                return self._refund(cmd)
            case PrintRefundSlip():
                return self._print_refund(cmd)
            case LoadReport(shift):
                report = self.client.cashier_report(shift.token, shift.shift_id)
                return lambda f: f.report_loaded(report)
            case CloseShift():
                return self._close(cmd)
            case PrintReport(report):
                printed = self._print_report(report, self._report_txn(report))
                return lambda f: f.report_printed(printed.ok, printed.tr_key)
        raise TypeError(f"unknown command {cmd!r}")

    # ---- settlements

    def _settle(self, cmd: Settle, progress: Progress) -> Outcome:
        p, q, shift = cmd.patient, cmd.quote, cmd.shift
        change = cmd.tendered_cents - q.self_pay_cents if cmd.tendered_cents is not None else None
        self.journal.create(
            cmd.txn_id, SETTLEMENT, patient_masked=f"{p.name_masked} {p.id_masked}", patient_ref=str(p.patient_id)
        )
        details = {
            "shift_id": shift.shift_id,
            "channel": cmd.channel,
            "bill_ids": [b.bill_id for b in q.bills],
            "registration_ids": [r.registration_id for r in q.registrations],
            "tendered_cents": cmd.tendered_cents,
            "change_cents": change,
            "pos_ref": cmd.pos_ref,
        }
        self.journal.update(cmd.txn_id, J.CREATED, f"settlement by {cmd.channel}", details=details)

        def send() -> Any:
            return self.client.cashier_settle(
                shift.token,
                key=q.key,
                shift_id=shift.shift_id,
                patient_id=p.patient_id,
                bill_ids=[b.bill_id for b in q.bills],
                registration_ids=[r.registration_id for r in q.registrations],
                channel=cmd.channel,
                amount_cents=q.self_pay_cents,
                auth_code=cmd.auth_code,
                pos_ref=cmd.pos_ref,
                tendered_cents=cmd.tendered_cents,
            )

        visit = cmd.visit
        outcome = pay_until_final(
            journal=self.journal,
            txn_id=cmd.txn_id,
            key=q.key,
            amount_cents=q.self_pay_cents,
            send=send,
            query=lambda: self.client.cashier_settlement(q.key),
            timings=self.pay,
            progress=lambda _r: progress(lambda f: f.settlement_pending(visit)),
            sleep=self.sleep,
        )
        log.info("cashier settlement %s by %s: %s %s", q.key, cmd.channel, outcome.status, outcome.error_code or "")
        return lambda f: f.settled(visit, outcome)

    def _print_receipt(self, cmd: PrintReceipt) -> Outcome:
        slip = settlement_receipt(
            job_id=f"{cmd.txn_id}:receipt",
            hospital=self.hospital_name,
            shift=cmd.shift,
            patient=cmd.patient,
            quote=cmd.quote,
            settlement=cmd.settlement,
            printed_at=datetime.now().strftime("%Y-%m-%d %H:%M"),
        )
        printed = print_once(self.journal, self.printer, slip, cmd.txn_id)
        visit = cmd.visit
        return lambda f: f.printed(visit, printed.ok, printed.tr_key)

    # ---- refunds

    def _refund(self, cmd: Refund) -> Outcome:
        p, visit = cmd.patient, cmd.visit
        self.journal.create(
            cmd.txn_id, REFUND, patient_masked=f"{p.name_masked} {p.id_masked}", patient_ref=str(p.patient_id)
        )
        details = {
            "shift_id": cmd.shift.shift_id,
            "payment_key": cmd.payment.payment_key,
            "channel": cmd.payment.channel,
            "reason": cmd.reason,
            "approved_by": cmd.supervisor_no,
        }
        # Durable before the request leaves: after a crash the key still names this refund.
        self.journal.update(
            cmd.txn_id, REFUNDING, "refund key stored", payment_key=cmd.refund_key,
            amount_cents=cmd.amount_cents, details=details,
        )  # fmt: skip
        try:
            result = self._send_refund(cmd, first=True)
        except BusinessError as err:
            self.journal.update(cmd.txn_id, REFUND_REFUSED, err.code, payment_status="REFUSED", error_code=err.code)
            key = err.tr_key
            return lambda f: f.refund_finished(visit, "refused", None, key)
        except ServerUnavailable as err:
            self.journal.update(cmd.txn_id, REFUND_REFUSED, "server unreachable", payment_status="REFUSED")
            log.info("cashier refund not sent: %s", err.code)
            return lambda f: f.refund_finished(visit, "refused", None, "server.unavailable")
        deadline = time.monotonic() + min(REFUND_WAIT_S, self.pay.deadline_s)
        while (result is None or not result.is_final) and time.monotonic() < deadline:
            if result is not None:
                self.journal.update(cmd.txn_id, REFUND_PENDING, result.status, payment_status=result.status)
            self.sleep(self.pay.poll_interval_s)
            try:
                result = self.client.cashier_refund_status(cmd.refund_key)
                if result is None:  # never arrived: nothing happened, so the same key again
                    result = self._send_refund(cmd)
            except BusinessError as err:
                self.journal.update(cmd.txn_id, REFUND_REFUSED, err.code, payment_status="REFUSED", error_code=err.code)
                key = err.tr_key
                return lambda f: f.refund_finished(visit, "refused", None, key)
            except ServerError as err:
                log.info("cashier refund status unknown: %s", err.code)
                result = None
        outcome = _refund_outcome(result)
        state = {"refunded": REFUNDED, "failed": REFUND_FAILED, "pending": REFUND_PENDING}.get(outcome, REFUND_UNKNOWN)
        status = result.status if result is not None else "unknown"
        self.journal.update(cmd.txn_id, state, status, payment_status=status)
        log.info("cashier refund %s: %s", cmd.refund_key, outcome)
        final = result
        return lambda f: f.refund_finished(visit, outcome, final)

    def _send_refund(self, cmd: Refund, *, first: bool = False) -> CashierRefund | None:
        """One POST; None when its outcome is unknown. ``first``: ServerUnavailable is raised."""
        try:
            return self.client.cashier_refund(
                cmd.shift.token,
                refund_key=cmd.refund_key,
                shift_id=cmd.shift.shift_id,
                payment_key=cmd.payment.payment_key,
                amount_cents=cmd.amount_cents,
                reason=cmd.reason,
                supervisor_staff_no=cmd.supervisor_no,
                supervisor_pin=cmd.supervisor_pin,
                pos_ref=cmd.pos_ref,
            )
        except ServerUnavailable:
            if first:
                raise
            return None
        except BusinessError:
            raise
        except ServerError as err:
            log.info("cashier refund request outcome unknown: %s", err.code)
            return None

    def _print_refund(self, cmd: PrintRefundSlip) -> Outcome:
        slip = refund_slip(
            job_id=f"{cmd.txn_id}:refund-slip",
            hospital=self.hospital_name,
            shift=cmd.shift,
            patient=cmd.patient,
            payment=cmd.payment,
            refund=cmd.refund,
            outcome=_refund_outcome(cmd.refund),
            printed_at=datetime.now().strftime("%Y-%m-%d %H:%M"),
        )
        printed = print_once(self.journal, self.printer, slip, cmd.txn_id)
        visit = cmd.visit
        return lambda f: f.printed(visit, printed.ok, printed.tr_key)

    # ---- end of shift

    def _close(self, cmd: CloseShift) -> Outcome:
        shift = cmd.shift
        self._resolve_open(shift.shift_id)
        ledger = self.ledger(shift.shift_id)
        report = self.client.cashier_close_shift(shift.token, shift.shift_id, ledger, cmd.cash_counted_cents)
        txn_id = uuid7()
        self.journal.create(txn_id, SHIFT, patient_masked="", patient_ref="")
        self.journal.update(
            txn_id, "closed", "shift closed",
            amount_cents=report.net_cents,
            details={"shift_id": shift.shift_id, "ok": report.ok, "mismatches": len(report.mismatches)},
        )  # fmt: skip
        try:
            exported = export_report(self.export_dir, report, ledger)
        except OSError as err:
            log.error("the shift report could not be written to %s: %s", self.export_dir, err)
            exported = None
        printed = self._print_report(report, txn_id)
        log.info("shift %d closed: %s, %d mismatch(es)", shift.shift_id, report.ok, len(report.mismatches))
        return lambda f: f.shift_closed(report, exported, printed.ok, printed.tr_key)

    def _print_report(self, report: ShiftReport, txn_id: str) -> Any:
        slip = report_receipt(
            job_id=report_job_id(report),
            hospital=self.hospital_name,
            report=report,
            printed_at=datetime.now().strftime("%Y-%m-%d %H:%M"),
        )
        return print_once(self.journal, self.printer, slip, txn_id)

    def _report_txn(self, report: ShiftReport) -> str:
        job = self.journal.print_job(report_job_id(report))
        return str(job["txn_id"]) if job else uuid7()

    def _rows(self, shift_id: int) -> list[dict[str, Any]]:
        return list(
            self.journal.store.read().query(
                "SELECT * FROM transactions WHERE kind IN (?, ?) AND json_extract(details, '$.shift_id') = ?"
                " ORDER BY created_at",
                [SETTLEMENT, REFUND, shift_id],
            )
        )

    def _resolve_open(self, shift_id: int) -> None:
        """Ask the server about every entry of the shift whose outcome the kiosk never learned."""
        for row in self._rows(shift_id):
            key = row["payment_key"]
            try:
                if row["kind"] == SETTLEMENT and row["state"] in _SETTLEMENT_OPEN:
                    found = self.client.cashier_settlement(key)
                    if found is not None and found.is_final:
                        state = J.PAID if found.status == "SUCCESS" else J.PAYMENT_FAILED
                        self.journal.update(row["id"], state, "resolved at close", payment_status=found.status)
                elif row["kind"] == REFUND and row["state"] in _REFUND_OPEN:
                    refund = self.client.cashier_refund_status(key)
                    if refund is not None:
                        state = _REFUND_STATES.get(refund.status, REFUND_PENDING)
                        self.journal.update(row["id"], state, "resolved at close", payment_status=refund.status)
            except ServerError as err:  # left as it is: the report lists it
                log.info("entry %s not resolved at close: %s", key, err.code)

    def ledger(self, shift_id: int) -> list[dict[str, Any]]:
        """What this kiosk counted in the shift, as the server's reconciliation expects it."""
        entries = []
        for row in self._rows(shift_id):
            details = json.loads(row["details"] or "{}")
            status = row["payment_status"] or ""
            if row["kind"] == SETTLEMENT:
                kind, channel = "settlement", details.get("channel", "")
                if status in ("REFUSED", "NOT_SENT"):
                    status = "REFUSED"
                elif status not in ("SUCCESS", "FAILED", "REVERSED"):
                    status = "PENDING"
            else:
                kind = "refund"
                channel = details.get("channel", "")
                channel = channel if channel in ("cash", "card") else "code"
                if status not in ("refunded", "failed", "REFUSED"):
                    status = "pending"
            entries.append(
                {"key": row["payment_key"], "kind": kind, "channel": channel,
                 "amount_cents": int(row["amount_cents"] or 0), "status": status}
            )  # fmt: skip
        return entries


def _refund_outcome(result: CashierRefund | None) -> str:
    if result is None:
        return "unknown"
    if result.status in ("refunded", "failed"):
        return result.status
    return "pending"
