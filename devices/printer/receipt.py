"""Receipt content and its text layout, independent of any printer transport.

The caller passes patient data already masked (``张*三``, ``1101**********1234``); nothing here
ever sees or logs an unmasked name or ID number.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Receipt:
    title: str
    lines: tuple[tuple[str, str], ...]  # (label, value) rows
    footer: tuple[str, ...] = ()
    qr: str | None = None
    # Keyword-only so the defaulted fields above can stay positional in the listed order.
    job_id: str = field(kw_only=True)


SEPARATOR = "-"

# Closing punctuation that must not start a wrapped line (basic Chinese line-breaking rule).
_NO_LINE_START = set("，。、：；！？）】」』》,.:;!?)]}%")


def char_width(ch: str) -> int:
    """Columns one character takes on a Chinese receipt printer.

    Wide/Full-width characters take two. Ambiguous ones (·, ×, °, ①, Greek, Cyrillic, accented
    Latin) are double-byte in GB18030 and the printer draws them from its Hanzi font, so they
    take two as well. Combining marks and format characters take none.
    """
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 1


def text_width(text: str) -> int:
    return sum(char_width(ch) for ch in text)


def clean(text: str) -> str:
    """Replace control characters (a stray newline or tab would break the column layout)."""
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text).strip()


def wrap(text: str, width: int) -> list[str]:
    """Greedy wrap by display width; breaks Latin text at spaces, CJK text anywhere."""
    if width < 2:
        raise ValueError("wrap width must be at least 2 columns")
    text = clean(text)
    if not text:
        return [""]
    out: list[str] = []
    line, used = "", 0
    for ch in text:
        w = char_width(ch)
        if used + w <= width or not line:
            line, used = line + ch, used + w
            continue
        # Overflow: keep closing punctuation with the previous character by pulling that one down.
        head, carry = line, ""
        if ch in _NO_LINE_START and len(line) > 1:
            head, carry = line[:-1], line[-1]
        elif ch != " " and " " in line.strip():
            cut = line.rstrip().rfind(" ")
            head, carry = line[:cut], line[cut + 1 :]
        if not head.strip() or text_width(carry + ch) > width:
            head, carry = line, ""  # a soft break would not fit: break hard instead
        out.append(head.rstrip())
        line = (carry + ch).lstrip()
        used = text_width(line)
    if line.strip():
        out.append(line.rstrip())
    return out or [""]


def center(line: str, columns: int) -> str:
    pad = max(0, columns - text_width(line)) // 2
    return " " * pad + line


def layout_row(label: str, value: str, columns: int) -> list[str]:
    """One label/value row: on one line with the value right-aligned when it fits, else wrapped."""
    label, value = clean(label), clean(value)
    lw, vw = text_width(label), text_width(value)
    if not value:
        return wrap(label, columns)
    if not label:
        return wrap(value, columns)
    if lw + 1 + vw <= columns:
        return [label + " " * (columns - lw - vw) + value]
    if lw <= columns // 2:
        # Hanging indent: continuation lines start under the first character of the value.
        chunks = wrap(value, columns - lw - 1)
        return [f"{label} {chunks[0]}"] + [" " * (lw + 1) + c for c in chunks[1:]]
    return wrap(label, columns) + ["  " + c for c in wrap(value, columns - 2)]


def layout_rows(rows: tuple[tuple[str, str], ...], columns: int) -> list[str]:
    out: list[str] = []
    for label, value in rows:
        out.extend(layout_row(label, value, columns))
    return out


def layout(receipt: Receipt, columns: int) -> list[str]:
    """The whole receipt as plain text lines of at most ``columns`` display columns.

    The QR code is not part of the text; the printer driver prints it after these lines.
    """
    if columns < 8:
        raise ValueError(f"columns too small for a receipt: {columns}")
    out = [center(t, columns) for t in wrap(receipt.title, columns)]
    out.append(SEPARATOR * columns)
    out.extend(layout_rows(receipt.lines, columns))
    if receipt.footer:
        out.append(SEPARATOR * columns)
        for text in receipt.footer:
            out.extend(center(t, columns) for t in wrap(text, columns))
    return out
