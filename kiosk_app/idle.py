"""Idle timeout: after ``timeout_s`` without a touch the session is wiped; the last
``warning_s`` seconds show a countdown that any touch cancels."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

_ACTIVITY = {
    QEvent.Type.MouseButtonPress,
    QEvent.Type.TouchBegin,
    QEvent.Type.KeyPress,
    QEvent.Type.Wheel,
}


class IdleWatcher(QObject):
    sig_countdown = Signal(int)
    """Seconds left before the session is wiped; 0 hides the countdown."""

    sig_timeout = Signal()
    """The patient walked away: wipe the session."""

    def __init__(self, timeout_s: int, warning_s: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timeout_s, self.warning_s = timeout_s, warning_s
        self._left = timeout_s
        self._armed = False
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)

    def set_armed(self, armed: bool) -> None:
        """Armed while a session is open and interruptible; disarmed at home or while paying."""
        if armed == self._armed:
            return
        self._armed = armed
        self.touch()
        if armed:
            self._timer.start()
        else:
            self._timer.stop()

    def touch(self) -> None:
        """Any activity (touch, card, scan) restarts the count."""
        was_warning = self._left <= self.warning_s
        self._left = self.timeout_s
        if was_warning:
            self.sig_countdown.emit(0)

    def stop(self) -> None:
        self._timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY:
            self.touch()
        return False

    def _tick(self) -> None:
        self._left -= 1
        if self._left <= 0:
            self.sig_countdown.emit(0)
            self._left = self.timeout_s
            self.sig_timeout.emit()
        elif self._left <= self.warning_s:
            self.sig_countdown.emit(self._left)
