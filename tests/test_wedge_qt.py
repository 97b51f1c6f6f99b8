"""WedgeFilter: scanner bursts are consumed and emitted, people's typing reaches the widget.

Key events go to the window (where the platform delivers them) with a fake clock: the filter asks
the clock, never the wall time, so a slow CI machine cannot turn a burst into typing or back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QKeyEvent, QWindow
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget

from kiosk_app.wedge import WedgeFilter

CODE = "134567890123456789"
SCANNER_GAP = 0.008  # s between a scanner's keys
HUMAN_GAP = 0.150


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@dataclass
class Rig:
    form: QWidget
    first: QLineEdit
    second: QLineEdit
    window: QWindow
    clock: FakeClock
    wedge: WedgeFilter
    scanned: list[str]

    def key(self, key: int, text: str = "", modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
            *, gap: float = SCANNER_GAP) -> None:
        """One key press and release, ``gap`` seconds after the previous key."""
        self.clock.t += gap
        for etype in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            ev = QKeyEvent(etype, key, modifiers, text)
            ev.setTimestamp(int(self.clock.t * 1000))
            QCoreApplication.sendEvent(self.window, ev)

    def type(self, text: str, *, gap: float = SCANNER_GAP, end: int | None = Qt.Key.Key_Return) -> None:
        for ch in text:
            shifted = ch.isupper()
            mods = Qt.KeyboardModifier.ShiftModifier if shifted else Qt.KeyboardModifier.NoModifier
            if shifted:  # as a scanner sends capitals: Shift around the key
                self._modifier(QEvent.Type.KeyPress)
            self.key(_qt_key(ch), ch, mods, gap=gap)
            if shifted:
                self._modifier(QEvent.Type.KeyRelease)
        if end is not None:
            self.key(end, "\r" if end != Qt.Key.Key_Tab else "\t", gap=gap)

    def _modifier(self, etype: QEvent.Type) -> None:
        QCoreApplication.sendEvent(self.window, QKeyEvent(etype, Qt.Key.Key_Shift, Qt.KeyboardModifier.ShiftModifier))


def _qt_key(ch: str) -> int:
    if ch.isalnum():
        return int(getattr(Qt.Key, f"Key_{ch.upper()}"))
    return {"-": Qt.Key.Key_Minus, "/": Qt.Key.Key_Slash, " ": Qt.Key.Key_Space}[ch]


@pytest.fixture
def rig(qtbot, qapp: QApplication) -> Iterator[Rig]:
    form = QWidget()
    first, second = QLineEdit(form), QLineEdit(form)
    layout = QVBoxLayout(form)
    layout.addWidget(first)
    layout.addWidget(second)
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    first.setFocus()
    window = form.windowHandle()
    assert window is not None
    clock = FakeClock()
    wedge = WedgeFilter(clock=clock)
    scanned: list[str] = []
    wedge.sig_scanned.connect(scanned.append)
    qapp.installEventFilter(wedge)
    try:
        yield Rig(form, first, second, window, clock, wedge, scanned)
    finally:
        qapp.removeEventFilter(wedge)
        wedge.deleteLater()


def test_scanner_burst_is_consumed_and_emitted(rig: Rig) -> None:
    rig.type(CODE)
    assert rig.scanned == [CODE]
    assert rig.first.text() == "" and rig.wedge.holding == 0


def test_shifted_letters_and_tab_terminator(rig: Rig) -> None:
    rig.type("VISIT-00123ab", end=Qt.Key.Key_Tab)
    assert rig.scanned == ["VISIT-00123ab"]
    assert rig.first.text() == ""
    assert rig.first.hasFocus()  # the Tab was consumed too: focus did not move on


def test_human_typing_passes_untouched(rig: Rig) -> None:
    rig.type("hello world", gap=HUMAN_GAP, end=None)
    rig.key(Qt.Key.Key_Return, "\r", gap=HUMAN_GAP)
    assert rig.first.text() == "hello world"
    assert rig.scanned == []


def test_short_fast_burst_is_replayed_in_order(rig: Rig) -> None:
    rig.type("1234", gap=HUMAN_GAP, end=None)
    rig.type("56789", end=Qt.Key.Key_Return)  # fast, but 5 < 8 characters
    assert rig.first.text() == "123456789"
    assert rig.scanned == []


def test_fast_burst_without_terminator_is_typing(rig: Rig) -> None:
    rig.type("abcdefghij", end=None)
    assert rig.first.text() == "" and rig.wedge.holding > 0  # undecided yet
    rig.key(Qt.Key.Key_K, "k", gap=HUMAN_GAP)  # the next key, late: the burst was typing
    assert rig.first.text() == "abcdefghij"
    assert rig.wedge.holding == 2  # "k" pressed and released: it may start a burst of its own
    rig.key(Qt.Key.Key_Return, "\r", gap=HUMAN_GAP)
    assert rig.first.text() == "abcdefghijk"
    assert rig.scanned == []


def test_held_keys_flushed_by_timer_when_typing_stops(qtbot, rig: Rig) -> None:
    rig.type("ab", end=None)
    qtbot.wait(100)
    assert rig.first.text() == ""  # the fake clock has not moved: still inside the burst window
    rig.clock.t += 1.0
    qtbot.waitUntil(lambda: rig.first.text() == "ab", timeout=2000)
    assert rig.wedge.holding == 0 and rig.scanned == []


def test_pause_inside_code_breaks_the_burst(rig: Rig) -> None:
    rig.type(CODE[:9], end=None)
    rig.type(CODE[9:], gap=0.031)  # one gap over the threshold
    assert rig.scanned == []
    assert rig.first.text() == CODE


def test_shortcuts_and_autorepeat_pass(rig: Rig) -> None:
    rig.type("abc", end=None)
    ev = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_X, Qt.KeyboardModifier.NoModifier, "x", True)  # auto-repeat
    QCoreApplication.sendEvent(rig.window, ev)
    assert rig.first.text() == "abcx" and rig.wedge.holding == 0
    rig.key(Qt.Key.Key_A, "\x01", Qt.KeyboardModifier.ControlModifier)  # Ctrl+A selects all
    assert rig.first.selectedText() == "abcx"


def test_scan_then_typing_then_scan(rig: Rig) -> None:
    rig.type(CODE)
    rig.type("ok", gap=HUMAN_GAP, end=None)
    rig.clock.t += HUMAN_GAP
    rig.type("ABCDEFGH12", gap=0.02)
    assert rig.scanned == [CODE, "ABCDEFGH12"]
    assert rig.first.text() == "ok"


def test_thresholds_are_arguments(qapp: QApplication, rig: Rig) -> None:
    qapp.removeEventFilter(rig.wedge)
    strict = WedgeFilter(max_gap_s=0.005, min_length=4, clock=rig.clock)
    got: list[str] = []
    strict.sig_scanned.connect(got.append)
    qapp.installEventFilter(strict)
    try:
        rig.type("1234", gap=0.004)
        rig.type("5678", gap=0.008)  # too slow for this filter
        assert got == ["1234"]
        assert rig.first.text() == "5678"
    finally:
        qapp.removeEventFilter(strict)
        qapp.installEventFilter(rig.wedge)  # the fixture removes it again


def test_events_sent_to_widgets_are_not_judged(qtbot, rig: Rig) -> None:
    qtbot.keyClicks(rig.second, "0123456789")  # straight to the widget, instantly
    qtbot.keyClick(rig.second, Qt.Key.Key_Return)
    assert rig.second.text() == "0123456789" and rig.scanned == []
