"""Report printing (报告打印): list lab and imaging reports, print each once, reprint with a reason."""

from __future__ import annotations

from kiosk_app.features.base import Feature
from kiosk_app.features.reports.flow import LIST, PRINTING, REASON, ReportsFlow
from kiosk_app.features.reports.screens import PrintingScreen, ReasonScreen, ReportListScreen, tile
from kiosk_app.features.reports.service import ReportsService
from kiosk_app.features.reports.tour import tour

FEATURE = Feature(
    name="reports",
    flow=ReportsFlow,
    service=ReportsService,
    screens={LIST: ReportListScreen, REASON: ReasonScreen, PRINTING: PrintingScreen},
    tile=tile,
    order=30,
    tour=tour,
)
