"""First-time filing (建档): ID card → already filed? → consent → face or staff → phone → record → slip.

Like the registration flow it never does I/O: events update the state and return commands for the
shell. Face capture is a command too (``StartCapture`` / ``CancelCapture``): the shell runs it on
the capture's own thread and feeds its frame reports and its outcome back as events.

Two rules shape the state machine:

* Face verification never passes silently. Only a live face whose 1:1 match against the chip photo
  succeeded sets ``verification = "face"``; everything else ends at "try again" (a configurable
  number of times) or the staff alternative, which files the record as ``"staff"`` for staff to
  check at the service window.
* Biometric data lives only as long as the decision needs it: the chip photo is dropped as soon as
  the face is verified, the tries are used up, or the patient chooses the staff path; the live
  template is dropped once the record is filed (the service stores it encrypted on this kiosk when
  the patient consented); ``reset()`` drops both with everything else.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from devices.idcard import IdCardData, mask_id, mask_name
from face.types import FrameReport, Image, MatchResult, Template
from kiosk_app.flows.printing import PrintState
from offline_cache.ids import uuid7
from sync.client import mask_phone

log = logging.getLogger(__name__)

PHONE_LEN = 11
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")  # mainland mobile numbers
CONSENT_VERSION = "face-consent-v1"  # stored with every template: which wording the patient agreed to


class FilingStep(enum.StrEnum):
    HOME = "home"  # the same home screen as registration
    IDENTIFY = "filing_identify"
    ALREADY = "filing_already"  # the patient has a record: show its masked visit-card number
    CONSENT = "filing_consent"
    FACE = "filing_face"  # camera preview, liveness challenge, 1:1 match
    FACE_FAILED = "filing_face_failed"
    PHONE = "filing_phone"
    RESULT = "filing_result"


BACK: dict[FilingStep, FilingStep] = {
    FilingStep.IDENTIFY: FilingStep.HOME,
    FilingStep.CONSENT: FilingStep.IDENTIFY,
    FilingStep.FACE: FilingStep.CONSENT,
    FilingStep.FACE_FAILED: FilingStep.CONSENT,
    FilingStep.PHONE: FilingStep.CONSENT,
}


@dataclass(frozen=True)
class FaceAvailability:
    """Whether this kiosk can verify a face right now, and if not the message key saying why."""

    possible: bool
    reason: str = ""  # e.g. "face.unavailable.camera"


@dataclass(frozen=True)
class Lookup:
    """What the server (or, offline, the local cache) knows of this ID number."""

    found: bool
    visit_card_no: str = ""
    offline: bool = False


@dataclass(frozen=True)
class Filed:
    """The filing's outcome: the visit-card number, or a provisional number while offline."""

    visit_card_no: str
    pending: bool = False
    is_new: bool = True


# ---- Commands


@dataclass(frozen=True)
class LookupPatient:
    card: IdCardData


@dataclass(frozen=True)
class PrepareFace:
    """Decode the chip photo into the reference image (only after the patient consented)."""

    card: IdCardData


@dataclass(frozen=True, eq=False)
class StartCapture:
    reference: Image = field(repr=False)


@dataclass(frozen=True)
class CancelCapture:
    pass


@dataclass(frozen=True, eq=False)
class FileRecord:
    txn_id: str
    card: IdCardData
    phone: str = field(repr=False)
    verification: str  # "face" | "staff"
    face_consent: bool
    template: Template | None = field(default=None, repr=False)


@dataclass(frozen=True)
class PrintSlip:
    txn_id: str
    name_masked: str
    id_masked: str
    filed: Filed
    verification: str
    phone_masked: str = ""


FilingCommand = LookupPatient | PrepareFace | StartCapture | CancelCapture | FileRecord | PrintSlip


def mask_visit_card(number: str) -> str:
    """A visit-card number for the screen: the last four digits only."""
    return "*" * max(len(number) - 4, 0) + number[-4:] if number else ""


