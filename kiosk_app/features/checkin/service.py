"""Runs the check-in flow's commands in a worker: the bookings, the check-in, the fee, the slip.

Journalled like a registration (kind ``checkin``): the check-in key is stored as the row's
registration key before the request leaves, the registration it became after; the fee follows
kiosk_app/features/payment.py (key stored first, polled until final, never guessed); the slip is
claimed in the journal before it prints (kiosk_app/services/receipts.print_once).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime

from kiosk_app.features.base import Command, FeatureService, Outcome, Progress, ServiceParts
from kiosk_app.features.checkin.flow import CheckInBooking, LoadAppointments, PayFee, PrintSlip
from kiosk_app.features.checkin.slip import checkin_slip
from kiosk_app.features.payment import pay_until_final
from kiosk_app.flows.identify import Patient
from kiosk_app.services.receipts import print_once
from kiosk_app.services.registration import PaySettings
from offline_cache import journal as J
from offline_cache.ids import uuid7
from offline_cache.journal import Journal
from sync.client import BusinessError, CheckIn, PaymentResult, ServerClient, ServerError, ServerTimeout

log = logging.getLogger(__name__)


class CheckinService(FeatureService):
    def __init__(
        self,
        parts: ServiceParts,
        *,
        today: Callable[[], date] = date.today,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(parts.finder)
        self.client: ServerClient = parts.client
        self.journal: Journal = parts.journal
        self.printer = parts.printer
        self.kiosk_id, self.hospital_name, self.offline = parts.kiosk_id, parts.hospital_name, parts.offline
        self.pay_settings: PaySettings = parts.pay or PaySettings()
        self.today, self.sleep = today, sleep

    def run(self, cmd: Command, progress: Progress) -> Outcome:
        match cmd:
            case LoadAppointments(patient_id):
                appointments = self.client.appointments(patient_id, self.today())
                return lambda f: f.appointments_loaded(appointments)
            case CheckInBooking():
                return self._check_in(cmd)
            case PayFee():
                return self._pay(cmd, progress)
            case PrintSlip():
                return self._print(cmd)
        raise TypeError(f"unknown command {cmd!r}")

    def _row(self, txn_id: str, patient: Patient) -> None:
        """The journal row of this check-in (made once: a retry reuses the transaction)."""
        if self.journal.get(txn_id) is None:
            self.journal.create(
                txn_id,
                "checkin",
                patient_masked=f"{patient.name_masked} {patient.id_masked}",
                patient_ref=str(patient.patient_id),
            )

    def _check_in(self, cmd: CheckInBooking) -> Outcome:
        appt = cmd.appointment
        self._row(cmd.txn_id, cmd.patient)
        details = {"appointment_id": appt.appointment_id, "department": appt.department_code, "time": appt.start}
        self.journal.update(cmd.txn_id, J.REGISTERING, "check-in", registration_key=cmd.key, details=details)
        try:
            result = self._send(cmd)
        except BusinessError as err:
            self.journal.update(cmd.txn_id, J.FAILED, err.code, error_code=err.code)
            raise
        reg = result.registration
        self.journal.update(
            cmd.txn_id,
            J.PAID if result.paid else J.REGISTERED,
            f"queue {result.queue_no}",
            registration_id=reg.registration_id,
            reg_no=reg.reg_no,
            amount_cents=reg.amount_cents,
        )
        return lambda f: f.checked_in(result)

    def _send(self, cmd: CheckInBooking) -> CheckIn:
        """The check-in; a lost answer is asked again at once under the same key (the server replays it)."""
        try:
            return self.client.check_in(cmd.key, cmd.appointment.appointment_id, cmd.patient.patient_id)
        except ServerTimeout as err:
            log.info("check-in %s: answer lost (%s), asking again under the same key", cmd.key, err.code)
            return self.client.check_in(cmd.key, cmd.appointment.appointment_id, cmd.patient.patient_id)

    def _pay(self, cmd: PayFee, progress: Progress) -> Outcome:
        reg, key = cmd.registration, uuid7()
        self._row(cmd.txn_id, cmd.patient)
        row = self.journal.get(cmd.txn_id)
        if row is not None and not row["registration_id"]:  # a visit checked in earlier, paid now
            self.journal.update(
                cmd.txn_id,
                J.REGISTERED,
                "checked in earlier",
                registration_id=reg.registration_id,
                reg_no=reg.reg_no,
                amount_cents=reg.amount_cents,
            )

        def report(answer: PaymentResult) -> None:
            progress(lambda f: f.pay_progress(answer))

        def unreachable(err: ServerError) -> None:
            if self.offline is not None:
                self.offline.uploader.note_unreachable(err.code)

        outcome = pay_until_final(
            journal=self.journal,
            txn_id=cmd.txn_id,
            key=key,
            amount_cents=reg.amount_cents,
            send=lambda: self.client.pay(key, reg.registration_id, reg.amount_cents, cmd.auth_code),
            query=lambda: self.client.payment_status(key),
            timings=self.pay_settings,
            progress=report,
            unreachable=unreachable,
            sleep=self.sleep,
        )
        log.info(
            "check-in fee for registration %d: %s %s", reg.registration_id, outcome.status, outcome.error_code or ""
        )
        return lambda f: f.pay_finished(outcome)

    def _print(self, cmd: PrintSlip) -> Outcome:
        slip = checkin_slip(
            job_id=f"{cmd.txn_id}:slip",
            hospital=self.hospital_name,
            kiosk_id=self.kiosk_id,
            patient_masked=f"{cmd.patient.name_masked}  {cmd.patient.id_masked}",
            registration=cmd.registration,
            queue_no=cmd.queue_no,
            appt_no=cmd.appt_no,
            prepaid=cmd.prepaid,
            printed_at=datetime.now().strftime("%Y-%m-%d %H:%M"),
        )
        printed = print_once(self.journal, self.printer, slip, cmd.txn_id)
        return lambda f: f.printed(printed.ok, printed.tr_key)
