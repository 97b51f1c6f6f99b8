"""The window's staff screens: sign-in, the end-of-shift report before and after closing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtWidgets import QPushButton, QWidget

from kiosk_app import theme
from kiosk_app.controller import KioskController
from kiosk_app.features.cashier.flow import CashierFlow
from kiosk_app.features.cashier.widgets import Keypad, card, fill
from kiosk_app.flows.printing import PrintState
from kiosk_app.screens.base import Screen, View, busy_bar, label, yuan
from sync.client import ShiftReport

TILE = (
    QT_TRANSLATE_NOOP("features", "Cashier window"),
    QT_TRANSLATE_NOOP("features", "Staff sign-in"),
)


def tile() -> tuple[str, str]:
    return QCoreApplication.translate("features", str(TILE[0])), QCoreApplication.translate("features", str(TILE[1]))


def event(controller: KioskController, fn: Callable[[CashierFlow], list[Any]]) -> None:
    controller.feature_event("cashier", fn)


def cashier_flow(flow: Any) -> CashierFlow | None:
    return flow if isinstance(flow, CashierFlow) else None


class CashierScreen(Screen):
    """The cashier screens' shared wording (``self.tr`` here: one translation context) and look."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        # What is selected must show: the kiosk's theme has no checked state (patients never toggle).
        self.setStyleSheet(
            f"QPushButton:checked {{ background: #D7EEEB; border: 3px solid {theme.PRIMARY}; font-weight: bold; }}"
        )

    def channel_name(self, channel: str) -> str:
        return {
            "code": self.tr("Payment code"),
            "wechat": self.tr("WeChat Pay"),
            "alipay": self.tr("Alipay"),
            "cash": self.tr("Cash"),
            "card": self.tr("Bank card"),
        }.get(channel, channel)

    def mismatch_name(self, kind: str) -> str:
        return {
            "missing_on_server": self.tr("Counted here, not recorded by the server"),
            "missing_on_kiosk": self.tr("Recorded by the server, not counted here"),
            "amount_differs": self.tr("Amounts differ"),
            "channel_differs": self.tr("Payment methods differ"),
            "status_differs": self.tr("Outcomes differ"),
            "payment_missing": self.tr("Payment record missing"),
            "payment_amount": self.tr("Payment amount differs"),
            "unresolved": self.tr("Not settled yet"),
        }.get(kind, kind)

    def count_amount(self, count: int, cents: int) -> str:
        return self.tr("{n} × {amount}").format(n=count, amount=yuan(cents))

    def totals_rows(self, report: ShiftReport) -> list[tuple[str, str]]:
        rows = [(self.tr("Cashier"), f"{report.shift.staff_name} ({report.shift.staff_no})")]
        for channel in ("code", "cash", "card"):
            t = report.totals.get(channel)
            if t is not None:
                rows.append((self.channel_name(channel), self.count_amount(t.count, t.amount_cents)))
        rows += [
            (self.tr("Refunds"), self.count_amount(report.refund_count, report.refund_cents)),
            (self.tr("Transactions"), str(report.transaction_count)),
            (self.tr("Net taken"), yuan(report.net_cents)),
            (self.tr("Cash expected"), yuan(report.cash_expected_cents)),
        ]
        if report.cash_counted_cents is not None:
            diff = report.cash_difference_cents or 0
            sign = "+" if diff > 0 else "−" if diff < 0 else ""
            rows.append((self.tr("Cash counted"), f"{yuan(report.cash_counted_cents)}  ({sign}{yuan(abs(diff))})"))
        return rows


