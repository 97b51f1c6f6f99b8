"""What every screen shares: the controller it calls and a ``refresh(flow, view)`` it implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from kiosk_app.controller import KioskController


@dataclass(frozen=True)
class View:
    """Presentation settings a screen needs besides the flow."""

    language: str = "zh_CN"
    elderly: bool = False
    hospital_name: str = ""

    def pick(self, zh: str, en: str) -> str:
        return zh if self.language == "zh_CN" or not en else en


def yuan(cents: int) -> str:
    return f"¥{cents // 100}.{cents % 100:02d}"


def label(name: str, text: str = "", *, wrap: bool = True, center: bool = False) -> QLabel:
    lbl = QLabel(text)
    lbl.setObjectName(name)
    lbl.setWordWrap(wrap)
    if center:
        lbl.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return lbl


def busy_bar() -> QProgressBar:
    bar = QProgressBar()
    bar.setRange(0, 0)  # indeterminate: shows that the kiosk is working
    bar.setTextVisible(False)
    return bar


class Screen(QWidget):
    def __init__(self, controller: KioskController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(24, 24, 24, 24)
        self.box.setSpacing(18)

    def refresh(self, flow: Any, view: View) -> None:
        """Render ``flow`` (a RegistrationFlow, or a FilingFlow for the filing screens)."""
        raise NotImplementedError
