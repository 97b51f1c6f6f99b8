"""The payment-code step every paying flow shares: what is paid, how to open the code, the wait."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

from kiosk_app.controller import KioskController
from kiosk_app.screens.base import Screen, View, busy_bar, label, yuan


@dataclass(frozen=True)
class PayView:
    """What one flow's pay step shows."""

    title: str
    lines: tuple[str, ...]  # what is paid for, one label each (the screen's ``lines``)
    amount_cents: int | None  # None: nothing to show yet
    paying: bool  # the code was scanned and is being charged


class CodePayScreen(Screen):
    """Title, what is paid for, the amount; then how to open the payment code, or, while it is
    charged, a busy bar. A subclass says what to show in :meth:`view` (the pay and paying steps
    are one layout)."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None, *, lines: int = 0) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.lines = [label("Subtitle", center=True) for _ in range(lines)]
        self.amount = label("Amount", center=True)
        self.hint = label("Hint", center=True)
        self.steps = label("Subtitle", center=True)
        self.status = label("Hint", center=True)
        self.bar = busy_bar()
        for widget in (self.title, *self.lines, self.amount, self.hint, self.steps):
            self.box.addWidget(widget)
        self.box.addStretch(1)
        self.box.addWidget(self.status)
        self.box.addWidget(self.bar)

    def view(self, flow: Any, view: View) -> PayView:
        raise NotImplementedError

    def refresh(self, flow: Any, view: View) -> None:
        shown = self.view(flow, view)
        self.title.setText(shown.title)
        for widget, text in zip(self.lines, shown.lines, strict=True):
            widget.setText(text)
        self.amount.setText(yuan(shown.amount_cents) if shown.amount_cents is not None else "")
        # A fixed context, not self.tr(): PySide looks a base class's strings up under the
        # subclass's name, and these five are the same on every pay screen.
        translate = QCoreApplication.translate
        if shown.paying:
            self.hint.setText(translate("CodePayScreen", "Payment in progress. Please keep your phone ready."))
            self.status.setText(translate("CodePayScreen", "Please enter your password on your phone if asked."))
        else:
            self.hint.setText(
                translate(
                    "CodePayScreen",
                    "Open the WeChat or Alipay payment code on your phone and hold it under the scanner.",
                )
            )
            self.status.setText(translate("CodePayScreen", "Waiting for the code…"))
        self.steps.setText(translate("CodePayScreen", "WeChat: Me → Pay → Money   ·   Alipay: Pay / Receive"))
        self.steps.setVisible(not shown.paying)
        self.bar.setVisible(shown.paying)
