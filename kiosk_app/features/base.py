"""The contract of a patient service (feature) at the kiosk: a pure flow, a worker service, screens.

A feature lives in one folder, ``kiosk_app/features/<name>/``, and exports ``FEATURE`` (a
:class:`Feature`) from its ``__init__.py``. The controller runs the active feature's flow like the
registration flow: UI and device events are applied on the GUI thread, the commands the flow
returns run in a worker through the feature's service, and their outcomes come back as events.
The window shows the screen registered for the flow's current step. Nothing here imports Qt;
screens are built by factories the window calls.

Every feature flow starts with the shared identification step (kiosk_app/flows/identify.py): the
ID card, the insurance card, a visit-card or e-voucher QR. It then continues with
:meth:`FeatureFlow.identified`, which each feature implements.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from devices.errors import DeviceError
from devices.idcard import IdCardData
from devices.sscard.records import InsuranceCardData
from face.types import FrameReport, MatchResult, Template
from kiosk_app.flows.filing import CancelCapture, StartCapture
from kiosk_app.flows.identify import FACTOR_LEN, FindPatient, Identification, IdentifyByFace, Patient, Phase
from kiosk_app.services.identify import FaceNoMatch, NotFound, PatientFinder
from offline_cache.outbox import QueueFull
from sync.client import ServerError

log = logging.getLogger(__name__)

HOME = "home"
Command = Any  # a feature's own frozen dataclasses, plus FindPatient
Outcome = Callable[[Any], list[Any]]  # applied to the flow on the GUI thread
Progress = Callable[[Outcome], None]  # a worker's intermediate outcome (e.g. "confirm on your phone")


class FeatureFlow:
    """Shared state and events of a feature flow. Subclasses set ``feature`` and ``BACK``, and
    implement :meth:`identified`; they clear their own fields in :meth:`reset_feature`.

    Step values are strings namespaced by the feature (``"bills.list"``) so that every step of
    every flow maps to exactly one screen. ``identify_step`` is ``"<feature>.identify"``.
    """

    feature: ClassVar[str] = ""
    # Where "back" leads; steps missing here have no Back. The identify step goes home.
    BACK: ClassVar[Mapping[str, str]] = {}
    # The device a step waits on ("id_reader", "scanner", "printer"); the patient is told at once
    # when it is known to be down. The identify step listens to several and is not listed.
    DEVICES: ClassVar[Mapping[str, str]] = {}
    # Steps during which money or a booking is in flight: no Home, no idle timeout.
    UNINTERRUPTIBLE: ClassVar[frozenset[str]] = frozenset()

    def __init__(self) -> None:
        self.step = HOME
        self.message = ""
        self.busy = False
        self.patient: Patient | None = None
        self.ident = Identification()
        self.face_ok = False  # this kiosk can identify by face now (camera, models, templates)
        self.reset()

    # ---- State

    @property
    def identify_step(self) -> str:
        return f"{self.feature}.identify"

    @property
    def face_step(self) -> str:
        return f"{self.feature}.face"

    @property
    def at_home(self) -> bool:
        return self.step == HOME

    @property
    def interruptible(self) -> bool:
        return self.step not in self.UNINTERRUPTIBLE

    @property
    def has_back(self) -> bool:
        return self.step in (self.identify_step, self.face_step) or self.step in self.BACK

    @property
    def can_go_back(self) -> bool:
        return self.has_back and not self.busy

    @property
    def device(self) -> str:
        return self.DEVICES.get(self.step, "")

    @property
    def offer_filing(self) -> bool:
        """No record was found for the card: the identify screen offers "New patient"."""
        return self.step == self.identify_step and self.ident.phase is Phase.NOT_FOUND

    # ---- Events every flow understands

    def start(self, face_ok: bool = False) -> list[Command]:
        self.reset()
        self.step, self.face_ok = self.identify_step, face_ok
        return []

    def notify(self, key: str) -> list[Command]:
        self.message = key
        return []

    def failed(self, key: str) -> list[Command]:
        """A command failed: show ``key``; the step and what was chosen are kept."""
        if self.step == self.face_step:
            return self._face_failed(key)
        self.busy, self.message = False, key
        if self.step == self.identify_step:
            self.ident.failed(key)
        return []

    def card_read(self, card: IdCardData) -> list[Command]:
        return self._identify(self.ident.card_read(card) if self._identifying else None)

    def insurance_card_read(self, card: InsuranceCardData) -> list[Command]:
        return self._identify(self.ident.insurance_card_read(card) if self._identifying else None)

    def code_scanned(self, code: str) -> list[Command]:
        if self._identifying:
            return self._identify(self.ident.code_scanned(code))
        if self.step == self.identify_step:
            return []  # busy: a second scan while one is being looked up
        return self.scanned(code)

    def visit_number_typed(self, number: str) -> list[Command]:
        return self._identify(self.ident.typed(number) if self._identifying else None)

    # ---- Identification by face: the phone's last four digits, then the live face (1:N)

    def choose_face(self) -> list[Command]:
        if not self._identifying or not self.face_ok:
            return []
        self.step, self.message = self.face_step, ""
        self.ident.phase, self.ident.digits, self.ident.report = Phase.FACE_DIGITS, "", None
        return []

    def face_digit(self, digit: str) -> list[Command]:
        if self.ident.phase is Phase.FACE_DIGITS and digit.isdigit() and len(self.ident.digits) < FACTOR_LEN:
            self.ident.digits += digit
        return []

    def face_delete(self) -> list[Command]:
        if self.ident.phase is Phase.FACE_DIGITS:
            self.ident.digits = self.ident.digits[:-1]
        return []

    def face_submit(self) -> list[Command]:
        if self.ident.phase is not Phase.FACE_DIGITS or len(self.ident.digits) != FACTOR_LEN:
            return []
        self.ident.phase, self.ident.report, self.message = Phase.FACE_CAPTURE, None, ""
        return [StartCapture(None)]  # type: ignore[arg-type]  # no reference: liveness, then a template

    def capture_report(self, report: FrameReport) -> list[Command]:
        if self.ident.phase is Phase.FACE_CAPTURE and not self.busy:
            self.ident.report = report
        return []

    def capture_done(
        self, live: bool, reason: str, template: Template | None, match: MatchResult | None = None
    ) -> list[Command]:
        if self.ident.phase is not Phase.FACE_CAPTURE or self.busy:
            return []
        if not live or template is None:
            return self._face_failed(f"face.fail.{reason}" if reason else "identify.face_no_match")
        self.busy = True
        return [IdentifyByFace(template, self.ident.digits)]

    def face_not_matched(self) -> list[Command]:
        return self._face_failed("identify.face_no_match")

    def _face_failed(self, key: str) -> list[Command]:
        """Back to the identify step with the reason: the cards and codes are still there."""
        self.step, self.busy = self.identify_step, False
        self.ident = Identification(message=key)
        self.message = key
        return []

    def patient_found(self, patient: Patient) -> list[Command]:
        if self.step == self.face_step:
            self.step = self.identify_step
        if self.step != self.identify_step:
            return []
        self.ident.found()
        self.patient, self.busy, self.message = patient, False, ""
        return self.identified(patient)

    def patient_not_found(self) -> list[Command]:
        if self.step != self.identify_step:
            return []
        self.ident.not_found()
        self.busy, self.message = False, self.ident.message
        return []

    def back(self) -> list[Command]:
        if not self.can_go_back:
            return []
        if self.step == self.identify_step:
            return self.home()
        if self.step == self.face_step:
            capturing = self.ident.phase is Phase.FACE_CAPTURE
            self.step, self.message, self.ident = self.identify_step, "", Identification()
            return [CancelCapture()] if capturing else []
        self.message = ""
        target = self.BACK[self.step]
        commands = self.leaving_step(self.step, target)
        self.step = target
        if target == self.identify_step:
            self.patient = None
            self.ident = Identification()
        return commands

    def home(self) -> list[Command]:
        """Leave the flow (Home, idle timeout): release what is held, then forget the patient."""
        if not self.interruptible:
            return []
        commands = list(self.releasing())
        if self.ident.phase is Phase.FACE_CAPTURE:
            commands.append(CancelCapture())
        self.reset()
        return commands

    # ---- For subclasses

    def identified(self, patient: Patient) -> list[Command]:
        """The patient is known: move to the feature's first step and return its commands."""
        raise NotImplementedError

    def scanned(self, code: str) -> list[Command]:
        """A code scanned after identification (e.g. a payment code at the pay step)."""
        log.info("scan ignored at step %s", self.step)
        return []

    def leaving_step(self, step: str, target: str) -> list[Command]:
        """Commands to run when Back leaves ``step`` (e.g. unlock a bill)."""
        return []

    def releasing(self) -> list[Command]:
        """Commands to run when the session ends mid-flow (e.g. unlock bills)."""
        return []

    def reset_feature(self) -> None:
        """Clear the feature's own fields (called by :meth:`reset`)."""

    def reset(self) -> None:
        """Forget the patient: every field back to its default."""
        self.step, self.message, self.busy = HOME, "", False
        self.patient = None
        self.ident = Identification()
        self.reset_feature()

    # ---- Internals

    @property
    def _identifying(self) -> bool:
        return self.step == self.identify_step and not self.busy

    def _identify(self, cmd: FindPatient | None) -> list[Command]:
        if cmd is None:
            if self.ident.message:
                self.message = self.ident.message
            return []
        self.busy, self.message = True, ""
        return [cmd]


