"""The window's patient screens: find the patient, the open items, the quote, taking the money."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QGridLayout, QPushButton, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.features.cashier.screens_staff import CashierScreen, cashier_flow, event
from kiosk_app.features.cashier.widgets import Keypad, Row, ToggleList, card, fill
from kiosk_app.flows.printing import PrintState
from kiosk_app.screens.base import View, busy_bar, label, yuan
from kiosk_app.screens.print_status import PrintStatus, PrintWords

QUICK_NOTES_CENTS = (5000, 10000)  # the notes most often handed over: ¥50, ¥100


class PatientLine(CashierScreen):
    """A screen that names the patient at its top (masked)."""

    def patient_text(self, flow: Any) -> str:
        p = flow.patient
        if p is None:
            return ""
        card_no = self.tr("Visit card {n}").format(n=p.visit_card_no) if p.visit_card_no else ""
        return f"{p.name_masked}  {p.id_masked}  {card_no}".strip()


class CashierIdentifyScreen(CashierScreen):
    """The patient's ID or insurance card, a visit-card / e-voucher QR, or the visit-card number typed."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.box.setSpacing(10)
        self.staff = label("Hint", center=True)
        self.title = label("Title", center=True)
        self.hint = label("Hint", center=True)
        self.number = label("PhoneDisplay", wrap=False, center=True)
        self.keypad = Keypad(
            lambda ch: event(controller, lambda f: f.visit_key(ch)),
            lambda: event(controller, lambda f: f.visit_delete()),
            lambda: event(controller, lambda f: f.submit_visit_no()),
        )
        self.status = label("Subtitle", center=True)
        self.bar = busy_bar()
        actions = QGridLayout()
        self.lock_button = QPushButton()
        self.lock_button.setObjectName("Secondary")
        self.lock_button.clicked.connect(lambda: event(controller, lambda f: f.lock_window()))
        self.end_button = QPushButton()
        self.end_button.setObjectName("Secondary")
        self.end_button.clicked.connect(lambda: event(controller, lambda f: f.end_shift()))
        actions.addWidget(self.lock_button, 0, 0)
        actions.addWidget(self.end_button, 0, 1)
        for widget in (self.staff, self.title, self.hint, self.number, self.keypad, self.status, self.bar):
            self.box.addWidget(widget)
        self.box.addStretch(1)
        self.box.addLayout(actions)

    def refresh(self, flow: Any, view: View) -> None:
        f = cashier_flow(flow)
        shift = f.shift if f else None
        self.staff.setText(
            self.tr("{name} ({no}) — shift since {time}").format(
                name=shift.staff_name, no=shift.staff_no, time=shift.opened_at[11:16]
            )
            if shift
            else ""
        )
        self.title.setText(self.tr("Next patient"))
        self.hint.setText(
            self.tr(
                "Place the patient's ID or social-security card on the reader, scan the visit-card QR or "
                "insurance e-voucher, or type the visit-card number."
            )
        )
        self.number.setText(f.visit_no.text if f and f.visit_no.text else "—")
        self.keypad.ok_button.setText(self.tr("Find"))
        self.keypad.setEnabled(not flow.busy)
        self.status.setText(self.tr("Looking up the patient…") if flow.busy else "")
        self.bar.setVisible(flow.busy)
        self.lock_button.setText(self.tr("Lock the window"))
        self.end_button.setText(self.tr("End of shift"))
        for button in (self.lock_button, self.end_button):
            button.setEnabled(not flow.busy)


