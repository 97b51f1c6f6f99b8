"""Identify by face (shared by every feature): the phone's last four digits, then the live face.

The digits come first: 1:N search runs only among templates enrolled with them (face/gallery.py),
which keeps a stranger's look-alike out and makes the search a handful of comparisons.
"""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QPushButton, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from face.types import Phase as FacePhase
from kiosk_app import messages
from kiosk_app.controller import KioskController
from kiosk_app.features.base import FeatureFlow
from kiosk_app.flows.identify import FACTOR_LEN, Phase
from kiosk_app.screens.base import Screen, View, busy_bar, label
from kiosk_app.screens.filing.camera_view import CameraView


class FaceIdentifyScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.pages = QStackedWidget()
        self.keypad_page = QWidget()
        self.camera_page = QWidget()
        self.pages.addWidget(self.keypad_page)
        self.pages.addWidget(self.camera_page)
        self.box.addWidget(self.title)
        self.box.addWidget(self.pages, 1)

        keypad = QVBoxLayout(self.keypad_page)
        self.hint = label("Subtitle", center=True)
        self.display = label("PhoneDisplay", wrap=False, center=True)
        grid = QGridLayout()
        grid.setSpacing(12)
        self.digit_buttons: dict[str, QPushButton] = {}
        for i, digit in enumerate("1234567890"):
            row, col = (i // 3, i % 3) if digit != "0" else (3, 1)
            grid.addWidget(self._key(digit, lambda _=False, d=digit: self._send(lambda f: f.face_digit(d))), row, col)
        self.delete_button = self._key("⌫", lambda: self._send(lambda f: f.face_delete()))
        self.ok_button = self._key("", lambda: self._send(lambda f: f.face_submit()), "KeyOk")
        grid.addWidget(self.delete_button, 3, 0)
        grid.addWidget(self.ok_button, 3, 2)
        keypad.addWidget(self.hint)
        keypad.addWidget(self.display)
        keypad.addLayout(grid)
        keypad.addStretch(1)

        camera = QVBoxLayout(self.camera_page)
        self.view = CameraView()
        self.face_hint = label("FaceHint", center=True)
        self.bar = busy_bar()
        camera.addWidget(self.view, 1)
        camera.addWidget(self.face_hint)
        camera.addWidget(self.bar)

    def _key(self, text: str, on_click: object, name: str = "Key") -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        button.clicked.connect(on_click)
        if text.isdigit():
            self.digit_buttons[text] = button
        return button

    def _send(self, event: object) -> None:
        flow = self.controller.flow
        if isinstance(flow, FeatureFlow):
            self.controller.feature_event(flow.feature, event)  # type: ignore[arg-type]

    def refresh(self, flow: FeatureFlow, view: View) -> None:
        ident = flow.ident
        capturing = ident.phase is Phase.FACE_CAPTURE
        self.pages.setCurrentWidget(self.camera_page if capturing else self.keypad_page)
        if not capturing:
            self.view.clear()
            self.title.setText(self.tr("Identify by face"))
            self.hint.setText(self.tr("First, the last four digits of the mobile number you gave when you filed."))
            self.display.setText(" ".join("•" if i < len(ident.digits) else "_" for i in range(FACTOR_LEN)))
            for button in self.digit_buttons.values():
                button.setEnabled(len(ident.digits) < FACTOR_LEN)
            self.delete_button.setEnabled(bool(ident.digits))
            self.ok_button.setText(self.tr("Next"))
            self.ok_button.setEnabled(len(ident.digits) == FACTOR_LEN)
            return
        report = ident.report
        self.view.show_report(report)
        phase = report.phase if report is not None else None
        if flow.busy or phase in (FacePhase.ENCODING, FacePhase.PASSED):
            self.title.setText(self.tr("Finding your record…"))
            self.face_hint.setText(self.tr("Please wait a moment."))
        elif phase is FacePhase.CHALLENGE and report is not None and report.action is not None:
            self.title.setText(self.tr("Follow the instruction"))
            self.face_hint.setText(messages.text(report.action.value))
        else:
            self.title.setText(self.tr("Look at the camera"))
            waiting = self.tr("Starting the camera…")
            self.face_hint.setText(messages.text(report.quality.hint.value) if report else waiting)
        self.bar.setVisible(flow.busy or report is None)
