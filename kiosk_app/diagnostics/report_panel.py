"""Export readiness report: JSON plus text, to a USB stick if one is mounted, else on the kiosk."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import PySide6
from PySide6.QtCore import Qt, Slot, qVersion
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QScroller, QVBoxLayout, QWidget

from kiosk_app.diagnostics.context import DiagnosticsContext
from kiosk_app.diagnostics.report import (
    USB_SUBDIR,
    ReportInputs,
    app_version,
    build_report,
    find_usb_target,
    render_text,
    write_report,
)
from kiosk_app.diagnostics.widgets import set_enabled, set_kind, set_text, set_visible, soft_wrap
from kiosk_app.screens.base import busy_bar, label

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Exported:
    ok: bool
    json_path: Path | None = None
    text_path: Path | None = None
    on_usb: bool = False
    text: str = ""
    error: str = ""
    ready: bool = False


class ReportPanel(QWidget):
    def __init__(self, ctx: DiagnosticsContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.result: Exported | None = None
        self._busy = False
        self._status: Callable[[], str] = str
        self.explain = label("DiagNote")
        self.export_button = QPushButton()
        self.export_button.setObjectName("Primary")
        self.export_button.clicked.connect(self.export)
        self.bar = busy_bar()
        self.status = label("DiagStatus")
        self.preview = QPlainTextEdit()
        self.preview.setObjectName("ReportView")
        self.preview.setReadOnly(True)
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        QScroller.grabGesture(self.preview.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture)
        row = QHBoxLayout()
        row.addWidget(self.export_button, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(12)
        box.addWidget(self.explain)
        box.addLayout(row)
        box.addWidget(self.bar)
        box.addWidget(self.status)
        box.addWidget(self.preview, 1)
        self.retranslate()

    # ---- Public API

    @property
    def busy(self) -> bool:
        return self._busy

    @Slot()
    def export(self) -> None:
        if self._busy:
            return
        ctx, config = self.ctx, self.ctx.config
        inputs = ReportInputs(  # what the GUI thread knows; the rest is read in the worker
            kiosk_id=config.kiosk_id,
            hospital=config.hospital_name_en,
            server_url=config.server_url,
            app_version=app_version(),
            qt_version=qVersion(),
            pyside_version=PySide6.__version__,
            devices=[d.status() for d in ctx.devices],
            data_dir=config.data_dir,
            log_path=ctx.log_path,
            sync=ctx.sync_status.status if ctx.sync_status is not None else None,
        )
        fixed, find_usb, journal, sync = ctx.report_dir, ctx.find_usb or find_usb_target, ctx.journal, ctx.sync_status
        local = config.data_dir / "reports"

        def work() -> Exported:
            try:
                usb = None if fixed is not None else find_usb()
                target = fixed or (usb / USB_SUBDIR if usb is not None else local)
                report = build_report(inputs, journal, queue=sync.stats() if sync is not None else None)
                json_path, text_path = write_report(report, target)
                return Exported(True, json_path, text_path, usb is not None, render_text(report), ready=report["ready"])
            except Exception as err:
                log.exception("readiness report failed")
                return Exported(False, error=f"{type(err).__name__}: {err}")

        self._busy = True
        self.result = None
        self.preview.clear()
        self._set_status(lambda: self.tr("Writing the report…"), "info")
        self.ctx.tasks.run(work, self._done)

    def retranslate(self) -> None:
        set_text(
            self.explain,
            self.tr(
                "Device states, software versions, free disk space, the connection to the hospital system and "
                "the offline queue, recent transactions by state and recent errors, as JSON and as text. "
                "No patient data. Saved to a USB stick if one is plugged in, otherwise on the kiosk."
            ),
        )
        set_text(self.export_button, self.tr("Export readiness report"))
        set_enabled(self.export_button, not self._busy)
        set_visible(self.bar, self._busy)
        text = self._status()
        set_text(self.status, text)
        set_visible(self.status, bool(text))

    def wipe(self) -> None:
        self.result = None
        self.preview.clear()
        self._set_status(str, "info")

    # ---- Internals

    def _set_status(self, text: Callable[[], str], kind: str) -> None:
        self._status = text
        set_kind(self.status, kind)
        self.retranslate()

    def _done(self, result: Exported) -> None:
        self._busy = False
        self.result = result
        if result.ok and result.json_path is not None:
            self.ctx.record("report_export", f"{result.json_path.parent} ({'usb' if result.on_usb else 'local'})")
            self._set_status(self._saved_text, "ok" if result.ready else "info")
            self.preview.setPlainText(result.text)
        else:
            self.ctx.record("report_export_failed", result.error[:200])
            error = result.error
            self._set_status(lambda: self.tr("The report could not be saved: {error}").format(error=error), "error")

    def _saved_text(self) -> str:
        r = self.result
        if r is None or r.json_path is None or r.text_path is None:
            return ""
        folder = soft_wrap(str(r.json_path.parent))
        where = self.tr("Saved to the USB stick: {folder}") if r.on_usb else self.tr("Saved on the kiosk: {folder}")
        verdict = self.tr("All devices are ready.") if r.ready else self.tr("Not every device is ready.")
        return f"{verdict}\n{where.format(folder=folder)}\n{r.json_path.name}\n{r.text_path.name}"
