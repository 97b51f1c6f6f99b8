"""Reprint screens: the patient's recent slips on this kiosk, then the marked copy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtWidgets import QPushButton, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.features.reprint.flow import PrintState, ReprintFlow
from kiosk_app.features.reprint.slip import local_time
from kiosk_app.screens.base import Screen, View, busy_bar, label
from kiosk_app.screens.choice import ChoiceScreen
from offline_cache.reprints import MAX_REPRINTS, PrintRecord

TILE = (
    QT_TRANSLATE_NOOP("features", "Reprint"),  # short: it must fit a tile in large type
    QT_TRANSLATE_NOOP("features", "Your recent slips, marked as copies"),
)


def tile() -> tuple[str, str]:
    # QT_TRANSLATE_NOOP hands back its source text, typed as object in the stubs
    return QCoreApplication.translate("features", str(TILE[0])), QCoreApplication.translate("features", str(TILE[1]))


def _event(controller: KioskController, event: Callable[[ReprintFlow], list[Any]]) -> None:
    controller.feature_event("reprint", event)


def slip_name(record: PrintRecord, view: View) -> str:
    """What kind of slip, in the patient's language (the Chinese name is the title's last line)."""
    zh = record.title.rsplit("\n", 1)[-1]
    names = {
        "registration": QCoreApplication.translate("ReprintSlipName", "Registration receipt"),
        "refund": QCoreApplication.translate("ReprintSlipName", "Refund slip"),
        "filing": QCoreApplication.translate("ReprintSlipName", "Patient record slip"),
    }
    en = names.get(record.kind, "")
    return view.pick(zh, en)


class ReprintListScreen(ChoiceScreen):
    feature = "reprint"
    per_page = 5
    per_page_elderly = 3
    columns = 1

    def items(self, flow: Any) -> Sequence[Any]:
        return flow.records if isinstance(flow, ReprintFlow) else ()

    def describe(self, item: PrintRecord, view: View) -> tuple[str, bool]:
        # The slip's number (its first line) identifies it; no identity data is shown here. Short
        # lines: a choice button does not wrap, and elderly mode has large type.
        number = item.lines[0][1] if item.lines else ""
        head = f"{local_time(item.printed_at)[5:]}  {slip_name(item, view)}\n{number}"
        if item.reprints_left <= 0:
            return f"{head}\n" + self.tr("No copies left: ask the staff"), False
        return f"{head}\n" + self.tr("Copies left: {n}").format(n=item.reprints_left), True

    def choose(self, item: Any) -> Callable[[Any], list[Any]]:
        return lambda f: f.choose(item)

    def texts(self, flow: Any, view: View) -> tuple[str, str, str, str, str]:
        if flow.busy:
            subtitle = (
                self.tr("Printing a copy…") if getattr(flow, "chosen", None) else self.tr("Looking up your slips…")
            )
        elif getattr(flow, "loaded", False) and not flow.records:
            subtitle = self.tr("No slip of yours was printed at this kiosk recently.")
        else:
            subtitle = self.tr("Choose the slip to print again. The copy is marked as a reprint.")
        return (
            self.tr("Reprint a receipt"),
            subtitle,
            self.tr("‹ Previous"),
            self.tr("Next ›"),
            self.tr("Page {page} of {pages}"),
        )


class ReprintDoneScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.detail = label("Subtitle", center=True)
        self.bar = busy_bar()
        self.again = QPushButton()
        self.again.clicked.connect(lambda: _event(controller, lambda f: f.again()))
        self.done = QPushButton()
        self.done.setObjectName("Primary")
        self.done.clicked.connect(controller.wipe)
        self.box.addStretch(1)
        for widget in (self.title, self.detail, self.bar):
            self.box.addWidget(widget)
        self.box.addStretch(1)
        self.box.addWidget(self.again)
        self.box.addWidget(self.done)

    def refresh(self, flow: Any, view: View) -> None:
        state = flow.print_state if isinstance(flow, ReprintFlow) else PrintState.NONE
        self.title.setText(
            {
                PrintState.PRINTING: self.tr("Printing a copy…"),
                PrintState.PRINTED: self.tr("Please take your copy from the slot below"),
                PrintState.FAILED: self.tr("The copy could not be printed"),
                PrintState.NONE: "",
            }[state]
        )
        record = flow.chosen if isinstance(flow, ReprintFlow) else None
        if state is PrintState.PRINTED and record is not None:
            self.detail.setText(
                self.tr("{slip}: copy {n} of {max}, marked REPRINT.").format(
                    slip=slip_name(record, view), n=flow.copy_no, max=MAX_REPRINTS
                )
            )
        else:
            self.detail.setText("")
        self.bar.setVisible(state is PrintState.PRINTING)
        self.again.setText(self.tr("Try printing the copy again"))
        self.again.setVisible(state is PrintState.FAILED and flow.message != "reprint.limit")
        self.done.setText(self.tr("Finish"))
