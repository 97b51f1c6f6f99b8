"""预交金充值 screens: the balance, the amount (big buttons and a keypad), the payment code, the result."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtWidgets import QGridLayout, QPushButton, QSizePolicy, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.features.topup.flow import PAYING, Outcome, PrintState, TopUpFlow
from kiosk_app.screens.base import Screen, View, busy_bar, label, yuan
from kiosk_app.screens.code_pay import CodePayScreen, PayView
from kiosk_app.screens.confirm import summary_card
from kiosk_app.screens.print_status import PrintStatus, PrintWords
from sync.client import AccountEntry

# Read by lupdate; translated where the home tile is drawn.
TILE = (
    QT_TRANSLATE_NOOP("features", "Prepaid account"),  # short: it must fit a tile in large type
    QT_TRANSLATE_NOOP("features", "Balance and top-up"),
)

RECENT_SHOWN = 3  # the latest entries under the balance: enough to recognise, short enough to read


def tile() -> tuple[str, str]:
    return QCoreApplication.translate("features", str(TILE[0])), QCoreApplication.translate("features", str(TILE[1]))


def _event(controller: KioskController, event: Callable[[TopUpFlow], list[Any]]) -> None:
    controller.feature_event("topup", event)


def _flow(flow: Any) -> TopUpFlow | None:
    # Called with a fresh flow of another kind when a session is wiped: show nothing then.
    return flow if isinstance(flow, TopUpFlow) else None


def _local_day(utc_iso: str) -> str:
    """The server stamps UTC; the patient reads the local date."""
    try:
        return datetime.fromisoformat(utc_iso.replace("Z", "+00:00")).astimezone().date().isoformat()
    except ValueError:
        return utc_iso[:10]


def _key_button(text: str, name: str = "Key") -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return button


class TopUpBalanceScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.patient = label("Subtitle", center=True)
        self.balance_label = label("Subtitle", center=True)
        self.balance = label("BigNumber", center=True)
        self.card, self.cells = summary_card(RECENT_SHOWN)
        self.status = label("Hint", center=True)
        self.bar = busy_bar()
        self.retry = QPushButton()
        self.retry.setObjectName("Secondary")
        self.retry.clicked.connect(lambda: _event(controller, lambda f: f.reload()))
        self.top_up = QPushButton()
        self.top_up.setObjectName("Primary")
        self.top_up.clicked.connect(lambda: _event(controller, lambda f: f.choose_top_up()))
        widgets: list[QWidget] = [self.title, self.patient, self.balance_label, self.balance, self.card]
        for widget in widgets:
            self.box.addWidget(widget)
        self.box.addStretch(1)
        for widget in (self.status, self.bar, self.retry, self.top_up):
            self.box.addWidget(widget)

    def _entry(self, entry: AccountEntry) -> tuple[str, str]:
        kind = {
            "top_up": self.tr("Top-up"),
            "bill_payment": self.tr("Bill paid"),
            "refund": self.tr("Refund"),
        }.get(entry.kind, entry.kind)
        sign = "+" if entry.amount_cents > 0 else "−"
        return f"{_local_day(entry.created_at)}  {kind}", f"{sign}{yuan(abs(entry.amount_cents))}"

    def refresh(self, flow: Any, view: View) -> None:
        f = _flow(flow)
        account = f.account if f else None
        p = flow.patient
        self.title.setText(self.tr("Prepaid account"))
        self.patient.setText(f"{p.name_masked}  {p.id_masked}" if p else "")
        self.balance_label.setText(self.tr("Balance"))
        self.balance.setText(yuan(account.balance_cents) if account else "")
        for w in (self.balance_label, self.balance):
            w.setVisible(account is not None)
        entries = account.entries[:RECENT_SHOWN] if account else ()
        for i, (key, value) in enumerate(self.cells):
            k, v = self._entry(entries[i]) if i < len(entries) else ("", "")
            key.setText(k)
            value.setText(v)
            key.setVisible(bool(k))
            value.setVisible(bool(k))
        self.card.setVisible(bool(entries))
        if flow.busy:
            status = self.tr("Looking up your account…")
        elif f is not None and f.unavailable:
            status = self.tr("Top-up is not possible while the hospital system is offline. Please try again later.")
        elif account is not None and not entries:
            status = self.tr("No payments or top-ups yet.")
        else:
            status = ""
        self.status.setText(status)
        self.bar.setVisible(flow.busy)
        self.retry.setText(self.tr("Try again"))
        self.retry.setVisible(f is not None and f.unavailable and not flow.busy)
        self.top_up.setText(self.tr("Top up"))
        self.top_up.setVisible(account is not None)
        self.top_up.setEnabled(not flow.busy)


class TopUpAmountScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.box.setSpacing(12)
        self.title = label("Title", center=True)
        self.hint = label("Hint", center=True)
        presets = QGridLayout()
        presets.setSpacing(12)
        self.preset_buttons: dict[int, QPushButton] = {}
        for i, y in enumerate((100, 200, 500, 1000)):
            button = _key_button(f"¥{y}")  # big and whole: what an elderly patient reads at a glance
            button.clicked.connect(lambda _=False, c=y * 100: _event(controller, lambda f: f.choose_amount(c)))
            self.preset_buttons[y * 100] = button
            presets.addWidget(button, i // 2, i % 2)
        self.other = label("Subtitle", center=True)
        self.display = label("PhoneDisplay", wrap=False, center=True)
        keys = QGridLayout()
        keys.setSpacing(10)
        self.digit_buttons: dict[str, QPushButton] = {}
        for i, digit in enumerate("1234567890"):
            button = _key_button(digit)
            button.clicked.connect(lambda _=False, d=digit: _event(controller, lambda f: f.key_digit(d)))
            self.digit_buttons[digit] = button
            keys.addWidget(button, i // 5, i % 5)
        self.delete_button = _key_button("⌫")
        self.delete_button.clicked.connect(lambda: _event(controller, lambda f: f.key_delete()))
        self.ok_button = _key_button("", "KeyOk")
        self.ok_button.clicked.connect(lambda: _event(controller, lambda f: f.key_ok()))
        keys.addWidget(self.delete_button, 2, 0, 1, 2)
        keys.addWidget(self.ok_button, 2, 2, 1, 3)
        for widget in (self.title, self.hint):
            self.box.addWidget(widget)
        self.box.addLayout(presets)
        self.box.addWidget(self.other)
        self.box.addWidget(self.display)
        self.box.addLayout(keys)
        self.box.addStretch(1)

    def refresh(self, flow: Any, view: View) -> None:
        f = _flow(flow)
        low, high = (f.min_cents, f.max_cents) if f else (0, 0)
        self.title.setText(self.tr("Choose an amount"))
        self.hint.setText(self.tr("From {low} to {high} per top-up.").format(low=yuan(low), high=yuan(high)))
        allowed = set(f.presets_cents) if f else set()
        for cents, button in self.preset_buttons.items():
            button.setVisible(cents in allowed)
            button.setEnabled(not flow.busy)
        self.other.setText(self.tr("Other amount (whole yuan)"))
        typed = f.typed if f else ""
        self.display.setText(f"¥ {typed}" if typed else "¥ _")
        self.delete_button.setToolTip(self.tr("Delete"))
        self.delete_button.setEnabled(bool(typed))
        self.ok_button.setText(self.tr("Top up"))
        self.ok_button.setEnabled(bool(typed) and not flow.busy)


class TopUpPayScreen(CodePayScreen):
    """The pay step and the wait while paying (two steps, one layout)."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent, lines=1)
        self.what = self.lines[0]

    def view(self, flow: Any, view: View) -> PayView:
        f = _flow(flow)
        p = flow.patient
        what = f"{p.name_masked}  {p.id_masked}" if p else ""
        amount = f.amount_cents if f and f.amount_cents else None
        paying = f is not None and f.step == PAYING
        return PayView(self.tr("Top up the prepaid account"), (what,), amount, paying)


class TopUpResultScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.card, self.cells = summary_card(3)
        self.printing = PrintStatus(lambda: _event(controller, lambda f: f.reprint()))
        self.print_status, self.reprint = self.printing.status, self.printing.retry
        self.done = QPushButton()
        self.done.setObjectName("Primary")
        self.done.clicked.connect(controller.wipe)
        self.box.addWidget(self.title)
        self.box.addWidget(self.card)
        self.box.addStretch(1)
        self.printing.add_to(self.box)
        self.box.addWidget(self.done)

    def refresh(self, flow: Any, view: View) -> None:
        f = _flow(flow)
        outcome = f.outcome if f else None
        self.title.setText(
            {
                Outcome.CREDITED: self.tr("Top-up complete"),
                Outcome.UNKNOWN: self.tr("Top-up not confirmed yet"),
                Outcome.OFFLINE: self.tr("Top-up not possible right now"),
                None: "",
            }[outcome]
        )
        credited = f is not None and outcome is Outcome.CREDITED and f.result is not None
        rows = [
            (self.tr("Topped up"), yuan(f.amount_cents) if f and credited else ""),
            (self.tr("New balance"), yuan(f.result.balance_cents) if f and f.result and credited else ""),
            (self.tr("Patient"), f"{flow.patient.name_masked}  {flow.patient.id_masked}" if flow.patient else ""),
        ]
        for (key, value), (k, v) in zip(self.cells, rows, strict=True):
            key.setText(k)
            value.setText(v)
        self.card.setVisible(credited)
        words = PrintWords(
            self.tr("Printing your receipt…"),
            self.tr("Please take your receipt from the slot below."),
            self.tr("The receipt could not be printed. Your top-up is in your account."),
            self.tr("Try printing the receipt again"),
        )
        self.printing.show(f.print_state if f else PrintState.NONE, words)
        self.done.setText(self.tr("Finish"))