class ItemsScreen(PatientLine):
    """What the patient has to pay: open bills and unpaid registrations, selected by default."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.box.setSpacing(10)
        self.title = label("Title", center=True)
        self.patient = label("Subtitle", center=True)
        self.list = ToggleList()
        self.list.setMinimumHeight(200)
        self.insured_button = Row()
        self.insured_button.clicked.connect(lambda: event(controller, lambda f: f.toggle_insured()))
        self.total = label("BigNumber", center=True)
        self.bar = busy_bar()
        buttons = QGridLayout()
        self.refund_button = QPushButton()
        self.refund_button.setObjectName("Secondary")
        self.refund_button.clicked.connect(lambda: event(controller, lambda f: f.start_refund()))
        self.settle_button = QPushButton()
        self.settle_button.setObjectName("Primary")
        self.settle_button.clicked.connect(lambda: event(controller, lambda f: f.settle_selected()))
        buttons.addWidget(self.refund_button, 0, 0)
        buttons.addWidget(self.settle_button, 0, 1)
        for widget in (self.title, self.patient, self.list, self.insured_button, self.total, self.bar):
            self.box.addWidget(widget, 1 if widget is self.list else 0)
        self.box.addLayout(buttons)

    def refresh(self, flow: Any, view: View) -> None:
        f = cashier_flow(flow)
        items = f.items if f else None
        self.title.setText(self.tr("To pay"))
        self.patient.setText(self.patient_text(flow))
        rows: list[tuple[str, str, bool]] = []
        if f is not None and items is not None:
            for b in items.bills:
                text = f"{view.pick(b.title_zh, b.title_en)}  {b.bill_no}  {yuan(b.total_cents)}"
                if b.status == "locked":
                    text += "  " + self.tr("(being paid elsewhere)")
                rows.append((f"b{b.bill_id}", text, b.bill_id in f.selected_bills))
            for r in items.registrations:
                dept = view.pick(r.department_name_zh, r.department_name_en)
                text = self.tr("Registration {no}: {dept} {date} {start}").format(
                    no=r.reg_no, dept=dept, date=r.date, start=r.start
                )
                rows.append(
                    (f"r{r.registration_id}", f"{text}  {yuan(r.amount_cents)}", r.registration_id in f.selected_regs)
                )
        self.list.show_rows(rows, self._toggle)
        self.total.setText(self.tr("Selected {amount}").format(amount=yuan(f.selected_total_cents if f else 0)))
        self.insured_button.set_text(self.tr("Medical insurance card shown: pre-settle with the insurer"))
        self.insured_button.setChecked(f is not None and f.insured)
        self.insured_button.setEnabled(items is not None and not flow.busy)
        self.bar.setVisible(flow.busy)
        self.refund_button.setText(self.tr("Refund…"))
        self.settle_button.setText(self.tr("Settle"))
        for button in (self.refund_button, self.settle_button):
            button.setEnabled(items is not None and not flow.busy)

    def _toggle(self, row_id: str) -> None:
        ident = int(row_id[1:])
        if row_id.startswith("b"):
            event(self.controller, lambda f: f.toggle_bill(ident))
        else:
            event(self.controller, lambda f: f.toggle_registration(ident))


class TakeScreen(PatientLine):
    """The quote: the insurance share, what the patient pays now, and how."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.patient = label("Subtitle", center=True)
        self.card, self.cells = card(4)
        self.amount = label("BigNumber", center=True)
        self.channel_buttons: dict[str, QPushButton] = {}
        for widget in (self.title, self.patient, self.card, self.amount):
            self.box.addWidget(widget)
        self.box.addStretch(1)
        for channel in ("code", "cash", "card"):  # one full-width button each: the cashier's three choices
            button = QPushButton()
            button.setObjectName("Secondary")
            button.clicked.connect(lambda _=False, c=channel: event(controller, lambda f: f.choose_channel(c)))
            self.channel_buttons[channel] = button
            self.box.addWidget(button)

    def refresh(self, flow: Any, view: View) -> None:
        f = cashier_flow(flow)
        q = f.quote if f else None
        self.title.setText(self.tr("Take the payment"))
        self.patient.setText(self.patient_text(flow))
        rows = []
        if q is not None:
            total = sum(b.total_cents for b in q.bills) + sum(r.amount_cents for r in q.registrations)
            rows = [
                (self.tr("Items"), str(len(q.bills) + len(q.registrations))),
                (self.tr("Total"), yuan(total)),
                (self.tr("Insurance pays"), yuan(q.insurance_cents)),
                (self.tr("Patient pays"), yuan(q.self_pay_cents)),
            ]
        fill(self.cells, rows)
        self.amount.setText(yuan(q.self_pay_cents) if q else "")
        for channel, button in self.channel_buttons.items():
            button.setText(self.channel_name(channel))
            button.setEnabled(q is not None and q.self_pay_cents > 0 and not flow.busy)
        if f is not None and not f.code_allowed:
            self.channel_buttons["code"].setEnabled(False)


class CodeScreen(PatientLine):
    """Waiting for the patient's payment code on the scanner (serial or keyboard wedge)."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.amount = label("BigNumber", center=True)
        self.hint = label("Subtitle", center=True)
        self.box.addStretch(1)
        for widget in (self.title, self.amount, self.hint):
            self.box.addWidget(widget)
        self.box.addStretch(2)

    def refresh(self, flow: Any, view: View) -> None:
        self.title.setText(self.tr("Scan the patient's payment code"))
        self.amount.setText(yuan(flow.amount_cents) if cashier_flow(flow) else "")
        self.hint.setText(self.tr("WeChat Pay or Alipay: hold the scanner over the code on the patient's phone."))


class CashScreen(PatientLine):
    """Cash: the amount tendered on the keypad, the change to hand back."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.box.setSpacing(10)
        self.title = label("Title", center=True)
        self.due = label("Subtitle", center=True)
        self.tendered = label("PhoneDisplay", wrap=False, center=True)
        self.change = label("BigNumber", center=True)
        notes = QGridLayout()
        self.exact_button = QPushButton()
        self.exact_button.setObjectName("Secondary")
        self.exact_button.clicked.connect(lambda: event(controller, lambda f: f.tender(f.amount_cents)))
        notes.addWidget(self.exact_button, 0, 0)
        for i, cents in enumerate(QUICK_NOTES_CENTS, start=1):
            button = QPushButton(yuan(cents))
            button.setObjectName("Secondary")
            button.clicked.connect(lambda _=False, c=cents: event(controller, lambda f: f.tender(c)))
            notes.addWidget(button, 0, i)
        self.keypad = Keypad(
            lambda ch: event(controller, lambda f: f.amount_key(ch)),
            lambda: event(controller, lambda f: f.amount_delete()),
            lambda: event(controller, lambda f: f.confirm_cash()),
            dot=True,
        )
        for widget in (self.title, self.due, self.tendered, self.change):
            self.box.addWidget(widget)
        self.box.addLayout(notes)
        self.box.addWidget(self.keypad)
        self.box.addStretch(1)

    def refresh(self, flow: Any, view: View) -> None:
        f = cashier_flow(flow)
        self.title.setText(self.tr("Cash"))
        self.due.setText(self.tr("Due: {amount}. Amount tendered:").format(amount=yuan(f.amount_cents if f else 0)))
        self.tendered.setText(f"¥{f.tendered.text}" if f and f.tendered.text else "¥")
        change = f.change_cents if f else None
        self.change.setText(
            self.tr("Change: {amount}").format(amount=yuan(change)) if change is not None else self.tr("Not enough")
        )
        self.exact_button.setText(self.tr("Exact amount"))
        self.keypad.ok_button.setText(self.tr("Cash received"))
        self.keypad.ok_button.setEnabled(change is not None)


