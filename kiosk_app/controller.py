"""The imperative shell around the patient flows (registration, first-time filing, and the
feature flows of kiosk_app/features/).

UI and device events are applied to the active flow on the GUI thread; the commands the flow
returns run in workers through :class:`TaskManager` (a face capture runs on its own thread
through :class:`FaceBridge`); their outcomes come back as events. A session generation number
drops outcomes that arrive after the session was wiped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from devices.errors import DeviceError, DeviceState
from kiosk_app.face_bridge import FaceBridge
from kiosk_app.features.base import Feature, FeatureFlow, FeatureService
from kiosk_app.flows import filing as filing_flow
from kiosk_app.flows.filing import CancelCapture, FaceAvailability, FilingFlow, StartCapture
from kiosk_app.flows.registration import RegistrationFlow, Step, describe
from kiosk_app.services.filing import FilingService
from kiosk_app.services.registration import RegistrationService
from kiosk_app.tasks import TaskManager

log = logging.getLogger(__name__)

Flow = RegistrationFlow | FilingFlow | FeatureFlow
Event = Callable[[Any], list[Any]]  # applied to whichever flow is active

# The device a registration step waits on; if it is known to be down, the patient is told at once.
STEP_DEVICE = {Step.IDENTIFY: "id_reader", Step.PAY: "scanner"}
DOWN = (DeviceState.UNAVAILABLE, DeviceState.ERROR)


class KioskController(QObject):
    sig_changed = Signal()
    """The flow changed; the window re-renders."""

    sig_session_wiped = Signal()
    """The session ended (home or idle timeout): every screen must drop patient data."""

    def __init__(
        self,
        service: RegistrationService,
        tasks: TaskManager,
        device_states: Callable[[], Mapping[str, DeviceState]] = dict,
        parent: QObject | None = None,
        *,
        filing: FilingService | None = None,
        face: FaceBridge | None = None,
        face_availability: Callable[[], FaceAvailability] | None = None,
        face_retries: int = 2,
        features: list[tuple[Feature, FeatureService]] | None = None,
        face_identify: Callable[[], bool] | None = None,
        home_feature: str = "",
    ) -> None:
        super().__init__(parent)
        self.registration = RegistrationFlow()
        self.filing = FilingFlow(retries=face_retries)
        self._active: Flow = self.registration
        self.service = service
        self.filing_service = filing
        self.tasks = tasks
        self.device_states = device_states
        self.face = face
        self.face_availability = face_availability or (lambda: FaceAvailability(False, "face.unavailable.disabled"))
        self._generation = 0
        # name -> (its flow, its service); a flow object lives as long as the kiosk and is reset
        # at every start, like the registration and filing flows.
        self.face_identify = face_identify or (lambda: False)
        # A device in one mode (the cashier window): its feature is the home; ending it starts it again.
        self.home_feature = home_feature
        self.feature_list = [feature for feature, _ in features or []]
        self.features = {feature.name: (feature.flow(), service) for feature, service in features or []}
        if face is not None:
            face.sig_report.connect(self._on_face_report)
            face.sig_done.connect(self._on_face_done)

    # ---- Public API

    @property
    def flow(self) -> Flow:
        """The flow the patient is in (registration when at home)."""
        return self._active

    def dispatch(self, event: Event) -> None:
        """Apply one event on the GUI thread and start the commands it yields."""
        flow = self._active
        before = flow.step
        commands = event(flow)
        if flow.step != before:
            self._warn_if_device_down()
        log.info("flow %s", _describe(flow))
        if flow.at_home and before != "home":
            self._generation += 1
            self._active = self.registration
            if self.face is not None:
                self.face.cancel()  # whatever the flow asked for, no camera runs at home
            self.sig_session_wiped.emit()
        self.sig_changed.emit()
        for cmd in commands:
            self._run(cmd, flow)
        if self._active.at_home and self.home_feature in self.features:
            self.start_feature(self.home_feature)

    def start_filing(self) -> None:
        """Home's "New patient" tile: the filing flow becomes the active one."""
        if not self._active.at_home or self.filing_service is None:
            self.dispatch(lambda f: f.notify("feature.coming_soon"))
            return
        self._active = self.filing
        availability = self.face_availability()
        self.dispatch(lambda f: f.start(availability))

    def start_feature(self, name: str) -> None:
        """A home tile of a feature: its flow becomes the active one, at the identify step."""
        if not self._active.at_home or name not in self.features:
            self.dispatch(lambda f: f.notify("feature.coming_soon"))
            return
        self._active = self.features[name][0]
        face_ok = self.face is not None and self.face_identify()
        self.dispatch(lambda f: f.start(face_ok))

    def feature_event(self, name: str, event: Callable[[Any], list[Any]]) -> None:
        """An event of one feature's screens (ignored unless that feature's flow is active)."""
        if isinstance(self._active, FeatureFlow) and self._active.feature == name:
            self.dispatch(event)

    def filing_event(self, event: Callable[[FilingFlow], list[Any]]) -> None:
        """An event only the filing flow understands (ignored if that flow is not active)."""
        if isinstance(self._active, FilingFlow):
            self.dispatch(event)

    def wipe(self) -> None:
        """Idle timeout or home: release holds and forget the patient (unless a request is in flight)."""
        self.dispatch(lambda f: f.home())

    @Slot(object)
    def on_card_read(self, card: object) -> None:
        self.dispatch(lambda f: f.card_read(card))

    @Slot(object)
    def on_insurance_card(self, card: object) -> None:
        """Only the feature flows identify by the insurance card (registration uses the ID card)."""
        if isinstance(self._active, FeatureFlow):
            self.dispatch(lambda f: f.insurance_card_read(card))

    @Slot(str)
    def on_scanned(self, code: str) -> None:
        self.dispatch(lambda f: f.code_scanned(code))

    @Slot(str, object)
    def on_device_error(self, name: str, err: object) -> None:
        key = err.tr_key if isinstance(err, DeviceError) else "device.error"
        if name == self._waits_on():
            self.dispatch(lambda f: f.failed(key))

    @Slot(str, str)
    def on_device_state(self, name: str, state: str) -> None:
        if self._waits_on() == name and DeviceState(state) in DOWN:
            self.dispatch(lambda f: f.notify("device.unavailable"))

    # ---- Internals

    def _waits_on(self) -> str:
        flow = self._active
        if isinstance(flow, FilingFlow | FeatureFlow):
            return flow.device
        return STEP_DEVICE.get(flow.step, "")

    def _warn_if_device_down(self) -> None:
        device = self._waits_on()
        if device and self.device_states().get(device) in DOWN and not self._active.message:
            self._active.notify("device.unavailable")

    @Slot(object)
    def _on_face_report(self, report: object) -> None:
        if isinstance(self._active, FilingFlow | FeatureFlow):
            self.dispatch(lambda f: f.capture_report(report))

    @Slot(object)
    def _on_face_done(self, outcome: Any) -> None:
        if isinstance(self._active, FilingFlow | FeatureFlow):
            self.dispatch(lambda f: f.capture_done(outcome.live, outcome.reason, outcome.template, outcome.match))

    def _run(self, cmd: object, flow: Flow) -> None:
        if isinstance(cmd, StartCapture | CancelCapture):
            self._run_capture(cmd)
            return
        generation = self._generation
        is_filing = isinstance(cmd, filing_flow.FilingCommand)
        feature = self.features[flow.feature][1] if isinstance(flow, FeatureFlow) else None

        def apply(outcome: Event) -> None:
            if generation != self._generation:
                log.info("dropped a late %s outcome from an ended session", type(cmd).__name__)
                return
            self.dispatch(outcome)

        def work() -> Event:
            if feature is not None:
                return feature.execute(cmd, lambda o: self.tasks.run_on_main(lambda: apply(o)))
            if is_filing:
                assert self.filing_service is not None
                return self.filing_service.execute(cmd)  # type: ignore[arg-type]
            return self.service.execute(cmd, progress=lambda o: self.tasks.run_on_main(lambda: apply(o)))  # type: ignore[arg-type]

        self.tasks.run(work, apply)

    def _run_capture(self, cmd: StartCapture | CancelCapture) -> None:
        if self.face is None:
            if isinstance(cmd, StartCapture):
                self.dispatch(lambda f: f.face_unavailable("face.unavailable.disabled"))
            return
        if isinstance(cmd, CancelCapture):
            self.face.cancel()
            return
        try:
            self.face.start(cmd.reference)
        except Exception:
            log.exception("face capture could not start")
            self.dispatch(lambda f: f.face_unavailable("face.fail.camera"))


def _describe(flow: Flow) -> object:
    """What the log says about a flow: steps and flags, never patient data."""
    if isinstance(flow, FilingFlow):
        return filing_flow.describe(flow)
    if isinstance(flow, FeatureFlow):
        return {"feature": flow.feature, "step": flow.step, "busy": flow.busy, "message": flow.message}
    return describe(flow)
