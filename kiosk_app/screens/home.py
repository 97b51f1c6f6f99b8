"""Home: one big tile per service."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QPushButton, QSizePolicy, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.flows.registration import RegistrationFlow
from kiosk_app.screens.base import Screen, View, label


class HomeScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.subtitle = label("Subtitle", center=True)
        self.box.addWidget(self.title)
        self.box.addWidget(self.subtitle)
        grid = QGridLayout()
        grid.setSpacing(20)
        self.register_button = QPushButton()
        self.register_button.setObjectName("Tile")
        self.register_button.clicked.connect(lambda: controller.dispatch(lambda f: f.start()))
        self.soon_buttons = [QPushButton() for _ in range(3)]
        for i, button in enumerate([self.register_button, *self.soon_buttons]):
            if button is not self.register_button:
                button.setObjectName("TileSoon")
                button.clicked.connect(self._coming_soon)
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            grid.addWidget(button, i // 2, i % 2)
        self.box.addStretch(1)
        self.box.addLayout(grid)
        self.box.addStretch(2)
        self.hint = label("Subtitle", center=True)
        self.box.addWidget(self.hint)

    def _coming_soon(self) -> None:
        self.controller.dispatch(lambda f: f.notify("feature.coming_soon"))

    def refresh(self, flow: RegistrationFlow, view: View) -> None:
        self.title.setText(self.tr("Welcome"))
        self.subtitle.setText(self.tr("Please choose a service"))
        self.register_button.setText(self.tr("Registration") + "\n" + self.tr("Book a doctor for today"))
        soon = self.tr("coming soon")
        names = [self.tr("Pay bills"), self.tr("Print reports"), self.tr("New patient")]
        for button, name in zip(self.soon_buttons, names, strict=True):
            button.setText(f"{name}\n({soon})")
        self.hint.setText(self.tr("Touch a service to begin. Your data is cleared when you finish."))
