"""Device URLs: edited on screen, validated with ``kiosk_app.config.validate``, saved to the
config file the kiosk was started with. The running kiosk keeps its URLs until it restarts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from kiosk_app.config import ConfigError
from kiosk_app.diagnostics.configedit import URL_SECTIONS, check, current_urls, save_urls
from kiosk_app.diagnostics.context import DiagnosticsContext
from kiosk_app.diagnostics.widgets import repolish, set_enabled, set_kind, set_text, set_visible, soft_wrap
from kiosk_app.screens.base import busy_bar, label

log = logging.getLogger(__name__)


class SettingsPanel(QWidget):
    def __init__(self, ctx: DiagnosticsContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._busy = False
        self._status: Callable[[], str] = str
        self.note = label("DiagNote")
        self.labels: dict[str, QLabel] = {}
        self.edits: dict[str, QLineEdit] = {}
        fields = QVBoxLayout()
        fields.setSpacing(4)
        for section in URL_SECTIONS:
            name = label("SettingLabel", wrap=False)
            edit = QLineEdit()
            edit.setInputMethodHints(Qt.InputMethodHint.ImhNoAutoUppercase | Qt.InputMethodHint.ImhUrlCharactersOnly)
            edit.textEdited.connect(lambda _t, e=edit: self._mark(e, False))
            fields.addWidget(name)
            fields.addWidget(edit)
            fields.addSpacing(6)
            self.labels[section], self.edits[section] = name, edit
        self.file_note = label("DiagNote")
        self.status = label("DiagStatus")
        self.bar = busy_bar()
        self.save_button = QPushButton()
        self.save_button.setObjectName("Primary")
        self.save_button.clicked.connect(self.save)
        self.reset_button = QPushButton()
        self.reset_button.clicked.connect(self.reset)
        buttons = QHBoxLayout()
        buttons.addWidget(self.reset_button, 1)
        buttons.addWidget(self.save_button, 2)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(12)
        box.addWidget(self.note)
        box.addLayout(fields)
        box.addWidget(self.file_note)
        box.addLayout(buttons)
        box.addWidget(self.bar)
        box.addWidget(self.status)
        box.addStretch(1)
        self.reset()

    # ---- Public API

    @property
    def busy(self) -> bool:
        return self._busy

    def shown_urls(self) -> dict[str, str]:
        """What the fields start from: the running URLs, or newer ones kept in memory."""
        return {**current_urls(self.ctx.config), **self.ctx.pending_urls}

    @Slot()
    def reset(self) -> None:
        for section, url in self.shown_urls().items():
            set_text(self.edits[section], url)
            self.edits[section].setCursorPosition(0)  # the scheme and device name first
            self._mark(self.edits[section], False)
        self._set_status(str, "info")

    @Slot()
    def save(self) -> None:
        if self._busy:
            return
        before = self.shown_urls()
        changes = {s: e.text().strip() for s, e in self.edits.items() if e.text().strip() != before[s]}
        for edit in self.edits.values():
            self._mark(edit, False)
        if not changes:
            self._set_status(lambda: self.tr("Nothing has changed."), "info")
            return
        try:
            check(changes)
        except ConfigError as err:
            self._rejected(err, changes)
            return
        detail = "; ".join(f"{s}.url: {before[s]} -> {url}" for s, url in changes.items())
        path = self.ctx.config_path
        if path is None:
            self.ctx.pending_urls.update(changes)
            self.ctx.record("config_change", f"{detail} (memory only: no config file)")
            self._set_status(
                lambda: self.tr(
                    "Kept in memory only: the kiosk was started without a configuration file, so there is "
                    "nothing to write to. The change is lost when the kiosk restarts."
                ),
                "info",
            )
            return
        self._busy = True
        self._set_status(lambda: self.tr("Saving…"), "info")

        def work() -> str:
            try:
                save_urls(path, changes)
            except ConfigError as err:
                return str(err)
            except OSError as err:
                return f"{type(err).__name__}: {err.strerror or err}"
            return ""

        def done(error: str) -> None:
            self._busy = False
            if error:
                self._rejected(ConfigError(error), changes)
                return
            self.ctx.pending_urls.update(changes)
            self.ctx.record("config_change", f"{detail} (saved to {path})")
            self._set_status(lambda: self._saved_text(path), "ok")

        self.ctx.tasks.run(work, done)

    def retranslate(self) -> None:
        names = {
            "devices.id_reader": self.tr("ID-card reader"),
            "devices.insurance_card": self.tr("Insurance card reader"),
            "devices.scanner": self.tr("Code scanner"),
            "devices.printer": self.tr("Receipt printer"),
            "devices.camera": self.tr("Camera"),
        }
        config = self.ctx.config
        for section, widget in self.labels.items():
            name = names.get(section, section)
            if not getattr(config, section.removeprefix("devices.")).enabled:
                name = self.tr("{name} (not enabled)").format(name=name)
            set_text(widget, name)
        set_text(
            self.note,
            self.tr(
                "Device addresses (URLs). A change takes effect after the kiosk restarts. Typing needs a USB keyboard."
            ),
        )
        path = self.ctx.config_path
        if path is None:
            set_text(
                self.file_note, self.tr("No configuration file was given at start: changes are kept in memory only.")
            )
        else:
            set_text(self.file_note, self.tr("Configuration file: {path}").format(path=soft_wrap(str(path))))
        set_text(self.save_button, self.tr("Save"))
        set_text(self.reset_button, self.tr("Undo changes"))
        set_enabled(self.save_button, not self._busy)
        set_visible(self.bar, self._busy)
        text = self._status()
        set_text(self.status, text)
        set_visible(self.status, bool(text))

    def wipe(self) -> None:
        self.reset()

    # ---- Internals

    def _saved_text(self, path: Path) -> str:
        return self.tr("Saved to {path}. The change takes effect after the kiosk restarts.").format(
            path=soft_wrap(str(path))
        )

    def _rejected(self, err: ConfigError, changes: dict[str, str]) -> None:
        message = str(err)
        bad = [s for s in changes if message.startswith(s)] or list(changes)
        for section in bad:
            self._mark(self.edits[section], True)
        self.ctx.record("config_change_rejected", message[:200])
        self._set_status(lambda: self.tr("Not saved: {error}").format(error=soft_wrap(message)), "error")

    def _mark(self, edit: QLineEdit, invalid: bool) -> None:
        if bool(edit.property("invalid")) != invalid:
            edit.setProperty("invalid", invalid)
            repolish(edit)

    def _set_status(self, text: Callable[[], str], kind: str) -> None:
        self._status = text
        set_kind(self.status, kind)
        self.retranslate()
