"""What the cashier types on the window's keypads, pure: digits, an amount in yuan, a reference.

Each field keeps the text as typed and knows its own limits, so a screen only forwards key
presses and shows :attr:`Entry.text` (or dots, for a PIN).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_YUAN_DIGITS = 6  # ¥999,999.99: far above anything paid at a window


@dataclass
class Entry:
    """One keypad field. ``kind``: ``digits`` (staff number, PIN, visit card, a POS reference number)
    or ``yuan`` (an amount with up to two decimals)."""

    kind: str = "digits"
    max_len: int = 12
    text: str = field(default="", repr=False)  # may be a PIN: never in a repr or a log

    def key(self, ch: str) -> None:
        if len(ch) != 1:
            return
        if self.kind == "yuan":
            self._yuan_key(ch)
        elif ch.isdigit() and len(self.text) < self.max_len:
            self.text += ch

    def delete(self) -> None:
        self.text = self.text[:-1]

    def clear(self) -> None:
        self.text = ""

    def set_cents(self, cents: int) -> None:
        """Fill a yuan field with an amount (a quick button)."""
        self.text = f"{cents // 100}" if cents % 100 == 0 else f"{cents // 100}.{cents % 100:02d}".rstrip("0")

    @property
    def cents(self) -> int | None:
        """The amount typed, in cents, or None when nothing (or only ".") was typed."""
        if self.kind != "yuan" or not self.text.strip("."):
            return None
        whole, _, frac = self.text.partition(".")
        return int(whole or "0") * 100 + int((frac + "00")[:2])

    def _yuan_key(self, ch: str) -> None:
        whole, dot, frac = self.text.partition(".")
        if ch == ".":
            if not dot:
                self.text = (self.text or "0") + "."
        elif ch.isdigit():
            if dot and len(frac) < 2:
                self.text += ch
            elif not dot and len(whole) < MAX_YUAN_DIGITS:
                self.text = ch if self.text == "0" else self.text + ch
