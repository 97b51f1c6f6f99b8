"""Runs the registration flow's commands: each returns the event to apply on the GUI thread.

Every external step is journalled before and after (``offline_cache.journal``): the
idempotency key of a registration or payment is committed to the local store *before* the
request leaves the kiosk, and the outcome is committed when it returns.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TypeVar

from devices.errors import DeviceError
from devices.idcard import IdCardData
from devices.printer import ReceiptPrinter
from kiosk_app.flows.registration import (
    CancelRegistration,
    Command,
    IdentifyPatient,
    LoadDepartments,
    LoadDoctors,
    LoadSlots,
    Patient,
    Pay,
    PrintReceipt,
    Register,
    RegistrationFlow,
    patient_from_card,
)
from kiosk_app.services.offline import OfflineSupport
from kiosk_app.services.receipts import registration_receipt
from offline_cache import journal as J
from offline_cache.catalog import CatalogCache
from offline_cache.ids import uuid7
from offline_cache.journal import Journal
from offline_cache.offline_ops import IdentityClaim
from offline_cache.outbox import QueueFull
from sync.client import (
    BusinessError,
    Department,
    Doctor,
    PaymentResult,
    Registration,
    ServerClient,
    ServerError,
    ServerTimeout,
    ServerUnavailable,
    Slot,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# What a worker hands back: a function applied to the flow on the GUI thread.
Outcome = Callable[[RegistrationFlow], list[Command]]
Progress = Callable[[Outcome], None]

FINAL = {"SUCCESS", "FAILED", "REVERSED"}


@dataclass
class PaySettings:
    poll_interval_s: float = 1.0
    deadline_s: float = 90.0


class RegistrationService:
    def __init__(
        self,
        *,
        client: ServerClient,
        journal: Journal,
        printer: ReceiptPrinter | None,
        kiosk_id: str,
        hospital_name: str,
        pay: PaySettings,
        today: Callable[[], date] = date.today,
        sleep: Callable[[float], None] = time.sleep,
        offline: OfflineSupport | None = None,
    ) -> None:
        self.client, self.journal, self.printer = client, journal, printer
        self.kiosk_id, self.hospital_name, self.pay_settings = kiosk_id, hospital_name, pay
        self.today, self.sleep = today, sleep
        self.offline = offline

    def execute(self, cmd: Command, progress: Progress) -> Outcome:
        """Run one command; any failure becomes ``flow.failed(key)``, never an exception."""
        try:
            return self._dispatch(cmd, progress)
        except (DeviceError, ServerError) as err:
            log.warning("%s failed: %s (%s)", type(cmd).__name__, err.code, type(err).__name__)
            return _failed(err.tr_key)
        except QueueFull as err:
            return _failed(err.tr_key)
        except Exception:
            log.exception("%s failed unexpectedly", type(cmd).__name__)
            return _failed("error.unexpected")

    def _dispatch(self, cmd: Command, progress: Progress) -> Outcome:
        match cmd:
            case IdentifyPatient(card):
                patient = self._identify(card)
                return lambda f: f.identified(patient)
            case LoadDepartments():
                depts = self._browse(self.client.departments, lambda c: c.departments())
                return lambda f: f.departments_loaded(depts)
            case LoadDoctors(department):
                day = self.today().isoformat()
                doctors = self._browse(
                    lambda: self.client.doctors(department.code, day), lambda c: c.doctors(department.code, day)
                )
                return lambda f: f.doctors_loaded(doctors)
            case LoadSlots(doctor):
                day = self.today().isoformat()
                slots = self._browse(lambda: self._live_slots(doctor.code, day), lambda c: c.slots(doctor.code, day))
                return lambda f: f.slots_loaded(slots)
            case Register():
                return self._register(cmd)
            case Pay():
                return self._pay(cmd, progress)
            case PrintReceipt():
                return self._print(cmd)
            case CancelRegistration(txn_id, registration_id):
                self.client.cancel_registration(registration_id)
                self.journal.update(txn_id, J.CANCELLED, "released by patient or timeout")
                return lambda f: []
        raise TypeError(f"unknown command {cmd!r}")

    # ---- Online first, the offline cache when the server cannot be reached

    def _offline_now(self) -> bool:
        return self.offline is not None and self.offline.uploader.offline

    def _may_fall_back(self) -> bool:
        """The offline policy lets registration go on without the server."""
        return self.offline is not None and self.offline.policy.registration

    def _unreachable(self, err: ServerError) -> None:
        if self.offline is not None:
            self.offline.uploader.note_unreachable(err.code)

    def _browse(self, online: Callable[[], T], cached: Callable[[CatalogCache], T]) -> T:
        if self.offline is None or not self._may_fall_back():
            return online()
        if not self._offline_now():
            try:
                return online()
            except (ServerUnavailable, ServerTimeout) as err:
                self._unreachable(err)
                log.info("server unreachable (%s): showing the cached catalog", err.code)
        return cached(self.offline.catalog)

    def _live_slots(self, doctor_code: str, day: str) -> list[Slot]:
        slots = self.client.slots(doctor_code, day)
        if self.offline is not None:
            self.offline.catalog.observe_slots(slots)  # the cache is as fresh as the last look
        return slots

    def _identify(self, card: IdCardData) -> Patient:
        sex, birth = _SEX_CODES.get(card.sex, card.sex), _iso(card.birth)
        if not self._offline_now():
            try:
                ref = self.client.identify(card.card_type, card.id_number, card.name, sex, birth)
            except (ServerUnavailable, ServerTimeout) as err:
                if not self._may_fall_back():
                    raise
                self._unreachable(err)
            else:
                patient = patient_from_card(card, ref.patient_id)
                if self.offline is not None:
                    self.offline.patients.remember(
                        card.card_type, card.id_number, ref.patient_id, patient.name_masked, patient.id_masked
                    )
                return patient
        assert self.offline is not None
        known = self.offline.patients.find(card.card_type, card.id_number)
        if known is not None:
            log.info("offline: returning patient found in the local cache")
            return patient_from_card(card, known.patient_id)
        if not self.offline.policy.filing:
            raise ServerUnavailable("unavailable", "first-time filing is not allowed offline")
        log.info("offline: first-time patient, the filing will be queued with the registration")
        claim = IdentityClaim(card.card_type, card.id_number, card.name, sex, birth)
        return replace(patient_from_card(card, 0), claim=claim)

    def _register(self, cmd: Register) -> Outcome:
        key = uuid7()
        p = cmd.patient
        self.journal.create(
            cmd.txn_id, "registration", patient_masked=f"{p.name_masked} {p.id_masked}", patient_ref=str(p.patient_ref)
        )
        details = {"department": cmd.department.code, "doctor": cmd.doctor.code, "slot": cmd.slot.slot_id}
        if p.claim is not None or self._offline_now():
            return self._queue(cmd, key, details)
        self.journal.update(cmd.txn_id, J.REGISTERING, registration_key=key, details=details)
        try:
            reg = self.client.create_registration(key, p.patient_ref, cmd.slot.slot_id)
        except BusinessError as err:
            self.journal.update(cmd.txn_id, J.FAILED, err.code, error_code=err.code)
            raise
        except (ServerUnavailable, ServerTimeout) as err:
            if not self._may_fall_back():
                raise
            # Queued under the SAME key: if the lost request did book, the server replays that booking.
            self._unreachable(err)
            return self._queue(cmd, key, details)
        if self.offline is not None and not reg.replayed:
            self.offline.catalog.adjust_booked(cmd.slot.slot_id, +1)
        self.journal.update(
            cmd.txn_id,
            J.REGISTERED,
            registration_id=reg.registration_id,
            reg_no=reg.reg_no,
            amount_cents=reg.amount_cents,
        )
        return lambda f: f.registered(reg)

    def _queue(self, cmd: Register, key: str, details: dict[str, object]) -> Outcome:
        """Queue the registration (and a first-time patient's filing) in one local transaction."""
        assert self.offline is not None
        p = cmd.patient
        try:
            queued = self.offline.registrar.queue_registration(
                cmd.txn_id,
                registration_key=key,
                slot_id=cmd.slot.slot_id,
                patient_masked=f"{p.name_masked} {p.id_masked}",
                patient_id=None if p.claim is not None else p.patient_ref,
                claim=p.claim,
                details=details,
            )
        except QueueFull:
            self.journal.update(cmd.txn_id, J.FAILED, "offline queue full", error_code="queue_full")
            raise
        self.offline.uploader.wake()
        reg = _pending_registration(queued.provisional_no, cmd.department, cmd.doctor, cmd.slot)
        return lambda f: f.registered(reg)

    def _pay(self, cmd: Pay, progress: Progress) -> Outcome:
        reg = cmd.registration
        key = uuid7()
        if self._offline_now():
            log.info("offline: payment by QR code refused, patient sent to the cashier window")
            return lambda f: f.pay_refused_offline()
        # The key is durable before the request leaves: after a crash we can still ask about it.
        self.journal.update(cmd.txn_id, J.PAYING, payment_key=key, amount_cents=reg.amount_cents)
        try:
            result = self._pay_once(key, cmd, first=True)
        except ServerUnavailable as err:
            # Never connected, so nothing can have been charged: a definite "not paid".
            self._unreachable(err)
            self.journal.update(cmd.txn_id, J.PAYMENT_FAILED, "server unreachable", payment_status="NOT_SENT")
            return lambda f: f.pay_refused_offline()
        deadline = time.monotonic() + self.pay_settings.deadline_s
        while (result is None or result.status not in FINAL) and time.monotonic() < deadline:
            if result is not None:
                self.journal.update(cmd.txn_id, J.PAYMENT_PENDING, result.error_code or "", payment_status="PENDING")
                progress(_progress(result))
            self.sleep(self.pay_settings.poll_interval_s)
            try:
                result = self.client.payment_status(key)
            except ServerError as err:  # still unknown: keep asking until the deadline
                log.info("payment status query failed: %s", err.code)
                continue
            if result is None:
                # The server has never seen this key, so nothing was charged: resend it.
                result = self._pay_once(key, cmd)
        final = result if result is not None and result.status in FINAL else None
        state = {"SUCCESS": J.PAID, "FAILED": J.PAYMENT_FAILED, "REVERSED": J.PAYMENT_FAILED}.get(
            final.status if final else "", J.PAYMENT_UNKNOWN
        )
        self.journal.update(
            cmd.txn_id,
            state,
            (final.error_code or "") if final else "kiosk deadline",
            payment_status=final.status if final else "UNKNOWN",
        )
        return lambda f: f.payment_finished(final)

    def _pay_once(self, key: str, cmd: Pay, *, first: bool = False) -> PaymentResult | None:
        """One POST; ``None`` when the outcome is unknown (timeout, connection lost).

        ``first``: a ServerUnavailable is raised, since the first request surely never arrived.
        """
        reg = cmd.registration
        try:
            return self.client.pay(key, reg.registration_id, reg.amount_cents, cmd.auth_code)
        except BusinessError as err:
            # A definite refusal (already paid, amount changed): nothing was charged.
            return PaymentResult(
                idempotency_key=key, status="FAILED", error_code=err.code, message=err.message, registration_status=""
            )
        except ServerUnavailable:
            if first:
                raise
            return None
        except ServerError as err:
            log.info("payment request outcome unknown: %s", err.code)
            return None

    def _print(self, cmd: PrintReceipt) -> Outcome:
        job_id = f"{cmd.txn_id}:receipt"
        receipt = registration_receipt(
            job_id=job_id,
            hospital=self.hospital_name,
            kiosk_id=self.kiosk_id,
            patient_masked=f"{cmd.patient.name_masked}  {cmd.patient.id_masked}",
            registration=cmd.registration,
            printed_at=datetime.now().strftime("%Y-%m-%d %H:%M"),
        )
        claim = self.journal.claim_print(job_id, cmd.txn_id, {"title": receipt.title, "lines": receipt.lines})
        if not claim.allowed:
            log.warning("print job %s not printed again (already printed: %s)", job_id, claim.already_printed)
            ok = claim.already_printed
            return lambda f: f.printed(ok, "" if ok else "printer.needs_staff")
        if self.printer is None:
            self.journal.finish_print(job_id, ok=False, error_code="printer_disabled")
            return lambda f: f.printed(False, "printer.unavailable")
        try:
            self.printer.print_receipt(receipt)
        except DeviceError as err:
            log.warning("receipt %s failed: %s", job_id, err.code)
            self.journal.finish_print(job_id, ok=False, error_code=err.code)
            key = err.tr_key
            return lambda f: f.printed(False, key)
        self.journal.finish_print(job_id, ok=True)
        return lambda f: f.printed(True)


# GB/T 2261.1 sex codes as read from the card -> the server's M/F.
_SEX_CODES = {"1": "M", "2": "F"}


def _pending_registration(provisional_no: str, dep: Department, doc: Doctor, slot: Slot) -> Registration:
    """What the "pending confirmation" slip shows: the choice made, under a provisional number."""
    return Registration(
        registration_id=0,
        reg_no=provisional_no,
        status="pending",
        amount_cents=doc.fee_cents,
        department_code=dep.code,
        department_name_zh=dep.name_zh,
        department_name_en=dep.name_en,
        doctor_name_zh=doc.name_zh,
        doctor_name_en=doc.name_en,
        doctor_title_zh=doc.title_zh,
        doctor_title_en=doc.title_en,
        date=slot.date,
        start=slot.start,
        end=slot.end,
    )


def _iso(yyyymmdd: str) -> str:
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:8]}" if len(yyyymmdd) == 8 else yyyymmdd


def _progress(result: PaymentResult) -> Outcome:
    return lambda f: f.payment_progress(result)


def _failed(key: str) -> Outcome:
    return lambda f: f.failed(key)
