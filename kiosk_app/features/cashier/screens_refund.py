"""The window's refund screens: which payment, how much and why, the supervisor's PIN, the result."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QGridLayout, QPushButton, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.features.cashier.commands import REASONS
from kiosk_app.features.cashier.screens_patient import PatientLine
from kiosk_app.features.cashier.screens_staff import cashier_flow, event
from kiosk_app.features.cashier.widgets import Keypad, ToggleList, card, fill
from kiosk_app.flows.printing import PrintState
from kiosk_app.screens.base import View, busy_bar, label, yuan
from kiosk_app.screens.print_status import PrintStatus, PrintWords


class RefundScreen(PatientLine):
    """A recent payment, the amount (all of it unless changed), a reason; for a card, the POS reference."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.box.setSpacing(8)
        self.title = label("Title", center=True)
        self.patient = label("Subtitle", center=True)
        self.payments = ToggleList()
        self.payments.setMinimumHeight(160)
        # The keypad types into the amount, or (card refunds) into the POS reference: tap to switch.
        self.amount = QPushButton()
        self.pos_ref = QPushButton()
        for button, target in ((self.amount, "amount"), (self.pos_ref, "pos_ref")):
            button.setObjectName("Choice")
            button.setCheckable(True)
            button.clicked.connect(lambda _=False, t=target: self._target(t))
        self.reason_buttons: dict[str, QPushButton] = {}
        reasons = QGridLayout()
        for i, reason in enumerate(REASONS):
            button = QPushButton()
            button.setObjectName("Choice")
            button.setCheckable(True)
            button.clicked.connect(lambda _=False, r=reason: event(controller, lambda f: f.choose_reason(r)))
            self.reason_buttons[reason] = button
            reasons.addWidget(button, i // 2, i % 2)
        self.target = "amount"
        self.keypad = Keypad(
            lambda ch: event(controller, lambda f: f.refund_key_pressed(ch, self.target)),
            lambda: event(controller, lambda f: f.refund_delete(self.target)),
            lambda: event(controller, lambda f: f.ask_supervisor()),
            dot=True,
        )
        self.box.addWidget(self.title)
        self.box.addWidget(self.patient)
        self.box.addWidget(self.payments, 1)
        self.box.addWidget(self.amount)
        self.box.addLayout(reasons)
        self.box.addWidget(self.pos_ref)
        self.box.addWidget(self.keypad)

    def reason_text(self, reason: str) -> str:
        return {
            "duplicate": self.tr("Paid twice"),
            "overcharged": self.tr("Overcharged"),
            "cancelled": self.tr("Cancelled"),
            "patient": self.tr("Patient asks"),
        }[reason]

    def refresh(self, flow: Any, view: View) -> None:
        f = cashier_flow(flow)
        self.title.setText(self.tr("Refund"))
        self.patient.setText(self.patient_text(flow))
        chosen = f.refund_payment if f else None
        rows = []
        if f is not None and f.items is not None:
            for p in f.items.recent_payments:
                text = f"{p.paid_at[:10]}  {view.pick(p.title_zh, p.title_en)}  {self.channel_name(p.channel)}"
                rows.append(
                    (
                        p.payment_key,
                        f"{text}  {yuan(p.amount_cents)}",
                        chosen is not None and chosen.payment_key == p.payment_key,
                    )
                )
        self.payments.show_rows(rows, self._choose)
        self.amount.setText(self.tr("Refund ¥{amount}").format(amount=f.refund_amount.text if f else ""))
        self.amount.setVisible(chosen is not None)
        for reason, button in self.reason_buttons.items():
            button.setText(self.reason_text(reason))
            button.setChecked(f is not None and f.refund_reason == reason)
            button.setEnabled(chosen is not None)
        card_refund = chosen is not None and chosen.channel == "card"
        if not card_refund:
            self.target = "amount"
        self.amount.setChecked(self.target == "amount")
        self.pos_ref.setChecked(self.target == "pos_ref")
        ref = f.refund_pos_ref.text if f else ""
        self.pos_ref.setText(self.tr("POS refund reference (refund on the terminal first): {ref}").format(ref=ref))
        self.pos_ref.setVisible(card_refund)
        self.keypad.buttons["."].setEnabled(self.target == "amount")
        self.keypad.ok_button.setText(self.tr("Ask a supervisor"))
        self.keypad.setEnabled(chosen is not None)

    def _target(self, target: str) -> None:
        self.target = target
        self.amount.setChecked(target == "amount")
        self.pos_ref.setChecked(target == "pos_ref")
        self.keypad.buttons["."].setEnabled(target == "amount")

    def _choose(self, payment_key: str) -> None:
        event(self.controller, lambda f: f.choose_payment(payment_key))


class ApproveScreen(PatientLine):
    """The supervisor's staff number and PIN, typed by the supervisor; checked by the server."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.box.setSpacing(10)
        self.title = label("Title", center=True)
        self.summary = label("Subtitle", center=True)
        self.no_field = QPushButton()
        self.pin_field = QPushButton()
        for button, name in ((self.no_field, "supervisor_no"), (self.pin_field, "supervisor_pin")):
            button.setObjectName("Choice")
            button.setCheckable(True)
            button.clicked.connect(lambda _=False, n=name: event(controller, lambda f: f.choose_approve_field(n)))
        self.keypad = Keypad(
            lambda ch: event(controller, lambda f: f.approve_key(ch)),
            lambda: event(controller, lambda f: f.approve_delete()),
            lambda: event(controller, lambda f: f.approve()),
        )
        for widget in (self.title, self.summary, self.no_field, self.pin_field, self.keypad):
            self.box.addWidget(widget)
        self.box.addStretch(1)

    def refresh(self, flow: Any, view: View) -> None:
        f = cashier_flow(flow)
        self.title.setText(self.tr("Supervisor approval"))
        amount = f.refund_amount.cents if f else None
        self.summary.setText(
            self.tr("Refund {amount}: the supervisor enters their staff number and PIN.").format(
                amount=yuan(amount or 0)
            )
        )
        self.no_field.setText(self.tr("Supervisor number: {n}").format(n=f.supervisor_no.text if f else ""))
        self.pin_field.setText(self.tr("PIN: {dots}").format(dots="●" * len(f.supervisor_pin.text) if f else ""))
        field = f.approve_field if f else "supervisor_no"
        self.no_field.setChecked(field == "supervisor_no")
        self.pin_field.setChecked(field == "supervisor_pin")
        self.keypad.ok_button.setText(self.tr("Next") if field == "supervisor_no" else self.tr("Approve"))
        self.keypad.setEnabled(not flow.busy)


class RefundingScreen(PatientLine):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.bar = busy_bar()
        self.box.addStretch(1)
        self.box.addWidget(self.title)
        self.box.addWidget(self.bar)
        self.box.addStretch(2)

    def refresh(self, flow: Any, view: View) -> None:
        self.title.setText(self.tr("Making the refund…"))
        self.bar.setVisible(flow.busy)


class RefundedScreen(PatientLine):
    """The refund's outcome; for cash, the amount to hand back now; the slip printing."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.hand_back = label("BigNumber", center=True)
        self.card, self.cells = card(4)
        self.printing = PrintStatus(lambda: event(controller, lambda f: f.reprint()), retry_style="Secondary")
        self.print_status, self.bar, self.reprint = self.printing.status, self.printing.bar, self.printing.retry
        self.next_button = QPushButton()
        self.next_button.setObjectName("Primary")
        self.next_button.clicked.connect(controller.wipe)
        for widget in (self.title, self.hand_back, self.card):
            self.box.addWidget(widget)
        self.box.addStretch(1)
        self.printing.add_to(self.box)
        self.box.addWidget(self.next_button)

    def refresh(self, flow: Any, view: View) -> None:
        f = cashier_flow(flow)
        refund = f.refund if f else None
        outcome = f.refund_outcome if f else ""
        self.title.setText(
            {
                "refunded": self.tr("Refunded"),
                "pending": self.tr("Refund on its way"),
                "failed": self.tr("Refund not made"),
                "unknown": self.tr("Refund not confirmed yet"),
            }.get(outcome, "")
        )
        cash_back = refund is not None and refund.channel == "cash" and outcome == "refunded"
        self.hand_back.setText(
            self.tr("Hand back {amount} in cash").format(amount=yuan(refund.amount_cents))
            if cash_back and refund
            else ""
        )
        rows = []
        if refund is not None:
            rows = [
                (self.tr("Refund"), yuan(refund.amount_cents)),
                (self.tr("Paid by"), self.channel_name(refund.channel)),
                (self.tr("Approved by"), refund.approved_by),
                (self.tr("Reason"), refund.reason),
            ]
        fill(self.cells, rows)
        self.card.setVisible(bool(rows))
        words = PrintWords(
            self.tr("Printing the refund slip…"),
            self.tr("Hand the refund slip to the patient."),
            self.tr("The refund slip did not print. The refund is recorded."),
            self.tr("Print the slip again"),
        )
        self.printing.show(f.print_state if f else PrintState.NONE, words)
        self.next_button.setText(self.tr("Next patient"))
