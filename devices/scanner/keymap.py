"""Linux key events from a keyboard-wedge scanner back to the characters it meant to type.

A wedge scanner pretends to be a US keyboard: it sends key codes (``input-event-codes.h``), with
Shift pressed around capitals, and the host is supposed to apply the layout. Reading the scanner
through evdev we are the host, so the layout is ours: a table, the US one, whatever layout the
desktop uses. Also decoded: Caps Lock (inverts letters only), Ctrl+letter (some scanners send CR as
Ctrl+M and FNC1/GS as Ctrl+]) and Alt+keypad codes (protocols.md 5.2: "Alt+029" for GS).

A key with no mapping becomes U+FFFD, so the driver rejects the whole code instead of delivering
one with a character silently missing.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping

EV_KEY = 1
KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2
UNMAPPED = "\ufffd"

KEY_TAB, KEY_ENTER, KEY_KPENTER = 15, 28, 96
KEY_LEFTSHIFT, KEY_RIGHTSHIFT, KEY_CAPSLOCK = 42, 54, 58
KEY_LEFTCTRL, KEY_RIGHTCTRL, KEY_LEFTALT, KEY_RIGHTALT = 29, 97, 56, 100
_SHIFTS = frozenset({KEY_LEFTSHIFT, KEY_RIGHTSHIFT})
_CTRLS = frozenset({KEY_LEFTCTRL, KEY_RIGHTCTRL})
_ALTS = frozenset({KEY_LEFTALT, KEY_RIGHTALT})
# NumLock, ScrollLock, Meta: change nothing a scanner means to type.
_IGNORED = frozenset({69, 70, 125, 126})


def _row(first_code: int, plain: str, shifted: str) -> dict[int, tuple[str, str]]:
    return {first_code + i: (p, s) for i, (p, s) in enumerate(zip(plain, shifted, strict=True))}


# code -> (plain, with Shift): the US layout, row by row as the codes run.
US_KEYMAP: Mapping[int, tuple[str, str]] = {
    **_row(2, "1234567890-=", "!@#$%^&*()_+"),
    **_row(16, "qwertyuiop[]", "QWERTYUIOP{}"),
    **_row(30, "asdfghjkl;'`", 'ASDFGHJKL:"~'),
    **_row(43, "\\zxcvbnm,./", "|ZXCVBNM<>?"),
    KEY_TAB: ("\t", "\t"),
    KEY_ENTER: ("\r", "\r"),
    KEY_KPENTER: ("\r", "\r"),
    57: (" ", " "),  # KEY_SPACE
    # Keypad, read as if NumLock were on: scanners in "keypad digits" mode assume it is.
    **_row(71, "789-456+1230.", "789-456+1230."),
    55: ("*", "*"),  # KEY_KPASTERISK
    98: ("/", "/"),  # KEY_KPSLASH
}

# Keypad digits, for Alt codes.
KEYPAD_DIGITS: Mapping[int, str] = {71: "7", 72: "8", 73: "9", 75: "4", 76: "5", 77: "6", 79: "1", 80: "2",
                                    81: "3", 82: "0"}

_CTRL_CHARS = frozenset(string.ascii_lowercase + "[\\]")


def _alt_code(digits: str) -> str:
    # Windows convention: a leading 0 means the ANSI code page, otherwise the OEM one; both agree
    # with ASCII below 128, which is all a payment code or URL needs.
    codec = "cp1252" if digits.startswith("0") else "cp437"
    return bytes((int(digits) % 256,)).decode(codec, errors="replace")


class KeyDecoder:
    """Stateful (Shift, Caps Lock, Ctrl, Alt) decoder of one keyboard's event stream."""

    def __init__(self, keymap: Mapping[int, tuple[str, str]] = US_KEYMAP) -> None:
        self._keymap = keymap
        self._held: set[int] = set()
        self._caps = False
        self._alt_digits = ""

    def reset(self) -> None:
        self._held.clear()
        self._caps = False
        self._alt_digits = ""

    def feed(self, code: int, value: int) -> str:
        """The text one key event types ("" for most: releases, modifiers)."""
        if value == KEY_REPEAT:
            return ""  # scanners never hold a key; a repeat would only double a character
        if code in _SHIFTS or code in _CTRLS or code in _ALTS:
            return self._modifier(code, value)
        if value != KEY_DOWN:
            return ""
        if code == KEY_CAPSLOCK:
            self._caps = not self._caps
            return ""
        if code in _IGNORED:
            return ""
        if self._held & _ALTS:
            if code in KEYPAD_DIGITS:
                self._alt_digits += KEYPAD_DIGITS[code]
                return ""
            return UNMAPPED  # Alt+key is a shortcut, never part of a code
        entry = self._keymap.get(code)
        if entry is None:
            return UNMAPPED
        plain, shifted = entry
        if self._held & _CTRLS:
            return chr(ord(plain.upper()) & 0x1F) if plain in _CTRL_CHARS else UNMAPPED
        shift = bool(self._held & _SHIFTS)
        if self._caps and plain.isalpha():
            shift = not shift
        return shifted if shift else plain

    def _modifier(self, code: int, value: int) -> str:
        if value == KEY_DOWN:
            self._held.add(code)
            return ""
        self._held.discard(code)
        if code in _ALTS and not self._held & _ALTS and self._alt_digits:
            digits, self._alt_digits = self._alt_digits, ""
            return _alt_code(digits)
        return ""


def keys_to_text(events: Iterable[tuple[int, int]]) -> str:
    """The text a sequence of ``(key code, value)`` EV_KEY events types, from a fresh keyboard state.

    >>> keys_to_text([(42, 1), (30, 1), (30, 0), (42, 0), (2, 1), (2, 0), (28, 1), (28, 0)])
    'A1\\r'
    """
    decoder = KeyDecoder()
    return "".join(decoder.feed(code, value) for code, value in events)
