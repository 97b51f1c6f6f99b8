"""The device table: one card per configured device with its state, reason, last error, counters
and a Self-test button, then the sync card (hospital system online or not, the offline outbox, the
clock offset). Refreshed on every hub state change and once a second while shown."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QHideEvent, QImage, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from devices.base import DeviceKind, DeviceStatus, SelfTestResult
from devices.errors import DeviceError, DeviceState
from devices.printer import ReceiptPrinter
from kiosk_app.diagnostics.context import DiagnosticsContext
from kiosk_app.diagnostics.probe import run_self_test
from kiosk_app.diagnostics.sync_card import SyncCard
from kiosk_app.diagnostics.widgets import (
    ZWSP,
    clock_time,
    repolish,
    set_enabled,
    set_kind,
    set_text,
    set_visible,
    soft_wrap,
)
from kiosk_app.screens.base import label

if TYPE_CHECKING:
    import numpy as np

    from devices.camera import Camera  # at run time only a kiosk with a camera loads OpenCV

SELF_TEST_TIMEOUT_S = 5.0


class DeviceCard(QFrame):
    sig_self_test = Signal(str)
    """The Self-test button was pressed: (device name)."""

    sig_action = Signal(str)
    """The card's extra action (the printer's test page) was pressed: (device name)."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.setObjectName("DeviceCard")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.title = label("DeviceName")
        self.badge = label("Badge", wrap=False, center=True)
        self.fields: dict[str, tuple[QLabel, QLabel]] = {}
        self.result = label("TestResult")
        self.test_button = QPushButton()
        self.test_button.setObjectName("Small")
        self.test_button.clicked.connect(lambda: self.sig_self_test.emit(self.name))
        self.action_button: QPushButton | None = None  # set by add_action()
        self.preview: QLabel | None = None  # set by add_preview()
        self.fps_label: QLabel | None = None
        self._status: DeviceStatus | None = None
        self._test: tuple[SelfTestResult, float] | None = None
        self._testing = False

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(1, 1)
        for row, key in enumerate(("identity", "reason", "error", "counters", "changed")):
            k, v = label("FieldLabel", wrap=False), label("FieldValue")
            v.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            grid.addWidget(k, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(v, row, 1)
            self.fields[key] = (k, v)
        self.bottom = bottom = QHBoxLayout()
        bottom.addWidget(self.result, 1)
        bottom.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignBottom)
        box = QVBoxLayout(self)
        box.setContentsMargins(18, 14, 18, 14)
        box.setSpacing(8)
        box.addLayout(top)
        box.addLayout(grid)
        box.addLayout(bottom)

    # ---- Public API

    def add_action(self) -> None:
        """A second button beside Self-test (the printer's test page)."""
        self.action_button = QPushButton()
        self.action_button.setObjectName("Small")
        self.action_button.clicked.connect(lambda: self.sig_action.emit(self.name))
        self.bottom.insertWidget(1, self.action_button, 0, Qt.AlignmentFlag.AlignBottom)

    def add_preview(self) -> None:
        """A live picture from the camera, refreshed while the devices tab is shown."""
        self.preview = QLabel()
        self.preview.setObjectName("CameraPreview")
        self.preview.setFixedSize(240, 180)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.fps_label = label("FieldValue", wrap=False, center=True)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(2, self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.insertWidget(3, self.fps_label)

    def show_frame(self, image: QImage | None, fps: float) -> None:
        assert self.preview is not None and self.fps_label is not None
        if image is None:
            self.preview.setPixmap(QPixmap())
            set_text(self.preview, self.tr("No picture"))
            set_text(self.fps_label, "")
            return
        pixmap = QPixmap.fromImage(image).scaled(
            self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        self.preview.setPixmap(pixmap)
        set_text(self.fps_label, self.tr("Live: {fps} fps").format(fps=f"{fps:.1f}"))

    def value(self, key: str) -> str:
        return self.fields[key][1].text().replace(ZWSP, "")

    def show_status(self, status: DeviceStatus) -> None:
        self._status = status
        self.update_view()

    def set_testing(self) -> None:
        self._testing, self._test = True, None
        self.update_view()

    def set_result(self, result: SelfTestResult, seconds: float) -> None:
        self._testing, self._test = False, (result, seconds)
        self.update_view()

    def clear_result(self) -> None:
        self._test = None
        self.update_view()

    def update_view(self) -> None:
        s = self._status
        texts = {
            "identity": self.tr("Identity"),
            "reason": self.tr("Reason"),
            "error": self.tr("Last error"),
            "counters": self.tr("Counters"),
            "changed": self.tr("Since"),
        }
        for key, (k, _v) in self.fields.items():
            set_text(k, texts[key])
        set_text(self.test_button, self.tr("Self-test"))
        set_enabled(self.test_button, not self._testing)
        if self.action_button is not None:
            set_text(self.action_button, self.tr("Print test page"))
            set_enabled(self.action_button, not self._testing)
        if s is not None:
            set_text(self.title, f"{self.kind_name(s.kind)}  ·  {s.name}")
            set_text(self.badge, self.state_name(s.state))
            if self.badge.property("state") != s.state.value:
                self.badge.setProperty("state", s.state.value)
                repolish(self.badge)
            error = f"{s.last_error_code}: {s.last_error_detail}" if s.last_error_detail else s.last_error_code
            values = {
                "identity": soft_wrap(s.identity or s.url),
                "reason": s.reason or "—",
                "error": soft_wrap(error) if error else "—",
                "counters": ", ".join(f"{k} {v}" for k, v in sorted(s.counters.items())) or "—",
                "changed": clock_time(s.changed_at),
            }
            for key, (_k, v) in self.fields.items():
                set_text(v, values[key])
        if self._testing:
            set_text(self.result, self.tr("Self-test running…"))
            kind = "info"
        elif self._test is not None:
            r, secs = self._test
            if r.ok:
                text = self.tr("Self-test passed ({s} s)").format(s=f"{secs:.2f}")
            else:
                text = self.tr("Self-test failed: {code}").format(code=r.code)
            set_text(self.result, soft_wrap(text + (f" — {r.detail}" if r.detail else "")))
            kind = "ok" if r.ok else "error"
        else:
            set_text(self.result, "")
            kind = "info"
        if self.result.property("kind") != kind:
            set_kind(self.result, kind)

    def kind_name(self, kind: DeviceKind) -> str:
        return {
            DeviceKind.ID_READER: self.tr("ID-card reader"),
            DeviceKind.INSURANCE_CARD: self.tr("Insurance card reader"),
            DeviceKind.PRINTER: self.tr("Receipt printer"),
            DeviceKind.SCANNER: self.tr("Code scanner"),
            DeviceKind.CAMERA: self.tr("Camera"),
        }.get(kind, kind.value)

    def state_name(self, state: DeviceState) -> str:
        return {
            DeviceState.UNKNOWN: self.tr("Unknown"),
            DeviceState.CONNECTING: self.tr("Connecting"),
            DeviceState.READY: self.tr("Ready"),
            DeviceState.BUSY: self.tr("Busy"),
            DeviceState.UNAVAILABLE: self.tr("Not connected"),
            DeviceState.ERROR: self.tr("Error"),
        }[state]


class DevicesPanel(QWidget):
    def __init__(self, ctx: DiagnosticsContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.cards: dict[str, DeviceCard] = {}
        self._last_card = 0.0
        self._last_scan: tuple[float, int] = (0.0, 0)

        self.empty = label("DiagNote", center=True)
        self.live = label("LiveInput")
        self.cards_widget = QWidget()
        self.cards_box = QVBoxLayout(self.cards_widget)
        self.cards_box.setContentsMargins(0, 0, 6, 0)
        self.cards_box.setSpacing(14)
        self.cards_box.addStretch(1)
        # Below the device cards (which are added before it): the devices stay where they always were.
        self.sync_card: SyncCard | None = None
        if ctx.sync_status is not None:
            self.sync_card = SyncCard(ctx, self.cards_widget)
            self.cards_box.insertWidget(0, self.sync_card)
        self.scroller = QScrollArea()
        self.scroller.setObjectName("DiagScroll")
        self.scroller.setWidgetResizable(True)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.setWidget(self.cards_widget)
        QScroller.grabGesture(self.scroller.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(10)
        box.addWidget(self.empty)
        box.addWidget(self.scroller, 1)
        box.addWidget(self.live)

        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh)
        # The camera preview needs more than one picture a second to show that it is live.
        self._preview_timer = QTimer(self)
        self._preview_timer.setInterval(200)
        self._preview_timer.timeout.connect(self.update_previews)
        hub = ctx.hub
        if hub is not None:
            hub.sig_state_changed.connect(self.on_state_changed)
            hub.sig_card_read.connect(self.on_card_read)
            hub.sig_scanned.connect(self.on_scanned)

    # ---- Public API

    @property
    def timer_active(self) -> bool:
        return self._timer.isActive()

    @Slot()
    def refresh(self) -> None:
        seen = set()
        for device in self.ctx.devices:
            status = device.status()
            seen.add(status.name)
            card = self.cards.get(status.name)
            if card is None:
                card = DeviceCard(status.name, self.cards_widget)
                card.sig_self_test.connect(self.run_self_test)
                if isinstance(device, ReceiptPrinter):
                    card.add_action()
                    card.sig_action.connect(self.print_test_page)
                if status.kind is DeviceKind.CAMERA:
                    card.add_preview()
                self.cards_box.insertWidget(self._next_card_index(), card)
                self.cards[status.name] = card
            card.show_status(status)
        for name, card in self.cards.items():
            set_visible(card, name in seen)
        set_visible(self.empty, not seen)
        if self.sync_card is not None:
            self.sync_card.refresh()
        self.retranslate_live()

    @Slot(str, str)
    def on_state_changed(self, _name: str, _state: str) -> None:
        if self.isVisible():
            self.refresh()

    @Slot(object)
    def on_card_read(self, _card: object) -> None:
        self._last_card = time.time()  # the card itself is patient data: only the time is kept
        if self.isVisible():
            self.retranslate_live()

    @Slot(str)
    def on_scanned(self, code: str) -> None:
        self._last_scan = (time.time(), len(code))  # the code may be a payment code: only its length
        if self.isVisible():
            self.retranslate_live()

    @Slot(str)
    def run_self_test(self, name: str) -> None:
        device = next((d for d in self.ctx.devices if d.name == name), None)
        card = self.cards.get(name)
        if device is None or card is None:
            return
        card.set_testing()
        self.ctx.record("selftest", name)

        def done(outcome: tuple[SelfTestResult, float]) -> None:
            result, secs = outcome
            self.ctx.record("selftest_result", f"{name}: {result.code} ({secs:.1f} s)")
            card.set_result(result, secs)
            self.refresh()

        self.ctx.tasks.run(lambda: run_self_test(device, SELF_TEST_TIMEOUT_S), done)

    @Slot(str)
    def print_test_page(self, name: str) -> None:
        printer = next((d for d in self.ctx.devices if d.name == name), None)
        card = self.cards.get(name)
        if not isinstance(printer, ReceiptPrinter) or card is None:
            return
        card.set_testing()
        self.ctx.record("test_page", name)

        def work() -> tuple[SelfTestResult, float]:
            t0 = time.monotonic()
            try:
                printer.print_test_page()
            except DeviceError as err:
                return SelfTestResult.failed(err), time.monotonic() - t0
            return SelfTestResult.passed("test page printed"), time.monotonic() - t0

        def done(outcome: tuple[SelfTestResult, float]) -> None:
            result, secs = outcome
            self.ctx.record("test_page_result", f"{name}: {result.code}")
            card.set_result(result, secs)
            self.refresh()

        self.ctx.tasks.run(work, done)

    @Slot()
    def update_previews(self) -> None:
        for device in self.ctx.devices:
            card = self.cards.get(device.name)
            if card is None or card.preview is None or device.kind is not DeviceKind.CAMERA:
                continue
            camera = cast("Camera", device)
            frame = camera.latest()
            card.show_frame(_to_qimage(frame.image) if frame is not None else None, camera.fps)

    def retranslate(self) -> None:
        set_text(self.empty, self.tr("No devices are configured."))
        for card in self.cards.values():
            card.update_view()
        if self.sync_card is not None:
            self.sync_card.update_view()
        self.retranslate_live()

    def retranslate_live(self) -> None:
        card = clock_time(self._last_card)[11:] if self._last_card else self.tr("none yet")
        at, n = self._last_scan
        scan = self.tr("{time}, {n} characters").format(time=clock_time(at)[11:], n=n) if at else self.tr("none yet")
        set_text(
            self.live,
            self.tr("Live test — last card read: {card} · last scan: {scan} (contents are never shown)").format(
                card=card, scan=scan
            ),
        )

    def wipe(self) -> None:
        self._last_card, self._last_scan = 0.0, (0.0, 0)
        for card in self.cards.values():
            card.clear_result()
        if self.sync_card is not None:
            self.sync_card.wipe()
        self.retranslate()

    # ---- Internals

    def _next_card_index(self) -> int:
        """Where a new device card goes: after the others, before the sync card and the stretch."""
        if self.sync_card is not None:
            return self.cards_box.indexOf(self.sync_card)
        return self.cards_box.count() - 1

    # ---- Qt overrides

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        self._timer.start()
        if any(card.preview is not None for card in self.cards.values()):
            self._preview_timer.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        self._preview_timer.stop()
        super().hideEvent(event)


def _to_qimage(bgr: np.ndarray) -> QImage:
    """A deep copy: the QImage must not point into the camera's frame buffer."""
    h, w = bgr.shape[:2]
    return QImage(bgr.data, w, h, bgr.strides[0], QImage.Format.Format_BGR888).copy()
