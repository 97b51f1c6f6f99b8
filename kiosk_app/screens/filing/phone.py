"""Phone number on an on-screen keypad: big keys, a delete key, digits shown while typing."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QGridLayout, QPushButton, QSizePolicy, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.flows.filing import PHONE_LEN
from kiosk_app.screens.base import Screen, View, busy_bar, label


def grouped(digits: str) -> str:
    """``138 0013 8000`` with the rest as placeholders, so the patient sees how many are left."""
    padded = digits + "_" * (PHONE_LEN - len(digits))
    return f"{padded[:3]} {padded[3:7]} {padded[7:]}"


class PhoneScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.box.setSpacing(12)
        self.title = label("Title", center=True)
        self.verified = label("Subtitle", center=True)
        self.display = label("PhoneDisplay", wrap=False, center=True)
        grid = QGridLayout()
        grid.setSpacing(12)
        self.digit_buttons: dict[str, QPushButton] = {}
        for i, digit in enumerate("123456789"):
            grid.addWidget(self._key(digit), i // 3, i % 3)
        self.delete_button = QPushButton("⌫")
        self.delete_button.setObjectName("Key")
        self.delete_button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.delete_button.clicked.connect(lambda: controller.filing_event(lambda f: f.phone_delete()))
        grid.addWidget(self.delete_button, 3, 0)
        grid.addWidget(self._key("0"), 3, 1)
        self.ok_button = QPushButton()
        self.ok_button.setObjectName("KeyOk")
        self.ok_button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.ok_button.clicked.connect(lambda: controller.filing_event(lambda f: f.phone_submit()))
        grid.addWidget(self.ok_button, 3, 2)
        self.bar = busy_bar()
        for w in (self.title, self.verified, self.display):
            self.box.addWidget(w)
        self.box.addLayout(grid)
        self.box.addWidget(self.bar)
        self.box.addStretch(1)

    def _key(self, digit: str) -> QPushButton:
        button = QPushButton(digit)
        button.setObjectName("Key")
        button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        button.clicked.connect(lambda: self.controller.filing_event(lambda f: f.phone_key(digit)))
        self.digit_buttons[digit] = button
        return button

    def refresh(self, flow: Any, view: View) -> None:
        self.title.setText(self.tr("Your mobile number"))
        hint = self.tr("11 digits, for appointment messages.")
        if flow.verification == "face":
            self.verified.setText(self.tr("✓ Face verified") + "\n" + hint)
        elif flow.verification == "staff":
            self.verified.setText(self.tr("Staff check at the service window") + "\n" + hint)
        else:
            self.verified.setText(hint)
        self.display.setText(grouped(flow.phone))
        full = len(flow.phone) >= PHONE_LEN
        for button in self.digit_buttons.values():
            button.setEnabled(not flow.busy and not full)
        self.delete_button.setEnabled(not flow.busy and bool(flow.phone))
        self.delete_button.setToolTip(self.tr("Delete"))
        self.bar.setVisible(flow.busy)
        self.ok_button.setText(self.tr("Confirm"))
        self.ok_button.setEnabled(full and not flow.busy)
