"""Speak each screen's title and the banner's message when they change, in the kiosk's language.

Every screen already says what to do in its ``Title`` label (and the banner says what went
wrong), so the prompt is read from the widgets rather than kept as a second copy of every text:
a new feature's screens are spoken without extra work.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QLabel

from kiosk_app.speech import Speaker
from kiosk_app.window import KioskWindow


class VoicePrompts(QObject):
    def __init__(self, window: KioskWindow, speaker: Speaker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window, self.speaker = window, speaker
        self._last = ""
        window.controller.sig_changed.connect(self.on_changed)
        window.controller.sig_session_wiped.connect(self.on_wiped)

    def prompt(self) -> str:
        """What the patient should hear now: the screen's title, then the banner's message."""
        if self.window.in_diagnostics:
            return ""  # technicians read; a talking service menu in a lobby is noise
        screen = self.window.current_screen
        titles = [w.text() for w in screen.findChildren(QLabel, "Title") if w.isVisibleTo(screen) and w.text()]
        parts = titles[:1]
        if self.window.banner.isVisibleTo(self.window) and self.window.banner.text():
            parts.append(self.window.banner.text())
        return "。".join(p.rstrip("。.") for p in parts) if self.window.view.language == "zh_CN" else ". ".join(parts)

    @Slot()
    def on_changed(self) -> None:
        text = self.prompt()
        if text and text != self._last:
            view = self.window.view
            self.speaker.say(text, view.language, view.elderly)
        self._last = text

    @Slot()
    def on_wiped(self) -> None:
        self.speaker.silence()
        self._last = ""
