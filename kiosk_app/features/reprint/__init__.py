"""Receipt reprint (补打): a patient's recent slips from this kiosk's journal, copies marked and capped."""

from __future__ import annotations

from kiosk_app.features.base import Feature
from kiosk_app.features.reprint.flow import DONE, LIST, ReprintFlow
from kiosk_app.features.reprint.screens import ReprintDoneScreen, ReprintListScreen, tile
from kiosk_app.features.reprint.service import ReprintService
from kiosk_app.features.reprint.tour import tour

FEATURE = Feature(
    name="reprint",
    flow=ReprintFlow,
    service=ReprintService,
    screens={LIST: ReprintListScreen, DONE: ReprintDoneScreen},
    tile=tile,
    order=60,
    tour=tour,
)
