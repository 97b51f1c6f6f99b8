"""The log viewer: the tail of ``<data_dir>/log/kiosk.log``, read in a worker, filtered by level."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor, QShowEvent, QSyntaxHighlighter, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QPlainTextEdit, QPushButton, QScroller, QVBoxLayout, QWidget

from kiosk_app import theme
from kiosk_app.diagnostics.context import DiagnosticsContext
from kiosk_app.diagnostics.logtail import LEVELS, LogTail, read_tail
from kiosk_app.diagnostics.widgets import set_text, soft_wrap
from kiosk_app.screens.base import label

log = logging.getLogger(__name__)

MAX_LINES = 400


class LevelHighlighter(QSyntaxHighlighter):
    """Warnings in amber and errors in red, so problems stand out in a long tail."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.formats: dict[str, QTextCharFormat] = {}
        for level, color in (("WARNING", theme.ACCENT), ("ERROR", theme.DANGER), ("CRITICAL", theme.DANGER)):
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(color))
            self.formats[level] = fmt

    def highlightBlock(self, text: str) -> None:
        parts = text.split(" ", 3)
        fmt = self.formats.get(parts[2]) if len(parts) > 2 else None
        if fmt is None and self.previousBlockState() > 0 and not text[:4].isdigit():
            fmt = self.formats["ERROR"]  # a traceback line under an error
        self.setCurrentBlockState(1 if fmt is not None and fmt is self.formats["ERROR"] else 0)
        if fmt is not None:
            self.setFormat(0, len(text), fmt)


class LogPanel(QWidget):
    def __init__(self, ctx: DiagnosticsContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.level = "INFO"
        self.tail: LogTail | None = None
        self._request = 0
        self._loading = False
        self._error = False

        self.level_label = label("DiagNote", wrap=False)
        self.level_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        levels = QHBoxLayout()
        levels.setSpacing(8)
        levels.addWidget(self.level_label)
        for name in LEVELS:
            button = QPushButton(name)
            button.setObjectName("Level")
            button.setCheckable(True)
            button.setChecked(name == self.level)
            button.clicked.connect(lambda _=False, n=name: self.set_level(n))
            group.addButton(button)
            levels.addWidget(button, 1)
            self.level_buttons[name] = button
        self.view = QPlainTextEdit()
        self.view.setObjectName("LogView")
        self.view.setReadOnly(True)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.view.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        QScroller.grabGesture(self.view.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture)
        self.highlighter = LevelHighlighter(self.view.document())
        self.info = label("DiagNote")
        self.refresh_button = QPushButton()
        self.refresh_button.setObjectName("Small")
        self.refresh_button.clicked.connect(self.load)
        bottom = QHBoxLayout()
        bottom.addWidget(self.info, 1)
        bottom.addWidget(self.refresh_button)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(10)
        box.addLayout(levels)
        box.addWidget(self.view, 1)
        box.addLayout(bottom)

    # ---- Public API

    @property
    def text(self) -> str:
        return self.view.toPlainText()

    @property
    def loading(self) -> bool:
        return self._loading

    @Slot(str)
    def set_level(self, level: str) -> None:
        self.level = level
        self.level_buttons[level].setChecked(True)
        self.load()

    @Slot()
    def load(self) -> None:
        """Read the tail in a worker; a newer request makes an older answer irrelevant."""
        self._request += 1
        request, path, level = self._request, self.ctx.log_path, self.level
        self._loading = True
        self.retranslate()

        def read() -> LogTail | None:
            try:
                return read_tail(path, level, max_lines=MAX_LINES)
            except OSError as err:
                log.warning("log viewer cannot read %s: %s", path, type(err).__name__)
                return None

        def done(tail: LogTail | None) -> None:
            if request != self._request:
                return
            self._loading = False
            self.tail, self._error = tail, tail is None
            self.view.setPlainText("\n".join(tail.lines) if tail is not None else "")
            self.view.moveCursor(QTextCursor.MoveOperation.End)
            self.view.ensureCursorVisible()
            self.retranslate()

        self.ctx.tasks.run(read, done)

    def retranslate(self) -> None:
        set_text(self.level_label, self.tr("Level:"))
        set_text(self.refresh_button, self.tr("Reload"))
        tail = self.tail
        if self._loading:
            text = self.tr("Reading the log…")
        elif self._error:
            text = self.tr("The log file could not be read: {path}").format(path=soft_wrap(str(self.ctx.log_path)))
        elif tail is None:
            text = ""
        elif not tail.exists:
            text = self.tr("There is no log file yet: {path}").format(path=soft_wrap(str(tail.path)))
        else:
            text = self.tr("{n} lines at {level} or above, newest last · {path}").format(
                n=len(tail.lines), level=self.level, path=soft_wrap(str(tail.path))
            )
        set_text(self.info, text)

    def wipe(self) -> None:
        self._request += 1
        self._loading, self._error, self.tail = False, False, None
        self.view.clear()
        self.retranslate()

    # ---- Qt overrides

    def showEvent(self, event: QShowEvent) -> None:
        self.load()  # fresh every time the tab is opened
        super().showEvent(event)
