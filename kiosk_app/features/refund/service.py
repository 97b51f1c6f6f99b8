"""Runs the 退号 flow's commands in a worker.

The refund key is written to the journal (transaction kind ``refund``) BEFORE the request leaves
the kiosk. An unclear answer (timeout, connection lost) is never taken as "not done": the kiosk
asks for the refund by its key, sends the same key again only if the server never saw it, and
otherwise reports what the server says; the server itself finishes a pending refund.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from kiosk_app.features.base import FeatureService, Progress, ServiceParts
from kiosk_app.features.base import Outcome as Applied
from kiosk_app.features.refund.flow import LoadRefundable, Outcome, PrintRefundSlip, RefundRegistration
from kiosk_app.features.refund.slip import refund_slip
from kiosk_app.services.receipts import print_once
from offline_cache.ids import uuid7
from sync.client import BusinessError, RefundResult, ServerError, ServerUnavailable

log = logging.getLogger(__name__)

# Journal states of a refund transaction (kind "refund").
REFUNDING = "refunding"  # refund key stored, request about to be sent
REFUND_PENDING = "refund_pending"  # cancelled; the server is still getting the money back
REFUNDED = "refunded"
REFUND_FAILED = "refund_failed"  # cancelled; the provider refused: the cashier refunds by hand
REFUND_REFUSED = "refund_refused"  # the server refused the 退号: nothing changed
REFUND_UNKNOWN = "refund_unknown"  # the kiosk stopped asking; the server settles it

# How long the patient waits for a refund the provider has not confirmed yet: the booking is
# already cancelled and the server finishes the refund, so a "being processed" slip is fine.
WAIT_S = 15.0


class RefundService(FeatureService):
    def __init__(self, parts: ServiceParts, *, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(parts.finder)
        self.client = parts.client
        self.journal = parts.journal
        self.printer = parts.printer
        self.kiosk_id = parts.kiosk_id
        self.hospital_name = parts.hospital_name
        self.offline = parts.offline
        self.poll_interval_s = parts.pay.poll_interval_s if parts.pay is not None else 1.0
        self.wait_s = min(WAIT_S, parts.pay.deadline_s) if parts.pay is not None else WAIT_S
        self.sleep = sleep

    def run(self, cmd: object, progress: Progress) -> Applied:
        match cmd:
            case LoadRefundable(patient_id):
                items = self.client.refundable_registrations(patient_id)
                return lambda f: f.listed(items)
            case RefundRegistration():
                return self._refund(cmd, progress)
            case PrintRefundSlip():
                return self._print(cmd)
        raise TypeError(f"unknown command {cmd!r}")

    def _refund(self, cmd: RefundRegistration, progress: Progress) -> Applied:
        p, reg = cmd.patient, cmd.item.registration
        if self.offline is not None and self.offline.uploader.offline:
            log.info("offline: 退号 needs the hospital system; refused at once")
            return lambda f: f.refund_refused("refund.offline")
        key = uuid7()
        self.journal.create(
            cmd.txn_id, "refund", patient_masked=f"{p.name_masked} {p.id_masked}", patient_ref=str(p.patient_id)
        )
        # Durable before the request leaves: after a crash the key still names this refund.
        self.journal.update(
            cmd.txn_id,
            REFUNDING,
            "refund key stored",
            registration_id=str(reg.registration_id),
            reg_no=reg.reg_no,
            amount_cents=cmd.item.refundable_cents,
            details={"refund_key": key, "department": reg.department_code, "date": reg.date, "start": reg.start},
        )
        progress(lambda f: f.refund_key_stored(key))
        try:
            result = self._send(key, cmd, first=True)
        except BusinessError as err:
            self.journal.update(cmd.txn_id, REFUND_REFUSED, err.code, error_code=err.code)
            tr_key = err.tr_key
            return lambda f: f.refund_refused(tr_key)
        except ServerUnavailable as err:
            # Never connected: the server cannot have acted.
            self.journal.update(cmd.txn_id, REFUND_REFUSED, "server unreachable", error_code=err.code)
            return lambda f: f.refund_refused("server.unavailable")
        deadline = time.monotonic() + self.wait_s
        while (result is None or not result.is_final) and time.monotonic() < deadline:
            if result is not None:
                self.journal.update(cmd.txn_id, REFUND_PENDING, result.error_code or "", payment_status=result.status)
            self.sleep(self.poll_interval_s)
            try:
                result = self.client.refund_status(key)
            except ServerError as err:  # still unknown: keep asking until the deadline
                log.info("refund status query failed: %s", err.code)
                continue
            if result is None:
                # The server never saw the key, so nothing happened yet: the same key again.
                try:
                    result = self._send(key, cmd)
                except BusinessError as err:
                    self.journal.update(cmd.txn_id, REFUND_REFUSED, err.code, error_code=err.code)
                    tr_key = err.tr_key
                    return lambda f: f.refund_refused(tr_key)
        outcome = _outcome(result)
        state = {
            Outcome.REFUNDED: REFUNDED,
            Outcome.PENDING: REFUND_PENDING,
            Outcome.FAILED: REFUND_FAILED,
            Outcome.UNKNOWN: REFUND_UNKNOWN,
        }[outcome]
        status = result.status if result is not None else "UNKNOWN"
        self.journal.update(cmd.txn_id, state, status, payment_status=status)
        log.info("退号 %s of registration %d: %s", key, reg.registration_id, outcome)
        final = result
        return lambda f: f.refund_finished(outcome, final)

    def _send(self, key: str, cmd: RefundRegistration, *, first: bool = False) -> RefundResult | None:
        """One POST; None when its outcome is unknown. ``first``: ServerUnavailable is raised."""
        p = cmd.patient
        try:
            return self.client.refund_registration(key, cmd.item.registration.registration_id, p.patient_id).refund
        except (BusinessError, ServerUnavailable) as err:
            if isinstance(err, ServerUnavailable) and not first:
                return None
            raise
        except ServerError as err:
            log.info("退号 request outcome unknown: %s", err.code)
            return None

    def _print(self, cmd: PrintRefundSlip) -> Applied:
        p = cmd.patient
        slip = refund_slip(
            job_id=f"{cmd.txn_id}:refund-slip",
            hospital=self.hospital_name,
            kiosk_id=self.kiosk_id,
            patient_masked=f"{p.name_masked}  {p.id_masked}",
            item=cmd.item,
            outcome=cmd.outcome,
            refund=cmd.refund,
            refund_key=cmd.refund_key,
            printed_at=datetime.now().strftime("%Y-%m-%d %H:%M"),
        )
        printed = print_once(self.journal, self.printer, slip, cmd.txn_id)
        return lambda f: f.printed(printed.ok, printed.tr_key)


def _outcome(result: RefundResult | None) -> Outcome:
    if result is None:
        return Outcome.UNKNOWN
    if result.status == "refunded":
        return Outcome.REFUNDED
    if result.status == "failed":
        return Outcome.FAILED
    return Outcome.PENDING  # requested / pending: the server holds the key and finishes it
