"""The hidden way in: ``taps`` presses within ``window_s`` seconds on a widget (the hospital name)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QWidget

_PRESS = (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick, QEvent.Type.TouchBegin)


class TapGesture(QObject):
    sig_triggered = Signal()
    """The widget was tapped ``taps`` times within ``window_s`` seconds."""

    def __init__(
        self,
        target: QWidget,
        *,
        taps: int = 5,
        window_s: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent or target)
        self.taps, self.window_s, self.clock = taps, window_s, clock
        self._times: deque[float] = deque(maxlen=taps)
        target.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _PRESS:
            t = self.clock()
            self._times.append(t)
            if len(self._times) == self.taps and t - self._times[0] <= self.window_s:
                self._times.clear()
                self.sig_triggered.emit()
        return False
