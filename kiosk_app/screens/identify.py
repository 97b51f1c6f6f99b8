"""Identify: the patient places the ID card on the reader."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QWidget

from kiosk_app import theme
from kiosk_app.controller import KioskController
from kiosk_app.flows.filing import FilingFlow
from kiosk_app.flows.registration import RegistrationFlow
from kiosk_app.screens.base import Screen, View, busy_bar, label


class CardPicture(QWidget):
    """A drawn ID card over the reader, so no image file has to ship."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(200)

    def paintEvent(self, _event: object) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        cw = min(w * 0.6, h * 1.3)
        ch = cw * 0.63
        x, y = (w - cw) / 2, (h - ch) / 2 - h * 0.08
        p.setPen(QPen(QColor(theme.MUTED), 3))
        p.setBrush(QColor("#CFD8DC"))
        p.drawRoundedRect(QRectF(x - cw * 0.1, y + ch * 0.55, cw * 1.2, ch * 0.55), 12, 12)  # the reader
        p.setBrush(QColor("#E3F2FD"))
        p.setPen(QPen(QColor(theme.INFO), 4))
        p.drawRoundedRect(QRectF(x, y, cw, ch), 14, 14)  # the card
        p.setBrush(QColor("#BBDEFB"))
        p.drawRect(QRectF(x + cw * 0.64, y + ch * 0.18, cw * 0.28, ch * 0.6))  # photo area
        p.setPen(QPen(QColor(theme.INFO), 5))
        for i in range(4):
            yy = y + ch * (0.22 + i * 0.16)
            p.drawLine(int(x + cw * 0.08), int(yy), int(x + cw * (0.56 - 0.06 * (i % 2))), int(yy))
        p.setPen(QColor(theme.ACCENT))
        f = QFont(theme.FONT_FAMILY)
        f.setPixelSize(max(14, int(ch * 0.22)))
        f.setBold(True)
        p.setFont(f)
        p.drawText(QRectF(0, y + ch * 1.12, w, ch * 0.4), Qt.AlignmentFlag.AlignCenter, "▼  ▼  ▼")
        p.end()


class IdentifyScreen(Screen):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.title = label("Title", center=True)
        self.hint = label("Hint", center=True)
        self.picture = CardPicture()
        self.status = label("Subtitle", center=True)
        self.bar = busy_bar()
        self.box.addWidget(self.title)
        self.box.addWidget(self.hint)
        self.box.addWidget(self.picture, 1)
        self.box.addWidget(self.status)
        self.box.addWidget(self.bar)

    def refresh(self, flow: RegistrationFlow | FilingFlow, view: View) -> None:
        filing = isinstance(flow, FilingFlow)
        self.title.setText(self.tr("New patient: place your ID card") if filing else self.tr("Identify yourself"))
        self.hint.setText(self.tr("Please place your resident ID card on the reader below the screen."))
        self.status.setText(
            (self.tr("Checking for an existing record…") if filing else self.tr("Checking your identity…"))
            if flow.busy
            else self.tr("Waiting for the card…")
        )
        self.bar.setVisible(flow.busy)
