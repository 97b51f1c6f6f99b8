"""Guards the Qt binding against a known fault: PySide6 6.12.0 takes one reference off None on
every void method call and one off True on every signal emitted from Python. The kiosk calls
those millions of times a day, and when a count reaches zero the interpreter aborts."""

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel


class _Emitter(QObject):
    sig_ping = Signal(str)
    """Emitted by the test."""


def test_void_calls_and_signals_do_not_leak_references(qapp) -> None:
    label = QLabel()
    emitter = _Emitter()
    emitter.sig_ping.connect(lambda _text: None)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for i in range(2000):
        label.setText(str(i))
        label.setEnabled(True)
        emitter.sig_ping.emit("x")
    # A little drift is normal (caches, interned objects); a fault shows as about -2000.
    assert sys.getrefcount(None) - none_before > -200
    assert sys.getrefcount(True) - true_before > -200
