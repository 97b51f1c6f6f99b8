"""The kiosk window: header (language, elderly mode), an offline strip while the hospital system
cannot be reached, message banner, one screen per step, and a footer whose Back and Home buttons
sit in the same place on every screen."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, Qt, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from kiosk_app import messages, theme
from kiosk_app.config import Config
from kiosk_app.controller import KioskController
from kiosk_app.diagnostics.context import DiagnosticsContext
from kiosk_app.diagnostics.entry import TapGesture
from kiosk_app.diagnostics.mode import DiagnosticsMode
from kiosk_app.features.base import Feature, FeatureFlow
from kiosk_app.features.face_screen import FaceIdentifyScreen
from kiosk_app.features.identify_screen import FeatureIdentifyScreen
from kiosk_app.flows.filing import FilingFlow, FilingStep
from kiosk_app.flows.registration import RegistrationFlow, Step
from kiosk_app.hub import DeviceHub
from kiosk_app.i18n import Translations
from kiosk_app.idle import IdleWatcher
from kiosk_app.screens.base import Screen, View, label
from kiosk_app.screens.choice import DepartmentScreen, DoctorScreen, SlotScreen
from kiosk_app.screens.confirm import ConfirmScreen
from kiosk_app.screens.filing.consent import ConsentScreen
from kiosk_app.screens.filing.face import FaceScreen
from kiosk_app.screens.filing.outcome import AlreadyFiledScreen, FaceFailedScreen, FilingResultScreen
from kiosk_app.screens.filing.phone import PhoneScreen
from kiosk_app.screens.home import HomeScreen
from kiosk_app.screens.identify import IdentifyScreen
from kiosk_app.screens.pay import PayScreen
from kiosk_app.screens.result import ResultScreen
from kiosk_app.sync_status import SyncStatus

log = logging.getLogger(__name__)

DESIGN_SIZE = (1080, 1920)  # portrait kiosk panel
# Messages that themselves say the kiosk is offline: the offline strip is not shown beside them.
OFFLINE_MESSAGES = frozenset(
    {"reg.pending_offline", "pay.offline_cashier", "offline.queue_full", "filing.pending_offline", "topup.offline"}
)
# Screens that render a FilingFlow (the others render a RegistrationFlow).
FILING_SCREENS = (ConsentScreen, FaceScreen, FaceFailedScreen, PhoneScreen, AlreadyFiledScreen, FilingResultScreen)


class KioskWindow(QWidget):
    def __init__(
        self,
        config: Config,
        controller: KioskController,
        translations: Translations,
        idle: IdleWatcher,
        hub: DeviceHub | None = None,
        diagnostics: DiagnosticsContext | None = None,
        sync_status: SyncStatus | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("KioskWindow")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.config, self.controller, self.translations, self.idle = config, controller, translations, idle
        self.hub = hub
        self.sync_status = sync_status
        self.elderly = config.elderly_mode
        self._base = 0

        self.header = QWidget()
        self.header.setObjectName("Header")
        self.header.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.hospital = label("HospitalName")
        self.language_button = QPushButton()
        self.elderly_button = QPushButton()
        self.elderly_button.setCheckable(True)
        self.elderly_button.setChecked(self.elderly)
        self.language_button.clicked.connect(self.toggle_language)
        self.elderly_button.toggled.connect(self.set_elderly)
        top = QHBoxLayout(self.header)
        top.setContentsMargins(20, 12, 20, 12)
        top.addWidget(self.hospital, 1)
        top.addWidget(self.elderly_button)
        top.addWidget(self.language_button)

        # Persistent while the hospital system cannot be reached (also in diagnostics: technicians
        # should see it too); hidden until the uploader has reported being offline.
        self.offline_banner = label("OfflineBanner", center=True)
        self.offline_banner.setVisible(False)
        self.banner = label("Banner")
        self.stack = QStackedWidget()
        # Keyed by step value: a registration Step or a FilingStep (both str enums; "home" is shared).
        self.screens: dict[str, Screen] = {
            Step.HOME: HomeScreen(controller),
            Step.IDENTIFY: IdentifyScreen(controller),
            Step.DEPARTMENT: DepartmentScreen(controller),
            Step.DOCTOR: DoctorScreen(controller),
            Step.SLOT: SlotScreen(controller),
            Step.CONFIRM: ConfirmScreen(controller),
            Step.PAY: PayScreen(controller),
            Step.RESULT: ResultScreen(controller),
        }
        self.screens[Step.PAYING] = self.screens[Step.PAY]
        self.screens[FilingStep.IDENTIFY] = self.screens[Step.IDENTIFY]  # the same card-reader picture
        self.screens[FilingStep.ALREADY] = AlreadyFiledScreen(controller)
        self.screens[FilingStep.CONSENT] = ConsentScreen(controller)
        self.screens[FilingStep.FACE] = FaceScreen(controller)
        self.screens[FilingStep.FACE_FAILED] = FaceFailedScreen(controller)
        self.screens[FilingStep.PHONE] = PhoneScreen(controller)
        self.screens[FilingStep.RESULT] = FilingResultScreen(controller)
        # Features (kiosk_app/features/): one identify screen shared by all, then each one's own.
        self._empty_flows: dict[Screen, FeatureFlow] = {}
        self.features: list[Feature] = controller.feature_list
        if self.features:
            identify, face = FeatureIdentifyScreen(controller), FaceIdentifyScreen(controller)
        for feature in self.features:
            empty = feature.flow()
            self.screens[empty.identify_step] = identify
            self.screens[empty.face_step] = face
            self._empty_flows[identify] = self._empty_flows[face] = empty
            for step, factory in feature.screens.items():
                screen = factory(controller)
                self.screens[step] = screen
                self._empty_flows[screen] = empty
        for screen in dict.fromkeys(self.screens.values()):
            self.stack.addWidget(screen)
        # Diagnostics is a mode of the window, not a flow step: five taps on the hospital name.
        self.diagnostics: DiagnosticsMode | None = None
        self._diagnostics_open = False
        if diagnostics is not None:
            self.diagnostics = DiagnosticsMode(diagnostics)
            self.stack.addWidget(self.diagnostics)
            self.diagnostics.sig_closed.connect(self.close_diagnostics)
            if hub is not None:
                hub.sig_card_read.connect(self.diagnostics.pin_pad.on_card_read)
            self.diagnostics_gesture = TapGesture(self.hospital, taps=5, window_s=3.0)
            self.diagnostics_gesture.sig_triggered.connect(self.open_diagnostics)
            idle.sig_timeout.connect(self._diagnostics_idle_timeout)

        self.footer = QWidget()
        self.footer.setObjectName("Footer")
        self.footer.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.back_button, self.home_button = QPushButton(), QPushButton()
        self.back_button.setObjectName("Nav")
        self.home_button.setObjectName("Nav")
        self.back_button.clicked.connect(lambda: controller.dispatch(lambda f: f.back()))
        self.home_button.clicked.connect(controller.wipe)
        for button in (self.back_button, self.home_button):
            policy = button.sizePolicy()
            policy.setRetainSizeWhenHidden(True)  # Back and Home never move
            button.setSizePolicy(policy)
        self.countdown = label("Countdown", center=True)
        bottom = QHBoxLayout(self.footer)
        bottom.setContentsMargins(20, 12, 20, 12)
        bottom.addWidget(self.back_button)
        bottom.addStretch(1)
        bottom.addWidget(self.home_button)

        body = QVBoxLayout()
        body.setContentsMargins(24, 16, 24, 8)
        body.addWidget(self.banner)
        body.addWidget(self.stack, 1)
        body.addWidget(self.countdown)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.header)
        outer.addWidget(self.offline_banner)
        outer.addLayout(body, 1)
        outer.addWidget(self.footer)

        controller.sig_changed.connect(self.refresh)
        controller.sig_session_wiped.connect(self.wipe_screens)
        idle.sig_countdown.connect(self.show_countdown)
        idle.sig_timeout.connect(controller.wipe)
        if sync_status is not None:
            sync_status.sig_changed.connect(self.refresh_offline)
        self._countdown_left = 0
        self.refresh()

    # ---- Public API

    @property
    def view(self) -> View:
        name = self.config.hospital_name_zh if self.translations.language == "zh_CN" else self.config.hospital_name_en
        return View(self.translations.language, self.elderly, name)

    @property
    def current_screen(self) -> Screen:
        return self.screens[self.controller.flow.step]

    @property
    def in_diagnostics(self) -> bool:
        return self._diagnostics_open

    @property
    def offline(self) -> bool:
        """The uploader reported the hospital system unreachable (see :meth:`refresh_offline`)."""
        return self.sync_status is not None and self.sync_status.offline

    @Slot()
    def refresh(self) -> None:
        flow, view = self.controller.flow, self.view
        self.hospital.setText(view.hospital_name)
        self.language_button.setText("English" if view.language == "zh_CN" else "中文")
        self.elderly_button.setText(self.tr("Large text"))
        self.refresh_offline()
        if self.diagnostics is not None and self._diagnostics_open:
            self._refresh_diagnostics(self.diagnostics)
            return
        screen = self.screens[flow.step]
        screen.refresh(flow, view)
        self.stack.setCurrentWidget(screen)
        self.back_button.setText(self.tr("‹ Back"))
        self.home_button.setText(self.tr("Home"))
        at_home = flow.at_home
        self.back_button.setVisible(flow.has_back)
        self.back_button.setEnabled(flow.can_go_back)
        self.home_button.setVisible(not at_home)
        self.home_button.setEnabled(flow.interruptible)
        text = messages.text(flow.message)
        self.banner.setText(text)
        self.banner.setProperty("kind", "error" if messages.is_error(flow.message) else "info")
        self.banner.style().unpolish(self.banner)
        self.banner.style().polish(self.banner)
        self.banner.setVisible(bool(text))
        self.idle.set_armed(not at_home and flow.interruptible)
        self._render_countdown()

    @Slot()
    def refresh_offline(self) -> None:
        """Show or hide the offline strip, in the current language (in-memory state only, no I/O).

        While the message banner already explains an offline outcome (a pending registration,
        pay at the cashier, queue full) the strip would say the same thing twice, and in elderly
        sizes it would push the result card off the screen: it steps aside until the next screen.
        """
        flow = self.controller.flow
        explained = flow.message in OFFLINE_MESSAGES and not self._diagnostics_open
        offline = self.offline and not explained
        text = messages.text("offline.banner") if offline else ""
        if self.offline_banner.text() != text:
            self.offline_banner.setText(text)
        if self.offline_banner.isHidden() == offline:
            self.offline_banner.setVisible(offline)

    @Slot()
    def wipe_screens(self) -> None:
        """Re-render every screen from an empty session so no widget keeps the last patient's data."""
        view = self.view
        for screen in dict.fromkeys(self.screens.values()):
            empty = self._empty_flows.get(screen)
            if empty is not None:
                screen.refresh(empty, view)
            else:
                screen.refresh(FilingFlow() if isinstance(screen, FILING_SCREENS) else RegistrationFlow(), view)

    @Slot()
    def toggle_language(self) -> None:
        self.translations.switch("en" if self.translations.language == "zh_CN" else "zh_CN")
        self.refresh()  # LanguageChange is posted, not sent: show the new language now

    @Slot(bool)
    def set_elderly(self, on: bool) -> None:
        self.elderly = on
        self._apply_scale(force=True)
        self.refresh()

    @Slot()
    def open_diagnostics(self) -> None:
        """The PIN pad; only from the home screen, so no patient session is ever interrupted."""
        flow = self.controller.flow
        if self.diagnostics is None or self._diagnostics_open:
            return
        if not flow.at_home or flow.busy:
            log.info("diagnostics gesture ignored at step %s", flow.step)
            return
        self._diagnostics_open = True
        self.diagnostics.open()
        self.refresh()

    @Slot()
    def close_diagnostics(self) -> None:
        """Back to the kiosk home with the session wiped."""
        self._diagnostics_open = False
        self.controller.wipe()
        self.wipe_screens()
        self.refresh()

    @Slot(int)
    def show_countdown(self, seconds: int) -> None:
        self._countdown_left = seconds
        self._render_countdown()

    # ---- Qt overrides

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.refresh()
        super().changeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._apply_scale()
        super().resizeEvent(event)

    # ---- Internals

    def _refresh_diagnostics(self, mode: DiagnosticsMode) -> None:
        mode.retranslate()
        self.stack.setCurrentWidget(mode)
        self.back_button.setVisible(False)
        self.home_button.setVisible(False)
        self.banner.setVisible(False)
        self.idle.set_armed(True)  # the idle timeout applies in diagnostics too
        self._render_countdown()

    @Slot()
    def _diagnostics_idle_timeout(self) -> None:
        if self.diagnostics is not None and self._diagnostics_open:
            self.diagnostics.leave("idle timeout")

    def _render_countdown(self) -> None:
        left = self._countdown_left
        self.countdown.setText(self.tr("Returning to the start in {n} s — touch to continue").format(n=left))
        self.countdown.setVisible(left > 0)

    def _apply_scale(self, force: bool = False) -> None:
        base = theme.base_px(self.height(), self.elderly)
        if base != self._base or force:
            self._base = base
            self.setStyleSheet(theme.stylesheet(base))
            if self.diagnostics is not None:  # for technicians: never in elderly sizes
                self.diagnostics.apply_scale(theme.base_px(self.height(), False))
