"""Widgets the window's screens share: a keypad, a list of toggles, a label/value card."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk_app.screens.base import label


def key_button(text: str, name: str = "Key") -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return button


class Keypad(QWidget):
    """Digits in a 4-column block (delete, 0 and an optional "." on the right), OK underneath:
    four rows of keys, so the keypad fits under a screen's other content at every scale."""

    def __init__(
        self,
        on_key: Callable[[str], None],
        on_delete: Callable[[], None],
        on_ok: Callable[[], None] | None = None,
        *,
        dot: bool = False,
    ) -> None:
        super().__init__()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(8)
        self.buttons: dict[str, QPushButton] = {}
        for i, ch in enumerate("123456789"):
            self.buttons[ch] = key_button(ch)
            grid.addWidget(self.buttons[ch], i // 3, i % 3)
        self.buttons["0"] = key_button("0")
        grid.addWidget(self.buttons["0"], 1, 3)
        if dot:
            self.buttons["."] = key_button(".")
            grid.addWidget(self.buttons["."], 2, 3)
        for ch, button in self.buttons.items():
            button.clicked.connect(lambda _=False, c=ch: on_key(c))
        self.delete_button = key_button("⌫")
        self.delete_button.clicked.connect(on_delete)
        grid.addWidget(self.delete_button, 0, 3)
        self.ok_button = key_button("", "KeyOk")
        if on_ok is not None:
            self.ok_button.clicked.connect(on_ok)
            grid.addWidget(self.ok_button, 3, 0, 1, 4)
        else:
            self.ok_button.hide()

    def press(self, text: str) -> None:
        """Type ``text`` key by key (tests, the tour)."""
        for ch in text:
            self.buttons[ch].click()


class Row(QPushButton):
    """A checkable row whose text wraps (a QPushButton's own text cannot)."""

    def __init__(self, text: str = "", *, checkable: bool = True) -> None:
        super().__init__()
        self.setObjectName("Choice")
        self.setCheckable(checkable)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label = label("RowText")
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)  # the row takes the touch
        box = QVBoxLayout(self)
        box.setContentsMargins(12, 6, 12, 6)
        box.addWidget(self.label)
        self.set_text(text)

    def set_text(self, text: str) -> None:
        self.label.setText(text)

    def text(self) -> str:
        return self.label.text()

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width(), max(hint.height(), self.label.sizeHint().height() + 16))


class ToggleList(QScrollArea):
    """Checkable rows (bills, registrations, payments), rebuilt only when the rows change."""

    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # rows wrap instead
        self.inner = QWidget()
        self.rows = QVBoxLayout(self.inner)
        self.rows.setSpacing(10)
        self.rows.addStretch(1)
        self.setWidget(self.inner)
        self.buttons: dict[str, Row] = {}
        self._signature: tuple[tuple[str, str], ...] = ()

    def show_rows(
        self, rows: Sequence[tuple[str, str, bool]], on_click: Callable[[str], None], *, checkable: bool = True
    ) -> None:
        """``rows``: (id, text, checked)."""
        signature = tuple((row_id, text) for row_id, text, _ in rows)
        if signature != self._signature:
            for button in self.buttons.values():
                self.rows.removeWidget(button)
                button.deleteLater()
            self.buttons = {}
            for i, (row_id, text, _) in enumerate(rows):
                button = Row(text, checkable=checkable)
                button.clicked.connect(lambda _=False, r=row_id: on_click(r))
                self.rows.insertWidget(i, button)
                button.show()  # a widget added to a shown layout would only appear after the event loop ran
                self.buttons[row_id] = button
            self._signature = signature
        for row_id, _, checked in rows:
            self.buttons[row_id].setChecked(checked)


def card(rows: int) -> tuple[QFrame, list[tuple[QLabel, QLabel]]]:
    """A framed grid of label/value pairs."""
    frame = QFrame()
    frame.setObjectName("Card")
    grid = QGridLayout(frame)
    grid.setContentsMargins(20, 16, 20, 16)
    grid.setVerticalSpacing(8)
    cells: list[tuple[QLabel, QLabel]] = []
    for r in range(rows):
        key, value = label("FieldLabel"), label("FieldValue")
        grid.addWidget(key, r, 0)
        grid.addWidget(value, r, 1)
        cells.append((key, value))
    grid.setColumnStretch(1, 1)
    return frame, cells


def fill(cells: list[tuple[QLabel, QLabel]], rows: Sequence[tuple[str, str]]) -> None:
    """Put ``rows`` into the card's cells; unused cells are hidden."""
    for i, (key, value) in enumerate(cells):
        k, v = rows[i] if i < len(rows) else ("", "")
        key.setText(k)
        value.setText(v)
        key.setVisible(bool(k))
        value.setVisible(bool(k))
