"""The slip or receipt at the end of a flow, as every result screen shows it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QBoxLayout, QPushButton

from kiosk_app.flows.printing import PrintState
from kiosk_app.screens.base import busy_bar, label


@dataclass(frozen=True)
class PrintWords:
    """One flow's words for its print (translated by the screen that owns them)."""

    printing: str  # e.g. "Printing your slip…"
    printed: str  # where to take it
    failed: str  # not printed, and that what was done still stands
    retry: str  # the button that prints it again


class PrintStatus:
    """Printing (a busy bar), take it, or not printed with a retry button.

    Not a widget of its own: its three widgets go into the result screen's own layout, so they
    space like the rest of the screen. ``on_retry`` is the screen's "print again" event.
    """

    def __init__(self, on_retry: Callable[[], None], *, retry_style: str = "") -> None:
        self.status = label("Hint", center=True)
        self.bar = busy_bar()
        self.retry = QPushButton()
        if retry_style:
            self.retry.setObjectName(retry_style)
        self.retry.clicked.connect(on_retry)

    def add_to(self, box: QBoxLayout) -> None:
        for widget in (self.status, self.bar, self.retry):
            box.addWidget(widget)

    def show(self, state: PrintState, words: PrintWords, *, status: bool = True, retry: bool = True) -> None:
        """``status=False`` hides the line (something else on screen says it); ``retry=False``
        withholds the button (nothing printable yet)."""
        text = {
            PrintState.PRINTING: words.printing,
            PrintState.PRINTED: words.printed,
            PrintState.FAILED: words.failed,
            PrintState.NONE: "",
        }[state]
        self.status.setText(text)
        self.status.setVisible(bool(text) and status)
        self.bar.setVisible(state is PrintState.PRINTING)
        self.retry.setText(words.retry)
        self.retry.setVisible(retry and state is PrintState.FAILED)
