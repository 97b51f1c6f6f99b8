"""Small helpers shared by the diagnostics widgets."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QWidget

ZWSP = "\u200b"


def repolish(widget: QWidget) -> None:
    """Apply the style again after a property the stylesheet selects on has changed."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def set_kind(widget: QWidget, kind: str) -> None:
    """Restyle a status label by its ``kind`` property: error, ok or info."""
    widget.setProperty("kind", kind)
    repolish(widget)


def soft_wrap(text: str) -> str:
    """Let a long URL or path wrap after its separators (QLabel wraps at spaces only)."""
    for sep in ("/", "?", "&", ",", "="):
        text = text.replace(sep, sep + ZWSP)
    return text


def clock_time(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "—"


# Setters that touch Qt only when the value changes. The device table and the PIN pad re-render
# every second; unchanged widgets are left alone, which saves repaints and, with PySide6 6.12.0 on
# CPython 3.11, avoids its reference leak on None (every void method call drops one reference).


def set_text(widget: QLabel | QAbstractButton | QLineEdit, text: str) -> None:
    if widget.text() != text:
        widget.setText(text)


def set_visible(widget: QWidget, visible: bool) -> None:
    if widget.isHidden() == visible:
        widget.setVisible(visible)


def set_enabled(widget: QWidget, enabled: bool) -> None:
    if widget.isEnabled() != enabled:
        widget.setEnabled(enabled)
