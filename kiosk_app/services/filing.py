"""Runs the filing flow's worker commands: lookup, chip photo, the record itself, the slip.

The filing's idempotency key is committed to the local journal before the request leaves the
kiosk (like a registration's), so a lost answer is retried under the same key and the server
answers with the record it made rather than making a second one. When the hospital system cannot
be reached the filing alone is queued in the outbox (``patient.file``) in one local transaction
with its journal row, and the slip says "pending confirmation".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from devices.errors import DeviceError
from devices.idcard import IdCardData, mask_id, mask_name
from devices.idcard.photo import PhotoUnavailable
from devices.printer import Receipt, ReceiptPrinter
from kiosk_app.flows.filing import (
    CONSENT_VERSION,
    Filed,
    FileRecord,
    FilingCommand,
    FilingFlow,
    Lookup,
    LookupPatient,
    PrepareFace,
    PrintSlip,
)
from kiosk_app.services.face import FaceSupport
from kiosk_app.services.offline import OfflineSupport
from kiosk_app.services.receipts import filing_slip
from offline_cache import journal as J
from offline_cache.ids import uuid7
from offline_cache.journal import Journal
from offline_cache.offline_ops import IdentityClaim
from offline_cache.outbox import QueueFull
from sync.client import BusinessError, ServerError, ServerTimeout, ServerUnavailable

log = logging.getLogger(__name__)

Outcome = Callable[[FilingFlow], list[FilingCommand]]

FILING, FILED = J.FILING, J.FILED

_SEX_CODES = {"1": "M", "2": "F"}


class FilingClient(Protocol):
    """The two calls of sync.client.ServerClient this flow makes."""

    def lookup_patient(self, id_type: str, id_number: str) -> Any: ...

    def file_patient(
        self,
        key: str,
        id_type: str,
        id_number: str,
        name: str,
        sex: str,
        birth: str,
        phone: str,
        verification: str,
        face_consent: bool,
    ) -> Any: ...


@dataclass(frozen=True)
class SlipData:
    """What the slip says; only masked identity data reaches paper."""

    job_id: str
    hospital: str
    kiosk_id: str
    name_masked: str
    id_masked: str
    phone_masked: str
    visit_card_no: str
    pending: bool
    verification: str
    printed_at: str


SlipBuilder = Callable[[SlipData], Receipt]


class FilingService:
    def __init__(
        self,
        *,
        client: FilingClient,
        journal: Journal,
        printer: ReceiptPrinter | None,
        kiosk_id: str,
        hospital_name: str,
        face: FaceSupport | None = None,
        offline: OfflineSupport | None = None,
        slip: SlipBuilder | None = None,
    ) -> None:
        self.client, self.journal, self.printer = client, journal, printer
        self.kiosk_id, self.hospital_name = kiosk_id, hospital_name
        self.face, self.offline = face, offline
        self.slip = slip or default_slip

    def execute(self, cmd: FilingCommand, progress: object = None) -> Outcome:
        """Run one command; any failure becomes ``flow.failed(key)``, never an exception."""
        try:
            return self._dispatch(cmd)
        except (DeviceError, ServerError, QueueFull) as err:
            log.warning("%s failed: %s (%s)", type(cmd).__name__, getattr(err, "code", ""), type(err).__name__)
            key = err.tr_key
            return lambda f: f.failed(key)
        except Exception:
            log.exception("%s failed unexpectedly", type(cmd).__name__)
            return lambda f: f.failed("error.unexpected")

    def _dispatch(self, cmd: FilingCommand) -> Outcome:
        match cmd:
            case LookupPatient(card):
                lookup = self._lookup(card)
                return lambda f: f.looked_up(lookup)
            case PrepareFace(card):
                return self._prepare(card)
            case FileRecord():
                filed = self._file(cmd)
                return lambda f: f.record_filed(filed)
            case PrintSlip():
                return self._print(cmd)
        raise TypeError(f"not a worker command: {cmd!r}")

    # ---- Lookup

    def _offline_now(self) -> bool:
        return self.offline is not None and self.offline.uploader.offline

    def _may_queue(self) -> bool:
        return self.offline is not None and self.offline.policy.filing

    def _lookup(self, card: IdCardData) -> Lookup:
        if not self._offline_now():
            try:
                found = self.client.lookup_patient(card.card_type, card.id_number)
            except (ServerUnavailable, ServerTimeout) as err:
                if not self._may_queue():
                    raise
                self._unreachable(err)
            else:
                if found.found and found.filed is False:
                    # Known from a registration but never properly filed (no visit card): file now.
                    return Lookup(False)
                return Lookup(bool(found.found), found.visit_card_no or "")
        assert self.offline is not None
        known = self.offline.patients.find(card.card_type, card.id_number)
        if known is not None:
            log.info("offline: the patient is known from the local cache")
            return Lookup(True, "", offline=True)
        if not self.offline.policy.filing:
            raise ServerUnavailable("unavailable", "first-time filing is not allowed offline")
        return Lookup(False, offline=True)

    def _unreachable(self, err: ServerError) -> None:
        if self.offline is not None:
            self.offline.uploader.note_unreachable(err.code)

    # ---- Chip photo

    def _prepare(self, card: IdCardData) -> Outcome:
        if self.face is None:
            return lambda f: f.face_unavailable("face.unavailable.disabled")
        try:
            reference = self.face.reference(card.photo_wlt)
        except PhotoUnavailable as err:
            log.info("chip photo unavailable: %s", err)
            return lambda f: f.face_unavailable("face.unavailable.photo")
        return lambda f: f.face_ready(reference)

    # ---- The record

    def _file(self, cmd: FileRecord) -> Filed:
        card = cmd.card
        key = uuid7()
        masked = _masked(card)
        sex, birth = _SEX_CODES.get(card.sex, card.sex), _iso(card.birth)
        details = {"filing_key": key, "verification": cmd.verification, "face_consent": cmd.face_consent}
        if self._offline_now():
            return self._queue(cmd, key, details, sex, birth)
        self.journal.create(cmd.txn_id, "filing", patient_masked=masked, patient_ref="")
        # Durable before the request leaves: after a crash the key can be asked about or re-sent.
        self.journal.update(cmd.txn_id, FILING, details=details)
        try:
            filed = self.client.file_patient(
                key,
                card.card_type,
                card.id_number,
                card.name,
                sex,
                birth,
                cmd.phone,
                cmd.verification,
                cmd.face_consent,
            )
        except BusinessError as err:
            self.journal.update(cmd.txn_id, J.FAILED, err.code, error_code=err.code)
            raise
        except (ServerUnavailable, ServerTimeout) as err:
            if not self._may_queue():
                self.journal.update(cmd.txn_id, J.FAILED, err.code, error_code=err.code)
                raise
            self._unreachable(err)
            # The SAME key: if the lost request did file, the server replays that record.
            return self._queue(cmd, key, details, sex, birth)
        self.journal.update(cmd.txn_id, FILED, patient_ref=str(filed.patient_id))
        if self.offline is not None:
            self.offline.patients.remember(
                card.card_type, card.id_number, filed.patient_id, mask_name(card.name), mask_id(card.id_number)
            )
        if cmd.face_consent and cmd.template is not None and self.face is not None:
            self.face.save_template(
                f"patient:{filed.patient_id}", cmd.template, consent_version=CONSENT_VERSION, factor=cmd.phone[-4:]
            )
        return Filed(filed.visit_card_no, pending=False, is_new=bool(filed.is_new))

    def _queue(self, cmd: FileRecord, key: str, details: dict[str, Any], sex: str, birth: str) -> Filed:
        """The filing alone, queued with its journal row in one local transaction."""
        assert self.offline is not None
        card = cmd.card
        claim = IdentityClaim(
            card.card_type,
            card.id_number,
            card.name,
            sex,
            birth,
            phone=cmd.phone,
            verification=cmd.verification,
            face_consent=cmd.face_consent,
        )
        try:
            queued = self.offline.registrar.queue_filing(
                cmd.txn_id, claim=claim, patient_masked=_masked(card), filing_key=key, details=details
            )
        except QueueFull:
            self.journal.update(cmd.txn_id, J.FAILED, "offline queue full", error_code="queue_full")
            raise
        self.offline.uploader.wake()
        if cmd.face_consent:
            # No patient id until the server confirms: the template cannot be keyed, so it is not kept.
            log.info("offline filing %s: the face template is not stored (no patient id yet)", cmd.txn_id)
        return Filed(queued.provisional_no, pending=True)

    # ---- The slip

    def _print(self, cmd: PrintSlip) -> Outcome:
        job_id = f"{cmd.txn_id}:slip"
        receipt = self.slip(
            SlipData(
                job_id=job_id,
                hospital=self.hospital_name,
                kiosk_id=self.kiosk_id,
                name_masked=cmd.name_masked,
                id_masked=cmd.id_masked,
                phone_masked=cmd.phone_masked,
                visit_card_no=cmd.filed.visit_card_no,
                pending=cmd.filed.pending,
                verification=cmd.verification,
                printed_at=datetime.now().strftime("%Y-%m-%d %H:%M"),
            )
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
            log.warning("slip %s failed: %s", job_id, err.code)
            self.journal.finish_print(job_id, ok=False, error_code=err.code)
            key = err.tr_key
            return lambda f: f.printed(False, key)
        self.journal.finish_print(job_id, ok=True)
        return lambda f: f.printed(True)


def default_slip(s: SlipData) -> Receipt:
    """The 建档凭条 as kiosk_app/services/receipts.py lays it out."""
    return filing_slip(
        job_id=s.job_id,
        hospital=s.hospital,
        kiosk_id=s.kiosk_id,
        name_masked=s.name_masked,
        id_masked=s.id_masked,
        phone=s.phone_masked,
        printed_at=s.printed_at,
        visit_card_no=None if s.pending else s.visit_card_no,
        provisional_no=s.visit_card_no if s.pending else None,
        verification=s.verification,
    )


def _masked(card: IdCardData) -> str:
    return f"{mask_name(card.name)} {mask_id(card.id_number)}"


def _iso(yyyymmdd: str) -> str:
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:8]}" if len(yyyymmdd) == 8 else yyyymmdd