class CardScreen(PatientLine):
    """Bank card: run it on the POS terminal, then type the reference number from its slip."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.box.setSpacing(10)
        self.title = label("Title", center=True)
        self.hint = label("Subtitle", center=True)
        self.ref = label("PhoneDisplay", wrap=False, center=True)
        self.keypad = Keypad(
            lambda ch: event(controller, lambda f: f.amount_key(ch)),
            lambda: event(controller, lambda f: f.amount_delete()),
            lambda: event(controller, lambda f: f.confirm_card()),
        )
        for widget in (self.title, self.hint, self.ref, self.keypad):
            self.box.addWidget(widget)
        self.box.addStretch(1)

    def refresh(self, flow: Any, view: View) -> None:
        f = cashier_flow(flow)
        self.title.setText(self.tr("Bank card {amount}").format(amount=yuan(f.amount_cents if f else 0)))
        self.hint.setText(
            self.tr("Charge the amount on the POS terminal, then type the reference number printed on its slip.")
        )
        self.ref.setText(f.pos_ref.text if f and f.pos_ref.text else "—")
        self.keypad.ok_button.setText(self.tr("Card paid"))


class PayingScreen(PatientLine):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.amount = label("BigNumber", center=True)
        self.bar = busy_bar()
        self.box.addStretch(1)
        for widget in (self.title, self.amount, self.bar):
            self.box.addWidget(widget)
        self.box.addStretch(2)

    def refresh(self, flow: Any, view: View) -> None:
        self.title.setText(self.tr("Recording the payment…"))
        self.amount.setText(yuan(flow.amount_cents) if cashier_flow(flow) else "")
        self.bar.setVisible(flow.busy)


class PaidScreen(PatientLine):
    """Paid (or not confirmed yet), the receipt printing; then the next patient."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.card, self.cells = card(5)
        self.printing = PrintStatus(lambda: event(controller, lambda f: f.reprint()), retry_style="Secondary")
        self.print_status, self.bar, self.reprint = self.printing.status, self.printing.bar, self.printing.retry
        self.next_button = QPushButton()
        self.next_button.setObjectName("Primary")
        self.next_button.clicked.connect(controller.wipe)
        self.box.addWidget(self.title)
        self.box.addWidget(self.card)
        self.box.addStretch(1)
        self.printing.add_to(self.box)
        self.box.addWidget(self.next_button)

    def refresh(self, flow: Any, view: View) -> None:
        f = cashier_flow(flow)
        s = f.settlement if f else None
        paid = s is not None and s.status == "SUCCESS"
        self.title.setText(self.tr("Paid") if paid else self.tr("Not confirmed yet") if f and f.outcome else "")
        rows = []
        if s is not None:
            rows = [(self.tr("Patient pays"), yuan(s.amount_cents)), (self.tr("Paid by"), self.channel_name(s.channel))]
            if s.channel == "cash" and s.tendered_cents is not None:
                rows += [(self.tr("Tendered"), yuan(s.tendered_cents)), (self.tr("Change"), yuan(s.change_cents or 0))]
            if s.pos_ref:
                rows.append((self.tr("POS reference"), s.pos_ref))
        fill(self.cells, rows)
        self.card.setVisible(bool(rows))
        words = PrintWords(
            self.tr("Printing the receipt…"),
            self.tr("Hand the receipt to the patient."),
            self.tr("The receipt did not print. The payment is recorded."),
            self.tr("Print the receipt again"),
        )
        self.printing.show(f.print_state if f else PrintState.NONE, words)
        self.next_button.setText(self.tr("Next patient"))