class SignInScreen(CashierScreen):
    """Staff number and PIN on the keypad, or the staff ID card on the reader."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.box.setSpacing(12)
        self.title = label("Title", center=True)
        self.hint = label("Hint", center=True)
        self.staff_field = QPushButton()
        self.pin_field = QPushButton()
        for button, name in ((self.staff_field, "staff_no"), (self.pin_field, "pin")):
            button.setObjectName("Choice")
            button.setCheckable(True)
            button.clicked.connect(lambda _=False, n=name: event(controller, lambda f: f.choose_signin_field(n)))
        self.keypad = Keypad(
            lambda ch: event(controller, lambda f: f.signin_key(ch)),
            lambda: event(controller, lambda f: f.signin_delete()),
            lambda: event(controller, lambda f: f.submit_signin()),
        )
        self.bar = busy_bar()
        for widget in (self.title, self.hint, self.staff_field, self.pin_field, self.keypad, self.bar):
            self.box.addWidget(widget)
        self.box.addStretch(1)

    def refresh(self, flow: Any, view: View) -> None:
        f = cashier_flow(flow)
        self.title.setText(self.tr("Cashier sign-in"))
        self.hint.setText(self.tr("Enter your staff number and PIN, or place your staff ID card on the reader."))
        number = f.staff_no.text if f else ""
        dots = "●" * len(f.pin.text) if f else ""
        self.staff_field.setText(self.tr("Staff number: {n}").format(n=number))
        self.pin_field.setText(self.tr("PIN: {dots}").format(dots=dots))
        field = f.signin_field if f else "staff_no"
        self.staff_field.setChecked(field == "staff_no")
        self.pin_field.setChecked(field == "pin")
        self.keypad.ok_button.setText(self.tr("Next") if field == "staff_no" else self.tr("Sign in"))
        self.keypad.setEnabled(not flow.busy)
        self.bar.setVisible(flow.busy)


class ReportScreen(CashierScreen):
    """The shift so far: totals, and the cash counted in the drawer before closing."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.box.setSpacing(10)
        self.title = label("Title", center=True)
        self.card, self.cells = card(6)
        self.count_label = label("Subtitle", center=True)
        self.counted = label("PhoneDisplay", wrap=False, center=True)
        self.keypad = Keypad(
            lambda ch: event(controller, lambda f: f.counted_key(ch)),
            lambda: event(controller, lambda f: f.counted_delete()),
            lambda: event(controller, lambda f: f.close_shift()),
            dot=True,
        )
        self.bar = busy_bar()
        for widget in (self.title, self.card, self.count_label, self.counted, self.keypad, self.bar):
            self.box.addWidget(widget)
        self.box.addStretch(1)

    def refresh(self, flow: Any, view: View) -> None:
        f = cashier_flow(flow)
        report = f.report if f else None
        self.title.setText(self.tr("End of shift"))
        # Before closing: what was taken and what the drawer should hold; the full report after.
        fill(self.cells, self.totals_rows(report)[1:6] + self.totals_rows(report)[-1:] if report else [])
        self.card.setVisible(report is not None)
        self.count_label.setText(self.tr("Cash counted in the drawer (expected {amount})").format(
            amount=yuan(report.cash_expected_cents) if report else "-"))  # fmt: skip
        self.counted.setText(f"¥{f.cash_counted.text}" if f and f.cash_counted.text else "¥")
        self.keypad.ok_button.setText(self.tr("Close the shift"))
        self.keypad.setEnabled(report is not None and not flow.busy)
        self.bar.setVisible(flow.busy)


class ClosedScreen(CashierScreen):
    """The closed shift: totals, the reconciliation with the server, printed and exported."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.box.setSpacing(10)
        self.title = label("Title", center=True)
        self.card, self.cells = card(10)
        self.reconciliation = label("Subtitle")
        self.mismatches = label("Hint")
        self.files = label("Hint")
        self.bar = busy_bar()
        self.reprint = QPushButton()
        self.reprint.setObjectName("Secondary")
        self.reprint.clicked.connect(lambda: event(controller, lambda f: f.reprint_report()))
        self.done = QPushButton()
        self.done.setObjectName("Primary")
        self.done.clicked.connect(lambda: event(controller, lambda f: f.sign_off()))
        top: tuple[QWidget, ...] = (self.title, self.card, self.reconciliation, self.mismatches, self.files)
        for widget in top:
            self.box.addWidget(widget)
        self.box.addStretch(1)
        bottom: tuple[QWidget, ...] = (self.bar, self.reprint, self.done)
        for widget in bottom:
            self.box.addWidget(widget)

    def refresh(self, flow: Any, view: View) -> None:
        f = cashier_flow(flow)
        report = f.report if f else None
        self.title.setText(self.tr("Shift closed"))
        fill(self.cells, self.totals_rows(report) if report else [])
        if report is None:
            self.reconciliation.setText("")
            self.mismatches.setText("")
        elif report.ok:
            self.reconciliation.setText(self.tr("Reconciled with the hospital system: no differences."))
            self.mismatches.setText("")
        else:
            self.reconciliation.setText(
                self.tr("{n} difference(s) with the hospital system:").format(n=len(report.mismatches))
            )
            lines = [f"{self.mismatch_name(m.kind)}  …{m.key[-8:]}" for m in report.mismatches[:8]]
            self.mismatches.setText("\n".join(lines))
        exported = f.exported if f else None
        self.files.setText(self.tr("Saved to {path}").format(path=exported.csv_path) if exported else "")
        state = f.print_state if f else PrintState.NONE
        self.bar.setVisible(state is PrintState.PRINTING)
        self.reprint.setText(self.tr("Print the report again"))
        self.reprint.setVisible(state is PrintState.FAILED)
        self.done.setText(self.tr("Sign out"))