@dataclass
class FilingFlow:
    """One first-time patient's session. ``reset()`` drops every reference to their data."""

    retries: int = 2  # "try again" offers after a failed face check (the config's [face] retries)
    step: FilingStep = FilingStep.HOME
    busy: bool = False
    message: str = ""
    card: IdCardData | None = field(default=None, repr=False)
    name_masked: str = ""
    id_masked: str = ""
    offline: bool = False  # the lookup could not reach the server: the filing will be queued
    lookup: Lookup | None = None
    face: FaceAvailability = field(default_factory=lambda: FaceAvailability(False))
    verification: str = ""  # "" until chosen, then "face" or "staff"
    attempts: int = 0
    capturing: bool = False
    report: FrameReport | None = field(default=None, repr=False)
    fail_reason: str = ""  # message key of the last failed face check
    reference: Image | None = field(default=None, repr=False)
    template: Template | None = field(default=None, repr=False)
    match: MatchResult | None = None
    phone: str = field(default="", repr=False)
    phone_masked: str = ""  # for the slip, once the record is filed
    txn_id: str = ""
    filed: Filed | None = None
    print_state: PrintState = PrintState.NONE

    # ---- State queries

    @property
    def at_home(self) -> bool:
        return self.step is FilingStep.HOME

    @property
    def interruptible(self) -> bool:
        """False while the record is being created, so the patient always gets its outcome."""
        return not (self.step is FilingStep.PHONE and self.busy)

    @property
    def has_back(self) -> bool:
        return self.step in BACK

    @property
    def can_go_back(self) -> bool:
        return self.step in BACK and not self.busy

    @property
    def can_retry(self) -> bool:
        return self.step is FilingStep.FACE_FAILED and self.reference is not None and self.attempts <= self.retries

    @property
    def device(self) -> str:
        """The device this step waits on, for "device unavailable" warnings."""
        return {FilingStep.IDENTIFY: "id_reader", FilingStep.FACE: "camera"}.get(self.step, "")

    # ---- Events

    def start(self, face: FaceAvailability | None = None) -> list[FilingCommand]:
        self.reset()
        self.face = face or FaceAvailability(False, "face.unavailable.disabled")
        self.step = FilingStep.IDENTIFY
        return []

    def notify(self, key: str) -> list[FilingCommand]:
        self.message = key
        return []

    def card_read(self, card: IdCardData) -> list[FilingCommand]:
        if self.step is not FilingStep.IDENTIFY or self.busy:
            log.info("card read ignored at step %s", self.step)
            return []
        self.busy, self.message = True, ""
        self.card, self.name_masked, self.id_masked = card, mask_name(card.name), mask_id(card.id_number)
        return [LookupPatient(card)]

    def code_scanned(self, code: str) -> list[FilingCommand]:
        return []  # nothing to scan while filing

    def looked_up(self, lookup: Lookup) -> list[FilingCommand]:
        if self.step is not FilingStep.IDENTIFY:
            return []
        self.busy, self.lookup, self.offline = False, lookup, lookup.offline
        if lookup.found:
            self.card = None  # nothing to file: the card data is not needed any more
            self.step, self.message = FilingStep.ALREADY, "filing.already"
            return []
        self.step, self.message = FilingStep.CONSENT, ""
        if not self.face.possible:
            self.message = self.face.reason
        return []

    def choose_face(self) -> list[FilingCommand]:
        if self.step is not FilingStep.CONSENT or self.busy or self.card is None:
            return []
        if not self.face.possible:
            self.message = self.face.reason
            return []
        self.busy, self.message, self.attempts = True, "", 0
        return [PrepareFace(self.card)]

    def face_ready(self, reference: Image) -> list[FilingCommand]:
        """The chip photo is decoded: the camera starts."""
        if self.step is not FilingStep.CONSENT:
            return []
        self.reference, self.busy = reference, False
        return self._capture()

    def face_unavailable(self, key: str) -> list[FilingCommand]:
        """Face verification cannot work for this card or kiosk: only the staff path is left."""
        self.busy, self.reference = False, None
        self.face = FaceAvailability(False, key)
        if self.step in (FilingStep.FACE, FilingStep.FACE_FAILED):
            self.step, self.capturing = FilingStep.CONSENT, False
        self.message = key
        return []

    def capture_report(self, report: FrameReport) -> list[FilingCommand]:
        if self.step is FilingStep.FACE and self.capturing:
            self.report = report
        return []

    def capture_done(
        self, live: bool, reason: str, template: Template | None, match: MatchResult | None
    ) -> list[FilingCommand]:
        """The capture's outcome. Only live AND matched passes; anything else is a failure."""
        if self.step is not FilingStep.FACE or not self.capturing:
            return []
        self.capturing, self.report, self.match = False, None, match
        if live and template is not None and match is not None and match.matched:
            self.reference = None  # the decision is made: the chip photo goes at once
            self.template, self.verification = template, "face"
            self.step, self.message = FilingStep.PHONE, "face.verified"
            return []
        if reason in ("camera", "no_reference", "error"):
            # Not the patient's doing and not fixed by trying again: the staff path.
            return self.face_unavailable(f"face.fail.{reason}")
        self.fail_reason = f"face.fail.{reason}" if not live else "face.fail.no_match"
        log.info("face check failed (attempt %d of %d): %s", self.attempts, self.retries + 1, reason or "no match")
        if self.attempts > self.retries:
            self.reference = None  # out of tries: nothing left to compare against
        self.step, self.message = FilingStep.FACE_FAILED, self.fail_reason
        return []

    def retry(self) -> list[FilingCommand]:
        if not self.can_retry:
            return []
        self.message = ""
        return self._capture()

    def choose_staff(self) -> list[FilingCommand]:
        """The non-face alternative, always offered: staff check the patient at the window."""
        if self.step not in (FilingStep.CONSENT, FilingStep.FACE, FilingStep.FACE_FAILED) or self.busy:
            return []
        commands = self._stop_capture()
        self.reference, self.template, self.match = None, None, None
        self.verification, self.step, self.message = "staff", FilingStep.PHONE, ""
        return commands

    def phone_key(self, digit: str) -> list[FilingCommand]:
        if self.step is FilingStep.PHONE and not self.busy and digit.isdigit() and len(self.phone) < PHONE_LEN:
            self.phone += digit
            if self.message == "filing.phone_invalid":
                self.message = ""
        return []

    def phone_delete(self) -> list[FilingCommand]:
        if self.step is FilingStep.PHONE and not self.busy:
            self.phone = self.phone[:-1]
        return []

    def phone_submit(self) -> list[FilingCommand]:
        if self.step is not FilingStep.PHONE or self.busy or self.card is None:
            return []
        if not PHONE_RE.match(self.phone):
            self.message = "filing.phone_invalid"
            return []
        self.txn_id = uuid7()
        self.busy, self.message = True, "filing.filing"
        face_ok = self.verification == "face"
        return [FileRecord(self.txn_id, self.card, self.phone, self.verification, face_ok, self.template)]

    def record_filed(self, filed: Filed) -> list[FilingCommand]:
        if self.step is not FilingStep.PHONE:
            return []
        self.filed, self.busy, self.phone_masked = filed, False, mask_phone(self.phone)
        self.card, self.template, self.phone = None, None, ""  # sent: the session needs none of it now
        self.step = FilingStep.RESULT
        self.message = "filing.pending_offline" if filed.pending else ""
        self.print_state = PrintState.PRINTING
        return [self._slip()]

    def reprint(self) -> list[FilingCommand]:
        if self.step is not FilingStep.RESULT or self.print_state is not PrintState.FAILED or self.filed is None:
            return []
        self.print_state, self.message = PrintState.PRINTING, ""
        return [self._slip()]

    def printed(self, ok: bool, error_key: str = "") -> list[FilingCommand]:
        self.print_state = PrintState.PRINTED if ok else PrintState.FAILED
        if not ok:
            self.message = error_key or "printer.error"
        return []

    def failed(self, error_key: str) -> list[FilingCommand]:
        """A command failed (device, server, timeout): say so and keep the session usable."""
        self.busy, self.message = False, error_key
        return []

    def back(self) -> list[FilingCommand]:
        if not self.can_go_back:
            return []
        commands = self._stop_capture()
        to = BACK[self.step]
        if to is FilingStep.HOME:
            self.reset()
            return commands
        if to is FilingStep.IDENTIFY:
            self.card, self.name_masked, self.id_masked, self.lookup = None, "", "", None
        if to is FilingStep.CONSENT:
            # Choosing again: nothing of an earlier face check may carry over.
            self.reference, self.template, self.match, self.verification = None, None, None, ""
            self.attempts, self.fail_reason = 0, ""
        self.step, self.message = to, ""
        return commands

    def home(self) -> list[FilingCommand]:
        """Home button or idle timeout: stop the camera and forget everything."""
        if not self.interruptible:
            return []
        commands = self._stop_capture()
        self.reset()
        return commands

    # ---- Internals

    def _capture(self) -> list[FilingCommand]:
        assert self.reference is not None
        self.attempts += 1
        self.step, self.capturing, self.report, self.match = FilingStep.FACE, True, None, None
        return [StartCapture(self.reference)]

    def _stop_capture(self) -> list[FilingCommand]:
        if not self.capturing:
            return []
        self.capturing, self.report = False, None
        return [CancelCapture()]

    def _slip(self) -> PrintSlip:
        assert self.filed is not None
        return PrintSlip(
            self.txn_id, self.name_masked, self.id_masked, self.filed, self.verification, self.phone_masked
        )

    def reset(self) -> None:
        """Forget the patient: every field back to its default (the configured retries stay)."""
        fresh = FilingFlow(retries=self.retries)
        self.__dict__.update(fresh.__dict__)


def describe(flow: FilingFlow) -> dict[str, Any]:
    """A log-safe summary of the session (no identity or biometric data)."""
    return {
        "flow": "filing",
        "step": flow.step.value,
        "busy": flow.busy,
        "message": flow.message,
        "txn": flow.txn_id,
        "attempts": flow.attempts,
        "verification": flow.verification,
    }
