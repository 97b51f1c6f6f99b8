"""Result: registration number and what happened to the receipt, or why it is not done."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.flows.registration import PrintState, RegistrationFlow
from kiosk_app.screens.base import Screen, View, busy_bar, label, yuan
from kiosk_app.screens.confirm import summary_card


class ResultScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.number_label = label("Subtitle", center=True)
        self.number = label("BigNumber", center=True)
        self.card, self.cells = summary_card(4)
        self.print_status = label("Hint", center=True)
        self.bar = busy_bar()
        self.done = QPushButton()
        self.done.setObjectName("Primary")
        self.done.clicked.connect(controller.wipe)
        self.reprint = QPushButton()
        self.reprint.clicked.connect(lambda: controller.dispatch(lambda f: f.reprint()))
        for w in (self.title, self.number_label, self.number, self.card):
            self.box.addWidget(w)
        self.box.addStretch(1)
        self.box.addWidget(self.print_status)
        self.box.addWidget(self.bar)
        self.box.addWidget(self.reprint)
        self.box.addWidget(self.done)

    def refresh(self, flow: RegistrationFlow, view: View) -> None:
        reg = flow.registration
        self.title.setText(self.tr("Registration complete") if flow.paid else self.tr("Payment not confirmed yet"))
        shown = flow.paid and reg is not None
        for w in (self.number_label, self.number, self.card):
            w.setVisible(shown)
        if shown and reg is not None:
            self.number_label.setText(self.tr("Your queue number"))
            self.number.setText(reg.reg_no)
            rows = [
                (self.tr("Department"), view.pick(reg.department_name_zh, reg.department_name_en)),
                (self.tr("Doctor"), view.pick(reg.doctor_name_zh, reg.doctor_name_en)),
                (self.tr("Time"), f"{reg.date}  {reg.start} – {reg.end}"),
                (self.tr("Paid"), yuan(reg.amount_cents)),
            ]
            for (key, value), (k, v) in zip(self.cells, rows, strict=True):
                key.setText(k)
                value.setText(v)
        state = flow.print_state
        self.print_status.setText(
            {
                PrintState.PRINTING: self.tr("Printing your receipt…"),
                PrintState.PRINTED: self.tr("Please take your receipt from the slot below."),
                PrintState.FAILED: self.tr("The receipt could not be printed. Your registration is valid."),
                PrintState.NONE: "",
            }[state]
        )
        self.bar.setVisible(state is PrintState.PRINTING)
        self.done.setText(self.tr("Finish"))
        self.reprint.setText(self.tr("Try printing the receipt again"))
        self.reprint.setVisible(flow.paid and state is PrintState.FAILED)
