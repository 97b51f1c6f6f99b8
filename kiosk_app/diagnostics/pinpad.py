"""The technician PIN pad: big digit keys, masked dots, and the lock-out message."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from devices.idcard.masking import mask_id
from kiosk_app.diagnostics.context import DiagnosticsContext
from kiosk_app.diagnostics.pin import PIN_MAX, PIN_MIN, Attempt, staff_card_allowed
from kiosk_app.diagnostics.widgets import set_enabled, set_kind, set_text, set_visible
from kiosk_app.screens.base import busy_bar, label

log = logging.getLogger(__name__)


class PinPad(QWidget):
    sig_entered = Signal()
    """The right PIN was entered: open diagnostics."""

    sig_cancelled = Signal()
    """Cancel was pressed: back to the kiosk."""

    def __init__(self, ctx: DiagnosticsContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._digits: list[str] = []
        self._checking = False
        self._status: Callable[[], str] = str
        self._status_kind = "info"

        self.title = label("Title", center=True)
        self.hint = label("Subtitle", center=True)
        self.dots = label("PinDots", wrap=False, center=True)
        self.status = label("DiagStatus", center=True)
        keep = self.status.sizePolicy()
        keep.setRetainSizeWhenHidden(True)  # the keys do not jump when a message appears
        self.status.setSizePolicy(keep)
        self.bar = busy_bar()
        self.digit_buttons: list[QPushButton] = []
        grid = QGridLayout()
        grid.setSpacing(14)
        for n in range(10):
            button = QPushButton(str(n))
            button.setObjectName("Digit")
            button.clicked.connect(lambda _=False, d=str(n): self.press(d))
            self.digit_buttons.append(button)
            row, col = (3, 1) if n == 0 else ((n - 1) // 3, (n - 1) % 3)
            grid.addWidget(button, row, col)
        self.clear_button = QPushButton()
        self.clear_button.setObjectName("DigitAction")
        self.clear_button.clicked.connect(self.clear)
        self.ok_button = QPushButton()
        self.ok_button.setObjectName("DigitOk")
        self.ok_button.clicked.connect(self.submit)
        grid.addWidget(self.clear_button, 3, 0)
        grid.addWidget(self.ok_button, 3, 2)
        for button in (*self.digit_buttons, self.clear_button, self.ok_button):
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.cancel_button = QPushButton()
        self.cancel_button.setObjectName("Nav")
        self.cancel_button.clicked.connect(self.cancel)

        pad = QWidget()
        pad.setMaximumWidth(640)
        inner = QVBoxLayout(pad)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(16)
        inner.addWidget(self.dots)
        inner.addWidget(self.status)
        inner.addWidget(self.bar)
        inner.addLayout(grid)
        centered = QHBoxLayout()
        centered.addStretch(1)
        centered.addWidget(pad, 8)
        centered.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.cancel_button)
        box = QVBoxLayout(self)
        box.setContentsMargins(12, 12, 12, 12)
        box.setSpacing(16)
        box.addWidget(self.title)
        box.addWidget(self.hint)
        box.addStretch(1)
        box.addLayout(centered)
        box.addStretch(2)
        box.addLayout(bottom)

        self._timer = QTimer(self)  # keeps "try again in N min" current while the pad is shown
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.update_view)
        self.retranslate()

    # ---- Public API

    @property
    def entered(self) -> str:
        """The masked text shown (never the digits)."""
        return self.dots.text()

    def reset(self) -> None:
        self._digits.clear()
        self._set_status(str, "info")
        self.update_view()

    @Slot(str)
    def press(self, digit: str) -> None:
        if self._checking or len(self._digits) >= PIN_MAX:
            return
        self._digits.append(digit)
        if self._status_kind == "error":
            self._set_status(str, "info")
        self.update_view()

    @Slot()
    def clear(self) -> None:
        self._digits.clear()
        self.update_view()

    @Slot()
    def cancel(self) -> None:
        self._digits.clear()
        self.sig_cancelled.emit()

    @Slot()
    def submit(self) -> None:
        if self._checking:
            return
        if self.ctx.gate.locked_for() > 0:
            self._digits.clear()
            self.ctx.record("pin_refused_locked")
            self.update_view()
            return
        if len(self._digits) < PIN_MIN:
            self._set_status(lambda: self.tr("Enter {min} to {max} digits.").format(min=PIN_MIN, max=PIN_MAX), "error")
            self.update_view()
            return
        pin = "".join(self._digits)
        self._digits.clear()
        self._checking = True
        self._set_status(lambda: self.tr("Checking…"), "info")
        self.update_view()
        gate = self.ctx.gate

        def check() -> Attempt | None:
            try:
                return gate.try_pin(pin)
            except Exception:
                log.exception("PIN check failed")
                return None

        self.ctx.tasks.run(check, self._checked)

    @Slot(object)
    def on_card_read(self, card: object) -> None:
        """A staff ID card placed on the reader while the pad is shown opens diagnostics."""
        staff_cards = self.ctx.config.diagnostics_staff_cards
        id_number = getattr(card, "id_number", "")
        if not self.isVisible() or self._checking or not staff_cards or not id_number:
            return
        self._checking = True
        self._set_status(lambda: self.tr("Checking the staff card…"), "info")
        self.update_view()
        masked = mask_id(id_number)

        def done(allowed: bool) -> None:
            self._checking = False
            if allowed and self.isVisible():
                self._set_status(str, "info")
                self.ctx.record("enter", f"staff card {masked}")
                self.update_view()
                self.sig_entered.emit()
                return
            self.ctx.record("staff_card_refused", masked)
            self._set_status(lambda: self.tr("This card is not authorised for technician access."), "error")
            self.update_view()

        self.ctx.tasks.run(lambda: staff_card_allowed(id_number, staff_cards), done)

    @Slot()
    def update_view(self) -> None:
        gate = self.ctx.gate
        locked = gate.locked_for()
        usable = gate.configured and locked <= 0 and not self._checking
        for button in (*self.digit_buttons, self.clear_button):
            set_enabled(button, usable)
        set_enabled(self.ok_button, usable and len(self._digits) >= PIN_MIN)
        set_text(self.dots, "  ".join("●" * len(self._digits)) if self._digits else "")
        set_visible(self.bar, self._checking)
        if not gate.configured:
            text, kind = self.tr("No technician PIN is set in this kiosk's configuration."), "error"
        elif locked > 0:
            minutes = max(1, -(-int(locked) // 60))
            text = self.tr("Locked after too many wrong PINs. Try again in {n} min.").format(n=minutes)
            kind = "error"
        else:
            text, kind = self._status(), self._status_kind
        set_text(self.status, text)
        set_visible(self.status, bool(text))
        if self.status.property("kind") != kind:
            set_kind(self.status, kind)

    def retranslate(self) -> None:
        set_text(self.title, self.tr("Technician access"))
        hint = self.tr("Enter the technician PIN")
        if self.ctx.config.diagnostics_staff_cards:
            hint += "\n" + self.tr("or place your staff ID card on the reader")
        set_text(self.hint, hint)
        set_text(self.clear_button, self.tr("Clear"))
        set_text(self.ok_button, self.tr("OK"))
        set_text(self.cancel_button, self.tr("Cancel"))
        self.update_view()

    # ---- Qt overrides

    def showEvent(self, event: QShowEvent) -> None:
        self._timer.start()
        self.update_view()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        self._digits.clear()
        super().hideEvent(event)

    # ---- Internals

    def _set_status(self, text: Callable[[], str], kind: str) -> None:
        self._status, self._status_kind = text, kind

    def _checked(self, attempt: Attempt | None) -> None:
        self._checking = False
        if attempt is None:
            self._set_status(lambda: self.tr("The PIN could not be checked. Please try again."), "error")
        elif attempt.ok and not self.isVisible():
            log.info("right PIN arrived after the pad was closed: not entering")
        elif attempt.ok:
            self._set_status(str, "info")
            self.ctx.record("enter")
            self.update_view()
            self.sig_entered.emit()
            return
        elif attempt.just_locked:
            self.ctx.record("pin_wrong", f"attempt {self.ctx.gate.max_attempts} of {self.ctx.gate.max_attempts}")
            self.ctx.record("lockout", f"{int(attempt.locked_for_s)} s")
        elif attempt.refused:
            self.ctx.record("pin_refused_locked" if attempt.locked_for_s > 0 else "pin_not_configured")
        else:
            used = self.ctx.gate.max_attempts - attempt.attempts_left
            self.ctx.record("pin_wrong", f"attempt {used} of {self.ctx.gate.max_attempts}")
            left = attempt.attempts_left
            self._set_status(lambda: self.tr("Wrong PIN. Tries left before the lock-out: {n}").format(n=left), "error")
        self.update_view()
