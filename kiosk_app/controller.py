"""The imperative shell around the registration flow.

UI and device events are applied to the flow on the GUI thread; the commands the flow returns
run in workers through :class:`TaskManager`; their outcomes come back as events. A session
generation number drops outcomes that arrive after the session was wiped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from PySide6.QtCore import QObject, Signal, Slot

from devices.errors import DeviceError, DeviceState
from kiosk_app.flows.registration import Command, RegistrationFlow, Step, describe
from kiosk_app.services.registration import Outcome, RegistrationService
from kiosk_app.tasks import TaskManager

log = logging.getLogger(__name__)

Event = Callable[[RegistrationFlow], list[Command]]

# The device a step waits on; if it is known to be down, the patient is told at once.
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
    ) -> None:
        super().__init__(parent)
        self.flow = RegistrationFlow()
        self.service = service
        self.tasks = tasks
        self.device_states = device_states
        self._generation = 0

    # ---- Public API

    def dispatch(self, event: Event) -> None:
        """Apply one event on the GUI thread and start the commands it yields."""
        before = self.flow.step
        commands = event(self.flow)
        if self.flow.step is not before:
            self._warn_if_device_down()
        log.info("flow %s", describe(self.flow))
        if self.flow.step is Step.HOME and before is not Step.HOME:
            self._generation += 1
            self.sig_session_wiped.emit()
        self.sig_changed.emit()
        for cmd in commands:
            self._run(cmd)

    def wipe(self) -> None:
        """Idle timeout or home: release holds and forget the patient (unless money is in flight)."""
        self.dispatch(lambda f: f.home())

    @Slot(object)
    def on_card_read(self, card: object) -> None:
        self.dispatch(lambda f: f.card_read(card))  # type: ignore[arg-type]

    @Slot(str)
    def on_scanned(self, code: str) -> None:
        self.dispatch(lambda f: f.code_scanned(code))

    @Slot(str, object)
    def on_device_error(self, name: str, err: object) -> None:
        key = err.tr_key if isinstance(err, DeviceError) else "device.error"
        relevant = (name == "id_reader" and self.flow.step is Step.IDENTIFY) or (
            name == "scanner" and self.flow.step is Step.PAY
        )
        if relevant:
            self.dispatch(lambda f: f.failed(key))

    @Slot(str, str)
    def on_device_state(self, name: str, state: str) -> None:
        if STEP_DEVICE.get(self.flow.step) == name and DeviceState(state) in DOWN:
            self.dispatch(lambda f: f.notify("device.unavailable"))

    # ---- Internals

    def _warn_if_device_down(self) -> None:
        device = STEP_DEVICE.get(self.flow.step)
        if device and self.device_states().get(device) in DOWN and not self.flow.message:
            self.flow.notify("device.unavailable")

    def _run(self, cmd: Command) -> None:
        generation = self._generation

        def apply(outcome: Outcome) -> None:
            if generation != self._generation:
                log.info("dropped a late %s outcome from an ended session", type(cmd).__name__)
                return
            self.dispatch(outcome)

        def work() -> Outcome:
            return self.service.execute(cmd, progress=lambda o: self.tasks.run_on_main(lambda: apply(o)))

        self.tasks.run(work, apply)