class FeatureService:
    """The worker side of a feature: :meth:`execute` runs one command and returns the outcome.

    Subclasses implement :meth:`run` for their own commands; finding the patient is handled
    here. Any failure becomes ``flow.failed(key)`` (a translated message), never an exception.
    """

    def __init__(self, finder: PatientFinder) -> None:
        self.finder = finder

    def execute(self, cmd: Command, progress: Progress) -> Outcome:
        try:
            if isinstance(cmd, FindPatient | IdentifyByFace):
                return self._find(cmd)
            return self.run(cmd, progress)
        except (DeviceError, ServerError) as err:
            log.warning("%s failed: %s (%s)", type(cmd).__name__, err.code, type(err).__name__)
            key = err.tr_key
            return lambda f: f.failed(key)
        except QueueFull as err:
            key = err.tr_key
            return lambda f: f.failed(key)
        except Exception:
            log.exception("%s failed unexpectedly", type(cmd).__name__)
            return lambda f: f.failed("error.unexpected")

    def run(self, cmd: Command, progress: Progress) -> Outcome:
        raise TypeError(f"unknown command {cmd!r}")

    def _find(self, cmd: FindPatient | IdentifyByFace) -> Outcome:
        try:
            patient = self.finder.by_face(cmd) if isinstance(cmd, IdentifyByFace) else self.finder.find(cmd)
        except NotFound:
            return lambda f: f.patient_not_found()
        except FaceNoMatch:
            return lambda f: f.face_not_matched()
        return lambda f: f.patient_found(patient)


