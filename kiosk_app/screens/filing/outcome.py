"""The filing's end points: a failed face check, an existing record, and the new record."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QPushButton, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.flows.filing import mask_visit_card
from kiosk_app.flows.printing import PrintState
from kiosk_app.screens.base import Screen, View, label
from kiosk_app.screens.confirm import compact, summary_card
from kiosk_app.screens.home import Tile
from kiosk_app.screens.print_status import PrintStatus, PrintWords


class FaceFailedScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.hint = label("Hint", center=True)
        self.retry_button = QPushButton()
        self.retry_button.setObjectName("Primary")
        self.retry_button.clicked.connect(lambda: controller.filing_event(lambda f: f.retry()))
        self.staff_button = Tile("Secondary")
        self.staff_button.clicked.connect(lambda: controller.filing_event(lambda f: f.choose_staff()))
        self.box.addWidget(self.title)
        self.box.addWidget(self.hint)
        self.box.addStretch(1)
        self.box.addWidget(self.retry_button)
        self.box.addWidget(self.staff_button)

    def refresh(self, flow: Any, view: View) -> None:
        self.title.setText(self.tr("Your face could not be verified"))
        left = flow.retries + 1 - flow.attempts
        if flow.can_retry:
            self.hint.setText(
                self.tr("You can try again ({n} left), or the staff check your ID card at the service window.").format(
                    n=left
                )
            )
        else:
            self.hint.setText(
                self.tr("Please continue without the face check: the staff check your ID card at the service window.")
            )
        self.retry_button.setText(self.tr("Try again"))
        self.retry_button.setVisible(flow.can_retry)
        self.staff_button.set_texts(self.tr("No face"), self.tr("Staff check at the service window"))


class AlreadyFiledScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.number_label = label("Subtitle", center=True)
        self.number = label("BigNumber", center=True)
        self.hint = label("Hint", center=True)
        self.done = QPushButton()
        self.done.setObjectName("Primary")
        self.done.clicked.connect(controller.wipe)
        for w in (self.title, self.number_label, self.number, self.hint):
            self.box.addWidget(w)
        self.box.addStretch(1)
        self.box.addWidget(self.done)

    def refresh(self, flow: Any, view: View) -> None:
        lookup = flow.lookup
        number = mask_visit_card(lookup.visit_card_no) if lookup is not None else ""
        self.title.setText(self.tr("You already have a record here"))
        self.number_label.setText(self.tr("Visit card number"))
        self.number.setText(number)
        for w in (self.number_label, self.number):
            w.setVisible(bool(number))
        self.hint.setText(self.tr("No need to file again: register or pay with your ID card."))
        self.done.setText(self.tr("Back to the start"))


class FilingResultScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.number_label = label("Subtitle", center=True)
        self.number = label("BigNumber", center=True)
        self.card, self.cells = summary_card(2)
        self.printing = PrintStatus(lambda: controller.filing_event(lambda f: f.reprint()))
        self.print_status, self.reprint = self.printing.status, self.printing.retry
        self.done = QPushButton()
        self.done.setObjectName("Primary")
        self.done.clicked.connect(controller.wipe)
        for w in (self.title, self.number_label, self.number, self.card):
            self.box.addWidget(w)
        self.box.addStretch(1)
        self.printing.add_to(self.box)
        self.box.addWidget(self.done)

    def refresh(self, flow: Any, view: View) -> None:
        filed = flow.filed
        pending = filed is not None and filed.pending
        self.title.setText(self.tr("Record pending confirmation") if pending else self.tr("Your record is ready"))
        self.number_label.setText(self.tr("Provisional number") if pending else self.tr("Your visit card number"))
        self.number.setText(filed.visit_card_no if filed is not None else "")
        check = (
            self.tr("Face verified") if flow.verification == "face" else self.tr("Staff check at the service window")
        )
        rows = [
            (self.tr("Patient"), f"{flow.name_masked}  {flow.id_masked}" if flow.name_masked else ""),
            (self.tr("Identity check"), check if flow.verification else ""),
        ]
        for (key, value), (k, v) in zip(self.cells, rows, strict=True):
            key.setText(k)
            value.setText(v)
        for w in (self.number_label, self.number, self.card):
            w.setVisible(filed is not None)
        compact(self.box, self.title, self.card, flow.print_state is PrintState.FAILED)  # a banner, a retry
        words = PrintWords(
            self.tr("Printing your slip…"),
            self.tr("Please take your slip from the slot below."),
            self.tr("The slip could not be printed. Your record is kept."),
            self.tr("Try printing the slip again"),
        )
        self.printing.show(flow.print_state, words)
        self.done.setText(self.tr("Finish"))
