"""Keyboard-wedge scanners that cannot be grabbed at the device: tell their bursts from typing by timing.

A wedge scanner types a whole code in a burst, a key every ~8 ms ending with Enter or Tab; people
type a key every 100 ms or more (protocols.md 5.3). ``WedgeFilter`` is an application event filter
that holds back fast keys until it knows which they are: a burst of at least ``min_length``
characters, no gap over ``max_gap_s``, ended by Enter/Tab, is consumed (it never types into the
focused widget) and emitted as ``sig_scanned``; anything else is replayed to its window in the
original order, at most ``max_gap_s`` late, which nobody perceives.

Only key events addressed to a ``QWindow`` are looked at: that is where every platform key event
arrives first (Qt then forwards it to the focus widget), so each key is judged once, and events
sent straight to a widget (``qtbot.keyClicks``, synthetic input) pass untouched.

Install it once: ``app.installEventFilter(wedge)``; prefer ``devices.scanner.EvdevScanner`` (grab at
the device) where the kiosk user may read /dev/input, and virtual-COM mode over both.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QWindow

from devices.scanner.codes import mask_code

log = logging.getLogger(__name__)

DEFAULT_TERMINATORS = frozenset({Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab})
_MODIFIER_KEYS = frozenset(int(k) for k in (Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta,
                                             Qt.Key.Key_AltGr, Qt.Key.Key_CapsLock, Qt.Key.Key_NumLock))
# Scanners press Shift for capitals and may send digits from the keypad; any other modifier makes
# the key a shortcut, never part of a code.
_CODE_MODIFIERS = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier


@dataclass(frozen=True)
class _HeldKey:
    """Enough of a key event to rebuild it: Qt deletes the original once the filter returns."""

    window: QWindow
    type: QEvent.Type
    key: int
    modifiers: Qt.KeyboardModifier
    scan_code: int
    virtual_key: int
    native_modifiers: int
    text: str
    timestamp: int

    @classmethod
    def of(cls, window: QWindow, ev: QKeyEvent) -> _HeldKey:
        return cls(window, ev.type(), ev.key(), ev.modifiers(), ev.nativeScanCode(), ev.nativeVirtualKey(),
                   ev.nativeModifiers(), ev.text(), ev.timestamp())

    def rebuild(self) -> QKeyEvent:
        ev = QKeyEvent(self.type, self.key, self.modifiers, self.scan_code, self.virtual_key,
                       self.native_modifiers, self.text)
        ev.setTimestamp(self.timestamp)
        return ev


class WedgeFilter(QObject):
    sig_scanned = Signal(str)
    """A wedge scanner typed one code (its terminator stripped); the keys never reached a widget."""

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        max_gap_s: float = 0.030,
        min_length: int = 8,
        terminators: Collection[Qt.Key] = DEFAULT_TERMINATORS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.max_gap_s = max_gap_s
        self.min_length = min_length
        self._terminators = frozenset(int(k) for k in terminators)
        self._clock = clock
        self._held: list[_HeldKey] = []
        self._chars: list[str] = []
        self._down: set[int] = set()  # keys pressed inside the burst and not yet released
        self._swallow_release: set[int] = set()  # releases of keys whose press was consumed
        self._last_at = 0.0
        self._replaying = False
        # Flushes a burst that just stopped (a fast typist's two keys); it asks the clock before
        # acting, so tests with a fake clock stay deterministic.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer)

    @property
    def holding(self) -> int:
        """How many key events are held back, undecided."""
        return len(self._held)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        etype = event.type()
        if self._replaying or etype not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        if not isinstance(watched, QWindow) or not isinstance(event, QKeyEvent):
            return False
        if etype == QEvent.Type.KeyRelease:
            return self._release(watched, event)
        return self._press(watched, event, self._clock())

    # ---- decisions

    def _press(self, window: QWindow, ev: QKeyEvent, now: float) -> bool:
        if self._held and now - self._last_at > self.max_gap_s:
            self._flush()  # the burst stopped without a terminator: it was typing
        key = ev.key()
        if key in self._terminators and not ev.isAutoRepeat():
            if len(self._chars) >= self.min_length:
                self._consume(key)
                return True
            self._flush()
            return False
        if self._is_code_char(ev):
            self._held.append(_HeldKey.of(window, ev))
            self._chars.append(ev.text())
            self._down.add(key)
            self._last_at = now
            self._arm()
            return True
        if self._held and key in _MODIFIER_KEYS and not ev.isAutoRepeat():
            self._held.append(_HeldKey.of(window, ev))  # Shift inside a burst: keep the order
            return True
        self._flush()
        return False

    def _release(self, window: QWindow, ev: QKeyEvent) -> bool:
        key = ev.key()
        if self._held:
            self._held.append(_HeldKey.of(window, ev))
            self._down.discard(key)
            return True
        if key in self._swallow_release and not ev.isAutoRepeat():
            self._swallow_release.discard(key)
            return True
        return False

    def _is_code_char(self, ev: QKeyEvent) -> bool:
        text = ev.text()
        return (
            len(text) == 1
            and text.isprintable()
            and not ev.isAutoRepeat()  # a held key; scanners never hold one
            and not ev.modifiers() & ~_CODE_MODIFIERS
        )

    def _consume(self, terminator: int) -> None:
        code = "".join(self._chars)
        self._swallow_release = self._down | {terminator}
        self._reset()
        log.info("wedge scan %s (%d chars)", mask_code(code), len(code))
        self.sig_scanned.emit(code)

    def _flush(self) -> None:
        """Replay the held keys to their windows, in order: they were a person typing."""
        held = self._held
        self._reset()
        if not held:
            return
        self._replaying = True
        try:
            for rec in held:
                if shiboken6.isValid(rec.window):  # the window may have closed meanwhile
                    QCoreApplication.sendEvent(rec.window, rec.rebuild())
        finally:
            self._replaying = False

    def _reset(self) -> None:
        self._held = []
        self._chars = []
        self._down = set()
        self._timer.stop()

    # ---- timer

    def _arm(self) -> None:
        left_s = self.max_gap_s - (self._clock() - self._last_at)
        self._timer.start(max(1, math.ceil(left_s * 1000)) + 1)

    def _on_timer(self) -> None:
        if not self._held:
            return
        if self._clock() - self._last_at > self.max_gap_s:
            self._flush()
        else:
            self._arm()