ScreenFactory = Callable[[Any], Any]  # (controller) -> a kiosk_app.screens.base.Screen
TourScript = Callable[[Any], Iterator[Any]]  # (kiosk_app.tour.Tour) -> the tour's wait conditions


@dataclass(frozen=True)
class Feature:
    """What a feature folder exports as ``FEATURE``.

    ``service`` is built by the app from its parts (:class:`ServiceParts`), since it needs the
    server client, the journal, the printer. ``tile`` returns the translated (title, subtitle) of
    the home tile. ``screens`` maps each step value (not the identify step: the window shares one
    identify screen among features) to a factory taking the controller. ``tour`` is an optional
    generator the tour runs (see kiosk_app/features/README.md).
    """

    name: str
    flow: Callable[[], FeatureFlow]
    service: Callable[[ServiceParts], FeatureService]
    screens: Mapping[str, ScreenFactory]
    tile: Callable[[], tuple[str, str]]
    order: int = 100
    tour: TourScript | None = None
    on_home: bool = True  # False: no tile on the patients' home screen (the cashier window's mode)


@dataclass
class ServiceParts:
    """What a feature's service may use; built once by the app."""

    client: Any  # sync.client.ServerClient
    journal: Any  # offline_cache.journal.Journal
    printer: Any  # devices.printer.ReceiptPrinter | None
    finder: PatientFinder
    kiosk_id: str
    hospital_name: str
    offline: Any = None  # kiosk_app.services.offline.OfflineSupport | None
    face: Any = None  # kiosk_app.services.face.FaceSupport | None
    pay: Any = None  # kiosk_app.services.registration.PaySettings
    extra: dict[str, Any] = field(default_factory=dict)
