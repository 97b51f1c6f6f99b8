"""Report printing screens: the list (one big button per report), why another copy, printing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtWidgets import QPushButton, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.features.reports.flow import REPRINT_REASONS, ReportsFlow
from kiosk_app.screens.base import Screen, View, busy_bar, label
from kiosk_app.screens.choice import ChoiceScreen
from sync.client import Report

TILE = (QT_TRANSLATE_NOOP("features", "Print reports"), QT_TRANSLATE_NOOP("features", "Lab and imaging results"))


def tile() -> tuple[str, str]:
    return QCoreApplication.translate("features", str(TILE[0])), QCoreApplication.translate("features", str(TILE[1]))


class ReportListScreen(ChoiceScreen):
    feature = "reports"
    columns = 1
    per_page = 4
    per_page_elderly = 2  # three 3-line entries do not fit beside a long message in large type

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.print_all = QPushButton()
        self.print_all.setObjectName("Primary")
        self.print_all.clicked.connect(lambda: controller.feature_event("reports", lambda f: f.print_all_new()))
        self.box.insertWidget(self.box.indexOf(self.bar) + 1, self.print_all)
        self._flow: ReportsFlow | None = None

    def items(self, flow: Any) -> Sequence[Any]:
        return flow.reports  # the flow's own list: a copy would look new at every refresh and reset the page

    def refresh(self, flow: Any, view: View) -> None:
        self._flow = flow
        super().refresh(flow, view)
        new = len(flow.printable_new)
        self.print_all.setText(self.tr("Print all new reports ({n})").format(n=new))
        self.print_all.setVisible(new >= 2)
        self.print_all.setEnabled(not flow.busy)

    def describe(self, item: Any, view: View) -> tuple[str, bool]:
        report: Report = item
        kind = self.tr("Lab test") if report.kind == "lab" else self.tr("Imaging")
        # Month, day and time: reports are recent, and with the year the line is cut in large type
        ordered = report.ordered_at.replace("T", " ")[5:16]
        when = self.tr("ordered {time}").format(time=ordered)
        first = f"{view.pick(report.title_zh, report.title_en)}\n{kind} · {when}"
        outcome = self._flow.outcomes.get(report.report_id) if self._flow is not None else None
        if report.status != "ready":
            state = self.tr("Not ready yet")
        elif outcome == "printed":
            state = self.tr("Printed ✓ Please take it below")
        elif outcome == "failed":
            state = self.tr("Not printed: touch to try again")
        elif report.print_count:
            state = self.tr("Printed before: touch for a copy")
        else:
            state = self.tr("Ready: touch to print")
        return f"{first}\n{state}", report.status == "ready"

    def choose(self, item: Any) -> Callable[[Any], list[Any]]:
        return lambda f: f.choose(item)

    def texts(self, flow: Any, view: View) -> tuple[str, str, str, str, str]:
        who = flow.patient.name_masked if flow.patient else ""
        return (
            self.tr("Your reports"),
            self.tr("Patient: {name}").format(name=who),
            self.tr("Previous"),
            self.tr("Next"),
            self.tr("Page {page} of {pages}"),
        )


class ReasonScreen(Screen):
    """Another copy of a report that already counts: the patient says why (recorded with the reprint)."""

    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.what = label("Subtitle", center=True)
        self.question = label("Hint", center=True)
        self.bar = busy_bar()
        self.reason_buttons: dict[str, QPushButton] = {}
        for w in (self.title, self.what, self.question):
            self.box.addWidget(w)
        for reason in REPRINT_REASONS:
            button = QPushButton()
            button.setObjectName("Secondary")
            button.clicked.connect(
                lambda _=False, r=reason: controller.feature_event("reports", lambda f: f.choose_reason(r))
            )
            self.reason_buttons[reason] = button
            self.box.addWidget(button)
        self.box.addStretch(1)
        self.box.addWidget(self.bar)

    def refresh(self, flow: ReportsFlow, view: View) -> None:
        self.title.setText(self.tr("This report was printed before"))
        report = flow.chosen
        self.what.setText(view.pick(report.title_zh, report.title_en) if report is not None else "")
        self.question.setText(self.tr("Why do you need another copy?"))
        texts = {
            "lost": self.tr("I lost my copy"),
            "damaged": self.tr("My copy is damaged"),
            "for_doctor": self.tr("I need a copy for another doctor"),
        }
        for reason, button in self.reason_buttons.items():
            button.setText(texts[reason])
            button.setEnabled(not flow.busy)
        self.bar.setVisible(flow.busy)


class PrintingScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.what = label("Subtitle", center=True)
        self.hint = label("Hint", center=True)
        self.bar = busy_bar()
        for w in (self.title, self.what, self.hint):
            self.box.addWidget(w)
        self.box.addStretch(1)
        self.box.addWidget(self.bar)

    def refresh(self, flow: ReportsFlow, view: View) -> None:
        self.title.setText(self.tr("Printing your report…"))
        report = flow.chosen
        self.what.setText(view.pick(report.title_zh, report.title_en) if report is not None else "")
        self.hint.setText(self.tr("Please wait, then take the report from the slot below the screen."))
        self.bar.setVisible(True)
