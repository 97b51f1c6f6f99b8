"""Bill payment screens: the unpaid items, the shares, paying by code / QR / prepaid account, the result."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QPushButton, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.features.bills.flow import PAYING, BillsFlow, Outcome, PrintState
from kiosk_app.features.bills.qr_view import QrCodeView
from kiosk_app.screens.base import Screen, View, busy_bar, label, yuan
from kiosk_app.screens.choice import ChoiceScreen
from kiosk_app.screens.code_pay import CodePayScreen, PayView
from kiosk_app.screens.confirm import summary_card
from kiosk_app.screens.print_status import PrintStatus, PrintWords
from sync.client import Bill, BillLock

# Read by lupdate; translated where the home tile is drawn.
TILE = (
    QT_TRANSLATE_NOOP("features", "Pay bills"),
    QT_TRANSLATE_NOOP("features", "Prescriptions and tests"),
)


def tile() -> tuple[str, str]:
    # QT_TRANSLATE_NOOP hands back its source text, typed as object in the stubs
    return QCoreApplication.translate("features", str(TILE[0])), QCoreApplication.translate("features", str(TILE[1]))


def _event(controller: KioskController, event: Callable[[BillsFlow], list[Any]]) -> None:
    controller.feature_event("bills", event)


def _flow(flow: Any) -> BillsFlow | None:
    return flow if isinstance(flow, BillsFlow) else None


class BillWords:
    """Words shared by the screens, in one translation context of their own ("BillWords")."""

    @staticmethod
    def kind(kind: str) -> str:
        return {
            "prescription": QCoreApplication.translate("BillWords", "Prescription"),
            "lab": QCoreApplication.translate("BillWords", "Lab test"),
            "imaging": QCoreApplication.translate("BillWords", "Imaging"),
            "treatment": QCoreApplication.translate("BillWords", "Treatment"),
        }.get(kind, kind)

    @staticmethod
    def method(method: str) -> str:
        return {
            "code": QCoreApplication.translate("BillWords", "Payment code"),
            "wechat": QCoreApplication.translate("BillWords", "WeChat QR code"),
            "alipay": QCoreApplication.translate("BillWords", "Alipay QR code"),
            "account": QCoreApplication.translate("BillWords", "Prepaid account"),
            "covered": QCoreApplication.translate("BillWords", "Medical insurance"),
        }.get(method, method)

    @staticmethod
    def uninsured() -> str:
        return QCoreApplication.translate(
            "BillWords",
            "Identified without an insurance card: everything is self-paid. To use your medical insurance, "
            "start again with your insurance card or e-voucher.",
        )

    @staticmethod
    def shares(lock: BillLock | None) -> list[tuple[str, str]]:
        return [
            (QCoreApplication.translate("BillWords", "Total"), yuan(lock.total_cents) if lock else ""),
            (
                QCoreApplication.translate("BillWords", "Medical insurance pays"),
                yuan(lock.insurance_cents or 0) if lock else "",
            ),
            (QCoreApplication.translate("BillWords", "You pay"), yuan(lock.self_pay_cents or 0) if lock else ""),
        ]


def _fill(cells: list[tuple[Any, Any]], rows: list[tuple[str, str]]) -> None:
    for (key, value), (k, v) in zip(cells, rows, strict=True):
        key.setText(k)
        value.setText(v)


class BillListScreen(ChoiceScreen):
    """The unpaid items, each a big toggle (all selected at first), the selected total and Pay."""

    feature = "bills"

    columns = 1
    per_page = 4
    per_page_elderly = 3

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.hint = label("Hint")
        self.total = label("BigNumber")
        self.pay_button = QPushButton()
        self.pay_button.setObjectName("Primary")
        self.pay_button.clicked.connect(lambda: _event(controller, lambda f: f.confirm_selection()))
        self.box.addWidget(self.hint)
        self.box.addWidget(self.total)
        self.box.addWidget(self.pay_button)

    def items(self, flow: Any) -> Sequence[Any]:
        f = _flow(flow)
        return f.bills if f is not None else ()

    def describe(self, item: Bill, view: View) -> tuple[str, bool]:
        names = "、" if view.language == "zh_CN" else ", "
        content = names.join(view.pick(i.name_zh, i.name_en) for i in item.items[:3])
        if len(item.items) > 3:
            content += " …"
        mark = "☑" if item.bill_id in self._selected else "☐"
        head = f"{mark}  {yuan(item.total_cents)}  ·  {BillWords.kind(item.kind)}"
        title = view.pick(item.title_zh, item.title_en)
        if item.status == "locked":
            # Held by a payment in progress (another kiosk, the window, or a session just left).
            until = _hhmm(item.locked_until)
            note = self.tr("Being paid elsewhere; try again after {time}").format(time=until)
            return f"{head}\n{title}\n{note}", False
        # Elderly mode: larger type, so two lines (the amount and what it is for) and not the item list.
        text = f"{head}\n{title}" if view.elderly else f"{head}\n{title}\n{content}"
        return text, item.status == "unpaid"

    def choose(self, item: Any) -> Callable[[Any], list[Any]]:
        return lambda f: f.toggle(item.bill_id)

    def texts(self, flow: Any, view: View) -> tuple[str, str, str, str, str]:
        f = _flow(flow)
        who = f.patient.name_masked if f is not None and f.patient else ""
        if flow.busy:
            subtitle = self.tr("Looking up your bills…")
        elif f is not None and f.loaded and not f.bills:
            subtitle = self.tr("Patient: {name}. There is nothing to pay.").format(name=who)
        else:
            subtitle = self.tr("Patient: {name}. Touch an item to leave it out or put it back.").format(name=who)
        return (
            self.tr("Bills to pay"),
            subtitle,
            self.tr("‹ Previous"),
            self.tr("Next ›"),
            self.tr("Page {page} of {pages}"),
        )

    def refresh(self, flow: Any, view: View) -> None:
        f = _flow(flow)
        self._selected = f.selected if f is not None else set()
        super().refresh(flow, view)
        size = self._last[1]
        for i, button in enumerate(self.buttons):
            index = self.page * size + i
            button.setCheckable(True)
            button.setChecked(index < len(self._items) and self._items[index].bill_id in self._selected)
            _elide_lines(button)
        count = len(f.selection) if f is not None else 0
        self.total.setText(
            self.tr("{n} selected: {amount}").format(n=count, amount=yuan(f.selected_total)) if f and f.bills else ""
        )
        self.hint.setText(BillWords.uninsured() if f is not None and f.bills and not f.insured else "")
        self.hint.setVisible(bool(self.hint.text()))
        self.pay_button.setText(self.tr("Pay the selected items"))
        self.pay_button.setVisible(bool(f is not None and f.bills))
        self.pay_button.setEnabled(bool(f is not None and f.selection and not flow.busy))


class PresettleScreen(Screen):
    """The pre-settlement: what the insurance pays and what is left, then how to pay it."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title")
        self.what = label("Subtitle")
        self.card, self.cells = summary_card(2)
        self.you_pay = label("Subtitle", center=True)
        self.amount = label("Amount", center=True)
        self.hint = label("Hint")
        self.held = label("Subtitle")
        self.bar = busy_bar()
        self.code_button = QPushButton()
        self.code_button.setObjectName("Primary")
        self.code_button.clicked.connect(lambda: _event(controller, lambda f: f.choose_code()))
        self.wechat_button, self.alipay_button, self.account_button = QPushButton(), QPushButton(), QPushButton()
        self.wechat_button.clicked.connect(lambda: _event(controller, lambda f: f.choose_qr("wechat")))
        self.alipay_button.clicked.connect(lambda: _event(controller, lambda f: f.choose_qr("alipay")))
        self.account_button.clicked.connect(lambda: _event(controller, lambda f: f.choose_account()))
        for button in (self.wechat_button, self.alipay_button, self.account_button):
            button.setObjectName("Secondary")
        for widget in (self.title, self.what, self.card, self.you_pay, self.amount, self.hint, self.held):
            self.box.addWidget(widget)
        self.box.addStretch(1)
        self.box.addWidget(self.bar)
        for button in (self.code_button, self.wechat_button, self.alipay_button, self.account_button):
            self.box.addWidget(button)

    def refresh(self, flow: Any, view: View) -> None:
        f = _flow(flow)
        lock = f.lock if f is not None else None
        self.title.setText(self.tr("Amount to pay"))
        titles = [view.pick(b.title_zh, b.title_en) for b in lock.bills] if lock else []
        self.what.setText(" · ".join(titles))
        # Room for the amounts: in large type, or under a message (a refused code, paper out),
        # what the bills are and the self-pay note step aside; the patient has read both already.
        banner = bool(flow.message)
        self.what.setVisible(not view.elderly and not banner)
        _fill(self.cells, BillWords.shares(lock)[:2])
        self.you_pay.setText(BillWords.shares(lock)[2][0])
        self.amount.setText(yuan(lock.self_pay_cents or 0) if lock else "")
        self.hint.setText(BillWords.uninsured() if f is not None and lock and not f.insured else "")
        self.hint.setVisible(bool(self.hint.text()) and not banner)
        until = _hhmm(lock.locked_until) if lock else ""
        self.held.setText(self.tr("These items are held for you until {time}.").format(time=until) if until else "")
        busy = flow.busy or lock is None
        self.bar.setVisible(flow.busy)
        self.code_button.setText(self.tr("Scan my payment code"))
        self.wechat_button.setText(self.tr("Show a WeChat QR code"))
        self.alipay_button.setText(self.tr("Show an Alipay QR code"))
        self.account_button.setText(self.tr("Pay from my prepaid account"))
        self.account_button.setVisible(bool(f is not None and f.account_offered))
        for button in (self.code_button, self.wechat_button, self.alipay_button, self.account_button):
            button.setEnabled(not busy)


