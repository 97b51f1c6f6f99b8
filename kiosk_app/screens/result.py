"""Result: registration number and what happened to the receipt, or why it is not done.

Besides the paid registration there are two offline outcomes: a registration queued while the
hospital system was offline (``flow.pending``: a provisional number, a "pending confirmation" slip,
the fee paid at the cashier) and one whose payment could not be attempted because the system went
offline at the pay step (``flow.hold_kept``: the place is kept, the fee is paid at the cashier).
"""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.flows.registration import PrintState, RegistrationFlow
from kiosk_app.screens.base import Screen, View, label, yuan
from kiosk_app.screens.confirm import compact, summary_card
from kiosk_app.screens.print_status import PrintStatus, PrintWords


class ResultScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.number_label = label("Subtitle", center=True)
        self.number = label("BigNumber", center=True)
        self.card, self.cells = summary_card(4)
        self.printing = PrintStatus(lambda: controller.dispatch(lambda f: f.reprint()))
        self.print_status, self.bar, self.reprint = self.printing.status, self.printing.bar, self.printing.retry
        self.done = QPushButton()
        self.done.setObjectName("Primary")
        self.done.clicked.connect(controller.wipe)
        for w in (self.title, self.number_label, self.number, self.card):
            self.box.addWidget(w)
        self.box.addStretch(1)
        self.printing.add_to(self.box)
        self.box.addWidget(self.done)

    def refresh(self, flow: RegistrationFlow, view: View) -> None:
        reg = flow.registration
        pending, cashier = flow.pending, flow.hold_kept and not flow.paid
        if flow.paid:
            title = self.tr("Registration complete")
        elif pending:
            title = self.tr("Registration pending confirmation")
        elif cashier:
            title = self.tr("Please pay at the cashier window")
        else:
            title = self.tr("Payment not confirmed yet")
        self.title.setText(title)
        shown = (flow.paid or pending or cashier) and reg is not None
        for w in (self.number_label, self.number, self.card):
            w.setVisible(shown)
        # The offline outcomes, and a receipt that did not print, come with a banner and more lines:
        # tighter spacing and a smaller title keep the card whole in elderly sizes. The plain paid
        # layout is left as it always was.
        compact(self.box, self.title, self.card, pending or cashier or flow.print_state is PrintState.FAILED)
        if shown and reg is not None:
            if flow.paid:
                self.number_label.setText(self.tr("Your queue number"))
            elif pending:
                self.number_label.setText(self.tr("Provisional number"))
            else:
                self.number_label.setText(self.tr("Your registration number"))
            self.number.setText(reg.reg_no)
            fee = self.tr("Paid") if flow.paid else self.tr("Fee (pay at the cashier)")
            rows = [
                (self.tr("Department"), view.pick(reg.department_name_zh, reg.department_name_en)),
                (self.tr("Doctor"), view.pick(reg.doctor_name_zh, reg.doctor_name_en)),
                (self.tr("Time"), f"{reg.date}  {reg.start} – {reg.end}"),
                (fee, yuan(reg.amount_cents)),
            ]
            for (key, value), (k, v) in zip(self.cells, rows, strict=True):
                key.setText(k)
                value.setText(v)
        state = flow.print_state
        words = PrintWords(
            self.tr("Printing your receipt…"),
            self.tr("Please take your receipt from the slot below."),
            self.tr("The slip could not be printed. Please tell the cashier your provisional number.")
            if pending
            else self.tr("The receipt could not be printed. Your registration is valid."),
            self.tr("Try printing the receipt again"),
        )
        # A pending registration's banner already says to take the slip: only trouble is repeated.
        quiet = pending and state is PrintState.PRINTED
        self.printing.show(state, words, status=not quiet, retry=flow.paid or pending)
        self.done.setText(self.tr("Finish"))
