"""The diagnostics page: tabs for devices, the log, the readiness report and device URLs, and Exit."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from kiosk_app.diagnostics.context import DiagnosticsContext
from kiosk_app.diagnostics.devices_panel import DevicesPanel
from kiosk_app.diagnostics.log_panel import LogPanel
from kiosk_app.diagnostics.report import app_version
from kiosk_app.diagnostics.report_panel import ReportPanel
from kiosk_app.diagnostics.settings_panel import SettingsPanel
from kiosk_app.diagnostics.widgets import set_text
from kiosk_app.screens.base import label

TABS = ("devices", "log", "report", "settings")


class DiagnosticsScreen(QWidget):
    sig_exit = Signal()
    """Exit was pressed: leave diagnostics for the kiosk's home screen."""

    def __init__(self, ctx: DiagnosticsContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.title = label("Title")
        self.subtitle = label("Subtitle")
        self.devices = DevicesPanel(ctx)
        self.log = LogPanel(ctx)
        self.report = ReportPanel(ctx)
        self.settings = SettingsPanel(ctx)
        self.panels: dict[str, QWidget] = {
            "devices": self.devices,
            "log": self.log,
            "report": self.report,
            "settings": self.settings,
        }
        self.pages = QStackedWidget()
        self.tab_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        tabs = QHBoxLayout()
        tabs.setSpacing(8)
        for name in TABS:
            self.pages.addWidget(self.panels[name])
            button = QPushButton()
            button.setObjectName("Tab")
            button.setCheckable(True)
            button.clicked.connect(lambda _=False, n=name: self.show_tab(n))
            group.addButton(button)
            tabs.addWidget(button, 1)
            self.tab_buttons[name] = button
        self.exit_button = QPushButton()
        self.exit_button.setObjectName("Nav")
        self.exit_button.clicked.connect(self.sig_exit)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles, 1)
        head.addWidget(self.exit_button)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.setSpacing(14)
        box.addLayout(head)
        box.addLayout(tabs)
        box.addWidget(self.pages, 1)
        self.show_tab("devices")
        self.retranslate()

    # ---- Public API

    @property
    def tab(self) -> str:
        return next(n for n, w in self.panels.items() if w is self.pages.currentWidget())

    @Slot(str)
    def show_tab(self, name: str) -> None:
        self.tab_buttons[name].setChecked(True)
        self.pages.setCurrentWidget(self.panels[name])

    def retranslate(self) -> None:
        set_text(self.title, self.tr("Diagnostics"))
        set_text(
            self.subtitle,
            self.tr("Kiosk {id} · version {version}").format(id=self.ctx.config.kiosk_id, version=app_version()),
        )
        texts = {
            "devices": self.tr("Devices"),
            "log": self.tr("Log"),
            "report": self.tr("Report"),
            "settings": self.tr("Settings"),
        }
        for name, button in self.tab_buttons.items():
            set_text(button, texts[name])
        set_text(self.exit_button, self.tr("Exit"))
        self.devices.retranslate()
        self.log.retranslate()
        self.report.retranslate()
        self.settings.retranslate()

    def wipe(self) -> None:
        """Forget what this visit showed, back to the first tab."""
        self.devices.wipe()
        self.log.wipe()
        self.report.wipe()
        self.settings.wipe()
        self.show_tab("devices")
