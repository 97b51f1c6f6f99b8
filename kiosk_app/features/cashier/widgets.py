"""Widgets the window's screens share: a keypad, a list of toggles, a label/value card."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
    """Digits 0-9, an optional "." (amounts) and letters A-F (POS references), delete and OK."""

    def __init__(
        self,
        on_key: Callable[[str], None],
        on_delete: Callable[[], None],
        on_ok: Callable[[], None] | None = None,
        *,
        dot: bool = False,
        hex_letters: bool = False,
    ) -> None:
        super().__init__()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(10)
        self.buttons: dict[str, QPushButton] = {}
        keys = list("123456789") + ([".", "0"] if dot else ["0"])
        if hex_letters:
            keys += list("ABCDEF")
        for i, ch in enumerate(keys):
            button = key_button(ch)
            button.clicked.connect(lambda _=False, c=ch: on_key(c))
            self.buttons[ch] = button
            grid.addWidget(button, i // 3, i % 3)
        row = (len(keys) + 2) // 3
        self.delete_button = key_button("⌫")
        self.delete_button.clicked.connect(on_delete)
        grid.addWidget(self.delete_button, row, 0)
        self.ok_button = key_button("", "KeyOk")
        if on_ok is not None:
            self.ok_button.clicked.connect(on_ok)
            grid.addWidget(self.ok_button, row, 1, 1, 2)
        else:
            self.ok_button.hide()

    def press(self, text: str) -> None:
        """Type ``text`` key by key (tests, the tour)."""
        for ch in text:
            self.buttons[ch].click()


class ToggleList(QScrollArea):
    """Checkable rows (bills, registrations, payments), rebuilt only when the rows change."""

    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.inner = QWidget()
        self.rows = QVBoxLayout(self.inner)
        self.rows.setSpacing(10)
        self.rows.addStretch(1)
        self.setWidget(self.inner)
        self.buttons: dict[str, QPushButton] = {}
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
                button = QPushButton(text)
                button.setObjectName("Choice")
                button.setCheckable(checkable)
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
