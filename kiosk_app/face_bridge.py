"""Qt adapter over the face capture: its callbacks (capture thread) become queued signals.

One capture at a time. Every capture carries a token; a report or an outcome from a capture that
was cancelled or replaced is dropped on the GUI thread, so a late frame can never reach a session
that has moved on (or been wiped).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal, Slot

from face.types import FrameReport, Image

log = logging.getLogger(__name__)


class Capture(Protocol):
    def start(self, reference_bgr: Image | None) -> None: ...

    def cancel(self) -> None: ...


# (on_report, on_done) -> a capture object; the real one wraps face.capture.FaceCapture.
CaptureFactory = Callable[[Callable[[FrameReport], None], Callable[[Any], None]], Capture]


class FaceBridge(QObject):
    sig_report = Signal(object)
    """A frame report of the current capture: ``FrameReport`` (GUI thread)."""

    sig_done = Signal(object)
    """The current capture ended: a ``CaptureOutcome`` (GUI thread; never after ``cancel``)."""

    _sig_report_raw = Signal(int, object)
    """Internal: (token, report) from the capture thread."""

    _sig_done_raw = Signal(int, object)
    """Internal: (token, outcome) from the capture thread."""

    def __init__(self, factory: CaptureFactory | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.factory = factory
        self._capture: Capture | None = None
        self._token = 0
        self._sig_report_raw.connect(self._on_report)
        self._sig_done_raw.connect(self._on_done)

    @property
    def active(self) -> bool:
        return self._capture is not None

    def start(self, reference: Image) -> None:
        """Start a capture against ``reference`` (returns at once; the capture has its own thread)."""
        self.cancel()
        if self.factory is None:
            raise RuntimeError("no face capture configured")
        self._token += 1
        token = self._token
        self._capture = self.factory(
            lambda report: self._sig_report_raw.emit(token, report),
            lambda outcome: self._sig_done_raw.emit(token, outcome),
        )
        self._capture.start(reference)
        log.info("face capture %d started", token)

    def cancel(self) -> None:
        """Stop the current capture (non-blocking); its reports and outcome are dropped."""
        capture, self._capture = self._capture, None
        self._token += 1
        if capture is not None:
            capture.cancel()
            log.info("face capture cancelled")

    @Slot(int, object)
    def _on_report(self, token: int, report: object) -> None:
        if token == self._token:
            self.sig_report.emit(report)

    @Slot(int, object)
    def _on_done(self, token: int, outcome: object) -> None:
        if token != self._token:
            return
        self._capture = None
        self.sig_done.emit(outcome)
