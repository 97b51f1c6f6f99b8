"""Face check: the live preview with its hint, then the liveness action, then the 1:1 match."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QProgressBar, QWidget

from face.types import Phase
from kiosk_app import messages
from kiosk_app.controller import KioskController
from kiosk_app.screens.base import Screen, View, busy_bar, label
from kiosk_app.screens.filing.camera_view import CameraView
from kiosk_app.screens.home import Tile


class FaceScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.box.setSpacing(10)
        self.title = label("Title", center=True)
        self.view = CameraView()
        self.hint = label("FaceHint", center=True)
        self.steps = QProgressBar()
        self.steps.setObjectName("Steps")
        self.steps.setTextVisible(False)
        self.seconds = label("Subtitle", center=True)
        self.bar = busy_bar()
        self.staff_button = Tile("Secondary")
        self.staff_button.clicked.connect(lambda: controller.filing_event(lambda f: f.choose_staff()))
        self.box.addWidget(self.title)
        self.box.addWidget(self.view, 1)
        for w in (self.hint, self.steps, self.seconds, self.bar, self.staff_button):
            self.box.addWidget(w)

    def refresh(self, flow: Any, view: View) -> None:
        report = flow.report
        self.view.show_report(report)
        phase = report.phase if report is not None else None
        tries = flow.retries + 1
        attempt = self.tr("Attempt {n} of {total}").format(n=flow.attempts, total=tries) if tries > 1 else ""
        if phase is Phase.CHALLENGE and report is not None and report.action is not None:
            self.title.setText(self.tr("Follow the instruction"))
            self.hint.setText(messages.text(report.action.value))
            self.steps.setRange(0, max(report.actions_total, 1))
            self.steps.setValue(report.actions_done)
            self.seconds.setText(
                self.tr("Step {done} of {total} · {s} s left").format(
                    done=min(report.actions_done + 1, report.actions_total),
                    total=report.actions_total,
                    s=max(0, round(report.seconds_left)),
                )
            )
        elif phase in (Phase.ENCODING, Phase.PASSED):
            self.title.setText(self.tr("Comparing with your ID card photo…"))
            self.hint.setText(self.tr("Please wait a moment."))
            self.seconds.setText(attempt)
        elif report is not None:
            self.title.setText(self.tr("Look at the camera"))
            self.hint.setText(messages.text(report.quality.hint.value))
            self.seconds.setText(attempt)
        else:
            self.title.setText(self.tr("Look at the camera"))
            self.hint.setText(self.tr("Starting the camera…"))
            self.seconds.setText(attempt)
        self.steps.setVisible(phase is Phase.CHALLENGE)
        self.bar.setVisible(report is None or phase in (Phase.ENCODING, Phase.PASSED))
        self.staff_button.set_texts(self.tr("No face"), self.tr("Staff check at the service window"))
