"""Pay: the amount, and the patient shows their phone's payment code to the scanner."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from kiosk_app.controller import KioskController
from kiosk_app.flows.registration import RegistrationFlow, Step
from kiosk_app.screens.base import View
from kiosk_app.screens.code_pay import CodePayScreen, PayView


class PayScreen(CodePayScreen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent, lines=1)
        self.what = self.lines[0]

    def view(self, flow: RegistrationFlow, view: View) -> PayView:
        reg = flow.registration
        what = ""
        if reg is not None:
            doctor = view.pick(reg.doctor_name_zh, reg.doctor_name_en)
            dept = view.pick(reg.department_name_zh, reg.department_name_en)
            what = f"{dept} · {doctor} · {reg.date} {reg.start}"
        amount = reg.amount_cents if reg is not None else None
        return PayView(self.tr("Pay the registration fee"), (what,), amount, flow.step is Step.PAYING)
