"""退号 screens: the patient's paid registrations, the confirmation, the wait, the result."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtWidgets import QPushButton, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.features.refund.flow import Outcome, PrintState, RefundFlow
from kiosk_app.screens.base import Screen, View, busy_bar, label, yuan
from kiosk_app.screens.choice import ChoiceScreen
from kiosk_app.screens.confirm import summary_card
from kiosk_app.screens.print_status import PrintStatus, PrintWords
from sync.client import RefundableRegistration

# Read by lupdate; translated where the home tile is drawn.
TILE = (
    QT_TRANSLATE_NOOP("features", "Cancel visit"),  # short: it must fit a tile in large type
    QT_TRANSLATE_NOOP("features", "Hand it back, fee refunded"),
)


def tile() -> tuple[str, str]:
    # QT_TRANSLATE_NOOP hands back its source text, typed as object in the stubs
    return QCoreApplication.translate("features", str(TILE[0])), QCoreApplication.translate("features", str(TILE[1]))


def _event(controller: KioskController, event: Callable[[RefundFlow], list[Any]]) -> None:
    controller.feature_event("refund", event)


def channel_name(channel: str | None) -> str:
    """Where the money goes back, in words."""
    if channel == "wechat":
        return QCoreApplication.translate("RefundChannel", "WeChat Pay (the account that paid)")
    if channel == "alipay":
        return QCoreApplication.translate("RefundChannel", "Alipay (the account that paid)")
    return QCoreApplication.translate("RefundChannel", "The account that paid")


class RefundListScreen(ChoiceScreen):
    feature = "refund"
    per_page = 4
    per_page_elderly = 3
    columns = 1

    def items(self, flow: Any) -> Sequence[Any]:
        return flow.items if isinstance(flow, RefundFlow) else ()

    def describe(self, item: RefundableRegistration, view: View) -> tuple[str, bool]:
        # Short lines: a choice button does not wrap, and elderly mode has large type.
        reg = item.registration
        when = f"{reg.date[5:]}  {reg.start}–{reg.end}  {yuan(item.refundable_cents)}"
        department = view.pick(reg.department_name_zh, reg.department_name_en)
        who = f"{department} · {view.pick(reg.doctor_name_zh, reg.doctor_name_en)}"
        if item.refundable:
            return f"{when}\n{who}", True
        why = {
            "refund_window_closed": self.tr("Too late here: ask the cashier"),
            "already_checked_in": self.tr("Visit begun: ask the cashier"),
        }.get(item.blocked_reason or "", self.tr("Not here: ask the cashier"))
        return f"{when}\n{who}\n{why}", False

    def choose(self, item: Any) -> Callable[[Any], list[Any]]:
        return lambda f: f.choose(item)

    def texts(self, flow: Any, view: View) -> tuple[str, str, str, str, str]:
        if flow.busy:
            subtitle = self.tr("Looking up your registrations…")
        elif getattr(flow, "loaded", False) and not flow.items:
            subtitle = self.tr("You have no paid registration from today on.")
        else:
            subtitle = self.tr("Choose the registration to cancel. The fee goes back to the account that paid.")
        return (
            self.tr("Cancel a registration"),
            subtitle,
            self.tr("‹ Previous"),
            self.tr("Next ›"),
            self.tr("Page {page} of {pages}"),
        )


class RefundConfirmScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title")
        self.card, self.cells = summary_card(6)
        self.hint = label("Hint")
        self.button = QPushButton()
        self.button.setObjectName("Primary")
        self.button.clicked.connect(lambda: _event(controller, lambda f: f.confirm()))
        for widget in (self.title, self.card, self.hint):
            self.box.addWidget(widget)
        self.box.addStretch(1)
        self.box.addWidget(self.button)

    def refresh(self, flow: Any, view: View) -> None:
        self.title.setText(self.tr("Cancel this registration?"))
        item = flow.chosen if isinstance(flow, RefundFlow) else None
        p = flow.patient
        reg = item.registration if item is not None else None
        rows = [
            (self.tr("Patient"), f"{p.name_masked}  {p.id_masked}" if p else ""),
            (self.tr("Department"), view.pick(reg.department_name_zh, reg.department_name_en) if reg else ""),
            (self.tr("Doctor"), view.pick(reg.doctor_name_zh, reg.doctor_name_en) if reg else ""),
            (self.tr("Time"), f"{reg.date}  {reg.start} – {reg.end}" if reg else ""),
            (self.tr("Refund"), yuan(item.refundable_cents) if item else ""),
            (self.tr("Goes back to"), channel_name(item.channel) if item else ""),
        ]
        for (key, value), (k, v) in zip(self.cells, rows, strict=True):
            key.setText(k)
            value.setText(v)
        deadline = item.refund_deadline.replace("T", " ") if item else ""
        self.hint.setText(
            self.tr("Your place is given up at once. Cancelling here is possible until {deadline}.").format(
                deadline=deadline
            )
        )
        self.button.setText(self.tr("Cancel it and refund the fee"))
        self.button.setEnabled(not flow.busy)


class RefundingScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.hint = label("Subtitle", center=True)
        self.bar = busy_bar()
        self.box.addStretch(1)
        for widget in (self.title, self.hint, self.bar):
            self.box.addWidget(widget)
        self.box.addStretch(2)

    def refresh(self, flow: Any, view: View) -> None:
        self.title.setText(self.tr("Cancelling and refunding…"))
        self.hint.setText(self.tr("Please wait a moment. Do not leave yet."))
        self.bar.setVisible(flow.busy)


class RefundResultScreen(Screen):
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
        outcome = flow.outcome if isinstance(flow, RefundFlow) else None
        self.title.setText(
            {
                Outcome.REFUNDED: self.tr("Registration cancelled, fee refunded"),
                Outcome.PENDING: self.tr("Registration cancelled, refund on its way"),
                Outcome.FAILED: self.tr("Registration cancelled; please collect the refund at the cashier"),
                Outcome.UNKNOWN: self.tr("Registration cancelled; the refund is being confirmed"),
                None: "",
            }[outcome]
        )
        item = flow.chosen if isinstance(flow, RefundFlow) else None
        refund = flow.refund if isinstance(flow, RefundFlow) else None
        amount = refund.amount_cents if refund is not None else item.refundable_cents if item else 0
        channel = refund.channel if refund is not None else item.channel if item else None
        rows = [
            (self.tr("Registration"), item.registration.reg_no if item else ""),
            (self.tr("Refund"), yuan(amount) if item else ""),
            (self.tr("Goes back to"), channel_name(channel) if item else ""),
        ]
        for (key, value), (k, v) in zip(self.cells, rows, strict=True):
            key.setText(k)
            value.setText(v)
        self.card.setVisible(item is not None)
        words = PrintWords(
            self.tr("Printing your slip…"),
            self.tr("Please take your slip from the slot below."),
            self.tr("The slip could not be printed. Your registration is cancelled."),
            self.tr("Try printing the slip again"),
        )
        self.printing.show(flow.print_state if isinstance(flow, RefundFlow) else PrintState.NONE, words)
        self.done.setText(self.tr("Finish"))
