"""Confirm: everything the patient is about to book, one button to go ahead."""

from __future__ import annotations

from PySide6.QtWidgets import QBoxLayout, QFrame, QGridLayout, QLabel, QPushButton, QWidget

from kiosk_app.controller import KioskController
from kiosk_app.flows.registration import RegistrationFlow
from kiosk_app.screens.base import Screen, View, busy_bar, label, yuan


def summary_card(rows: int) -> tuple[QFrame, list[tuple[QLabel, QLabel]]]:
    card = QFrame()
    card.setObjectName("Card")
    grid = QGridLayout(card)
    grid.setContentsMargins(24, 24, 24, 24)
    grid.setVerticalSpacing(14)
    cells = []
    for r in range(rows):
        key, value = label("FieldLabel"), label("FieldValue")
        grid.addWidget(key, r, 0)
        grid.addWidget(value, r, 1)
        cells.append((key, value))
    grid.setColumnStretch(1, 1)
    return card, cells


def compact(box: QBoxLayout, title: QLabel, card: QFrame, on: bool) -> None:
    """Tighter spacing, a smaller title and a tighter card: a result screen's layout when a banner
    and more lines (offline, a print that failed) must fit beside the card in elderly sizes."""
    if bool(title.property("compact")) == on:
        return
    margin, spacing, card_margin, row_spacing = (6, 8, 12, 6) if on else (24, 18, 24, 14)
    box.setSpacing(spacing)
    box.setContentsMargins(24, margin, 24, margin)
    grid = card.layout()
    if isinstance(grid, QGridLayout):
        grid.setContentsMargins(24, card_margin, 24, card_margin)
        grid.setVerticalSpacing(row_spacing)
    title.setProperty("compact", on)  # a smaller title (theme.py)
    title.style().unpolish(title)
    title.style().polish(title)


class ConfirmScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title")
        self.card, self.cells = summary_card(6)
        self.button = QPushButton()
        self.button.setObjectName("Primary")
        self.button.clicked.connect(lambda: controller.dispatch(lambda f: f.confirm()))
        self.bar = busy_bar()
        self.box.addWidget(self.title)
        self.box.addWidget(self.card)
        self.box.addStretch(1)
        self.box.addWidget(self.bar)
        self.box.addWidget(self.button)

    def refresh(self, flow: RegistrationFlow, view: View) -> None:
        self.title.setText(self.tr("Please check your registration"))
        p, d, doc, s = flow.patient, flow.department, flow.doctor, flow.slot
        rows = [
            (self.tr("Patient"), f"{p.name_masked}  {p.id_masked}" if p else ""),
            (self.tr("Department"), view.pick(d.name_zh, d.name_en) if d else ""),
            (self.tr("Doctor"), view.pick(doc.name_zh, doc.name_en) if doc else ""),
            (self.tr("Title"), view.pick(doc.title_zh, doc.title_en) if doc else ""),
            (self.tr("Time"), f"{s.date}  {s.start} – {s.end}" if s else ""),
            (self.tr("Fee"), yuan(doc.fee_cents) if doc else ""),
        ]
        for (key, value), (k, v) in zip(self.cells, rows, strict=True):
            key.setText(k)
            value.setText(v)
        self.button.setText(self.tr("Registering…") if flow.busy else self.tr("Confirm and pay"))
        self.button.setEnabled(not flow.busy)
        self.bar.setVisible(flow.busy)
