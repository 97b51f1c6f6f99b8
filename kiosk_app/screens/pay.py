"""Pay: the amount, and the patient shows their phone's payment code to the scanner."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from kiosk_app.controller import KioskController
from kiosk_app.flows.registration import RegistrationFlow, Step
from kiosk_app.screens.base import Screen, View, busy_bar, label, yuan


class PayScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.what = label("Subtitle", center=True)
        self.amount = label("Amount", center=True)
        self.hint = label("Hint", center=True)
        self.steps = label("Subtitle", center=True)
        self.status = label("Hint", center=True)
        self.bar = busy_bar()
        for w in (self.title, self.what, self.amount, self.hint, self.steps):
            self.box.addWidget(w)
        self.box.addStretch(1)
        self.box.addWidget(self.status)
        self.box.addWidget(self.bar)

    def refresh(self, flow: RegistrationFlow, view: View) -> None:
        reg = flow.registration
        self.title.setText(self.tr("Pay the registration fee"))
        if reg is not None:
            doctor = view.pick(reg.doctor_name_zh, reg.doctor_name_en)
            dept = view.pick(reg.department_name_zh, reg.department_name_en)
            self.what.setText(f"{dept} · {doctor} · {reg.date} {reg.start}")
            self.amount.setText(yuan(reg.amount_cents))
        paying = flow.step is Step.PAYING
        self.hint.setText(
            self.tr("Payment in progress. Please keep your phone ready.")
            if paying
            else self.tr("Open the WeChat or Alipay payment code on your phone and hold it under the scanner.")
        )
        self.steps.setText(self.tr("WeChat: Me → Pay → Money   ·   Alipay: Pay / Receive"))
        self.steps.setVisible(not paying)
        self.status.setText(
            self.tr("Please enter your password on your phone if asked.")
            if paying
            else self.tr("Waiting for the code…")
        )
        self.bar.setVisible(paying)
