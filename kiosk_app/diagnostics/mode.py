"""Diagnostics as a mode of the kiosk window: the PIN pad, then the diagnostics page.

The window puts this widget in its stack and shows it instead of the flow's screen; the
registration flow never sees it. Leaving (Exit, Cancel or the idle timeout) emits
``sig_closed`` and the window goes home and wipes the session.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QStackedWidget, QWidget

from kiosk_app import theme
from kiosk_app.diagnostics import style
from kiosk_app.diagnostics.context import DiagnosticsContext
from kiosk_app.diagnostics.pinpad import PinPad
from kiosk_app.diagnostics.screen import DiagnosticsScreen

log = logging.getLogger(__name__)


class DiagnosticsMode(QStackedWidget):
    sig_closed = Signal()
    """Diagnostics ended (Exit, Cancel or idle timeout): the window returns to the kiosk home."""

    def __init__(self, ctx: DiagnosticsContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DiagnosticsMode")
        self.ctx = ctx
        self.pin_pad = PinPad(ctx)
        self.page = DiagnosticsScreen(ctx)
        self.addWidget(self.pin_pad)
        self.addWidget(self.page)
        self.pin_pad.sig_entered.connect(self.enter)
        self.pin_pad.sig_cancelled.connect(self.cancel)
        self.page.sig_exit.connect(self.exit)
        self._base = 0

    # ---- Public API

    @property
    def unlocked(self) -> bool:
        """True once the right PIN was entered, until diagnostics is left."""
        return self.currentWidget() is self.page

    def open(self) -> None:
        """Start at the PIN pad."""
        self.pin_pad.reset()
        self.setCurrentWidget(self.pin_pad)

    @Slot()
    def enter(self) -> None:
        log.info("diagnostics entered")
        self.page.wipe()
        self.setCurrentWidget(self.page)

    @Slot()
    def cancel(self) -> None:
        self.leave("cancel")

    @Slot()
    def exit(self) -> None:
        self.leave("exit button")

    def leave(self, how: str) -> None:
        """Record the exit (if the PIN was entered), forget what was shown, tell the window."""
        if self.unlocked:
            self.ctx.record("exit", how)
            log.info("diagnostics left (%s)", how)
        self.page.wipe()
        self.pin_pad.reset()
        self.setCurrentWidget(self.pin_pad)
        self.sig_closed.emit()

    def retranslate(self) -> None:
        self.pin_pad.retranslate()
        self.page.retranslate()

    def apply_scale(self, base: int) -> None:
        """The app's style at ``base`` (elderly mode does not apply here) plus diagnostics' own."""
        if base != self._base:
            self._base = base
            self.setStyleSheet(theme.stylesheet(base) + style.stylesheet(base))
