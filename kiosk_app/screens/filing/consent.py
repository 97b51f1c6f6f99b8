"""Consent: separate, plainly worded consent for face verification, and the staff alternative.

Both choices are equally big and equally easy to reach: saying no to the face check costs the
patient nothing but a short stop at the service window.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFrame, QPushButton, QVBoxLayout, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.screens.base import Screen, View, busy_bar, label
from kiosk_app.screens.home import Tile


class ConsentScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.box.setSpacing(12)
        self.title = label("Title", center=True)
        self.who = label("Subtitle", center=True)
        self.card = QFrame()
        self.card.setObjectName("Card")
        inner = QVBoxLayout(self.card)
        inner.setContentsMargins(20, 14, 20, 14)
        inner.setSpacing(8)
        self.points = [label("ConsentPoint") for _ in range(5)]
        for point in self.points:
            inner.addWidget(point)
        self.bar = busy_bar()
        self.face_button = QPushButton()
        self.face_button.setObjectName("Primary")
        self.face_button.clicked.connect(lambda: controller.filing_event(lambda f: f.choose_face()))
        self.staff_button = Tile("Secondary")
        self.staff_button.clicked.connect(lambda: controller.filing_event(lambda f: f.choose_staff()))
        for w in (self.title, self.who, self.card):
            self.box.addWidget(w)
        self.box.addStretch(1)
        for bottom in (self.bar, self.face_button, self.staff_button):
            self.box.addWidget(bottom)

    def refresh(self, flow: Any, view: View) -> None:
        self.title.setText(self.tr("Face check: your choice"))
        self.who.setText(self.tr("New patient: {name}").format(name=flow.name_masked) if flow.name_masked else "")
        texts = [
            self.tr("Purpose: to check that you are the holder of this ID card."),
            self.tr("Your face template stays on this kiosk, encrypted."),
            self.tr("Camera images are deleted at once."),
            self.tr("You can withdraw at the service window at any time."),
            self.tr("Or choose the staff check: it works just as well."),
        ]
        for point, text in zip(self.points, texts, strict=True):
            point.setText("•  " + text)
        self.bar.setVisible(flow.busy)
        self.face_button.setText(self.tr("Preparing the camera…") if flow.busy else self.tr("Verify with my face"))
        self.face_button.setEnabled(flow.face.possible and not flow.busy)
        self.face_button.setVisible(flow.face.possible or flow.busy)
        self.staff_button.set_texts(self.tr("No face"), self.tr("Staff check at the service window"))
        self.staff_button.setEnabled(not flow.busy)
