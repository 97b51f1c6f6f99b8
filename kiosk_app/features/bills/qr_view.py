"""A QR code drawn by Qt: the provider's ``code_url`` as the patient's phone will read it.

The matrix comes from the ``qrcode`` package (already installed with python-escpos); Qt paints
its modules as black squares on white with the standard 4-module quiet zone, at a whole number
of pixels per module so every phone camera reads it sharply. Nothing is painted without a text.
"""

from __future__ import annotations

import qrcode
from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget
from qrcode.constants import ERROR_CORRECT_M

QUIET_ZONE = 4  # modules of white around the code, as ISO/IEC 18004 asks


def qr_matrix(text: str) -> list[list[bool]]:
    """The code's modules (True = dark), quiet zone included."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(text)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


class QrCodeView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._matrix: list[list[bool]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(QSize(160, 160))
        self.setObjectName("QrCode")

    @property
    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        if text == self._text:
            return
        self._text = text
        self._matrix = qr_matrix(text) if text else []
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(360, 360)

    def paintEvent(self, _event: QPaintEvent) -> None:
        if not self._matrix:
            return
        n = len(self._matrix)
        side = min(self.width(), self.height())
        module = max(1, side // n)
        size = module * n
        left, top = (self.width() - size) // 2, (self.height() - size) // 2
        painter = QPainter(self)
        painter.fillRect(QRect(left, top, size, size), QColor("white"))
        black = QColor("black")
        for y, row in enumerate(self._matrix):
            for x, dark in enumerate(row):
                if dark:
                    painter.fillRect(left + x * module, top + y * module, module, module, black)
        painter.end()