class PayCodeScreen(CodePayScreen):
    """Hold the phone's payment code under the scanner; then the wait while it is charged."""

    def view(self, flow: Any, view: View) -> PayView:
        f = _flow(flow)
        lock = f.lock if f is not None else None
        amount = (lock.self_pay_cents or 0) if lock else None
        return PayView(self.tr("Pay by payment code"), (), amount, flow.step == PAYING)


class QrScreen(Screen):
    """The QR code to scan with the phone, the time left, and Cancel."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.amount = label("Amount", center=True)
        self.code = QrCodeView()
        self.status = label("Hint", center=True)
        self.countdown = label("BigNumber", center=True)
        self.bar = busy_bar()
        self.cancel_button = QPushButton()
        self.cancel_button.setObjectName("Secondary")
        self.cancel_button.clicked.connect(lambda: _event(controller, lambda f: f.cancel_qr()))
        top: tuple[QWidget, ...] = (self.title, self.amount)
        bottom: tuple[QWidget, ...] = (self.status, self.countdown, self.bar, self.cancel_button)
        for widget in top:
            self.box.addWidget(widget)
        self.box.addWidget(self.code, 1)
        for widget in bottom:
            self.box.addWidget(widget)
        self._left: float | None = None
        self._left_at = 0.0
        self._live = False
        self._ticker = QTimer(self)
        self._ticker.setInterval(500)
        self._ticker.timeout.connect(self._tick)

    def refresh(self, flow: Any, view: View) -> None:
        f = _flow(flow)
        qr = f.qr if f is not None else None
        provider = f.method if f is not None else ""
        lock = f.lock if f is not None else None
        self.title.setText(
            self.tr("Scan with WeChat") if provider == "wechat" else self.tr("Scan with Alipay") if provider else ""
        )
        self.amount.setText(yuan(lock.self_pay_cents or 0) if lock else "")
        live = qr is not None and not qr.is_final and bool(qr.code_url)
        self._live = live
        self.code.set_text(qr.code_url or "" if live and qr is not None else "")
        self.code.setVisible(live)
        if qr is None:
            status = self.tr("Making your QR code…")
        elif qr.qr_state == "scanned":
            status = self.tr("Scanned. Please confirm the payment on your phone.")
        elif (f is not None and f.cancelling) or qr.qr_state == "closing":
            status = self.tr("Cancelling…")
        else:
            status = self.tr("Open WeChat or Alipay, tap Scan, and point the phone at this code.")
        self.status.setText(status)
        left = f.qr_seconds_left if f is not None and live else None
        if left != self._left:
            self._left, self._left_at = left, time.monotonic()
        self._tick()
        if live and self.isVisible():
            self._ticker.start()
        else:
            self._ticker.stop()
        self.bar.setVisible(bool(flow.busy or (f is not None and f.cancelling)))
        self.cancel_button.setText(self.tr("Cancel"))
        self.cancel_button.setEnabled(live and not (f is not None and f.cancelling))

    def showEvent(self, event: QShowEvent) -> None:
        if self._left is not None:
            self._ticker.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        # The countdown only runs while it is seen: a hidden screen (the next step, a closed window)
        # must not keep a timer calling into it.
        self._ticker.stop()
        super().hideEvent(event)

    def _tick(self) -> None:
        if self._left is None:
            self.countdown.setText("")
            return
        left = max(0, int(self._left - (time.monotonic() - self._left_at)))
        # A code whose time is up is not shown any more: it could no longer be paid.
        self.code.setVisible(self._live and left > 0)
        self.countdown.setText(
            self.tr("Time left: {m}:{s:02d}").format(m=left // 60, s=left % 60) if left else self.tr("Time is up")
        )


class AccountScreen(Screen):
    """Paying from the prepaid account: the amount and one confirming touch (identity was by face)."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.amount = label("Amount", center=True)
        self.hint = label("Hint", center=True)
        self.bar = busy_bar()
        self.button = QPushButton()
        self.button.setObjectName("Primary")
        self.button.clicked.connect(lambda: _event(controller, lambda f: f.confirm_account()))
        for widget in (self.title, self.amount, self.hint):
            self.box.addWidget(widget)
        self.box.addStretch(1)
        self.box.addWidget(self.bar)
        self.box.addWidget(self.button)

    def refresh(self, flow: Any, view: View) -> None:
        f = _flow(flow)
        lock = f.lock if f is not None else None
        amount = yuan(lock.self_pay_cents or 0) if lock else ""
        self.title.setText(self.tr("Pay from your prepaid account"))
        self.amount.setText(amount)
        self.hint.setText(
            self.tr(
                "You confirmed who you are with your face. The amount is taken from your prepaid account; "
                "the receipt shows it."
            )
        )
        self.bar.setVisible(flow.busy)
        self.button.setText(self.tr("Pay {amount} from my account").format(amount=amount))
        self.button.setEnabled(not flow.busy and lock is not None)


class BillResultScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.card, self.cells = summary_card(4)
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
        outcome = f.outcome if f is not None else None
        self.title.setText(
            {
                Outcome.PAID: self.tr("Paid"),
                Outcome.COVERED: self.tr("Nothing to pay"),
                Outcome.UNKNOWN: self.tr("Payment being confirmed"),
                Outcome.CASHIER: self.tr("Please pay at the cashier window"),
                None: "",
            }[outcome]
        )
        lock = f.lock if f is not None else None
        paid = f is not None and f.paid and lock is not None
        rows = [*BillWords.shares(lock), (self.tr("Paid by"), BillWords.method(f.method) if f else "")]
        _fill(self.cells, rows)
        self.card.setVisible(paid)
        words = PrintWords(
            self.tr("Printing your receipt…"),
            self.tr("Please take your receipt from the slot below."),
            self.tr("The receipt could not be printed. Your payment is recorded."),
            self.tr("Try printing the receipt again"),
        )
        self.printing.show(f.print_state if f is not None else PrintState.NONE, words)
        self.done.setText(self.tr("Finish"))


def _elide_lines(button: QPushButton) -> None:
    """Each line of a choice cut to the button's width with "…": a long title never hides the amount."""
    lines = button.text().split("\n")
    room = button.width() - 3 * button.fontMetrics().averageCharWidth()  # the padding either side
    if room <= 0:
        return
    metrics = button.fontMetrics()
    button.setText("\n".join(metrics.elidedText(line, Qt.TextElideMode.ElideRight, room) for line in lines))


def _hhmm(iso: str | None) -> str:
    """A server timestamp as the kiosk's local wall clock, HH:MM."""
    from datetime import datetime

    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%H:%M")
    except ValueError:
        return ""
