"""退号: a patient hands a paid registration back within the hospital's window; the fee is refunded."""

from __future__ import annotations

from kiosk_app.features.base import Feature
from kiosk_app.features.refund.flow import CONFIRM, DONE, LIST, REFUNDING, RefundFlow
from kiosk_app.features.refund.screens import (
    RefundConfirmScreen,
    RefundingScreen,
    RefundListScreen,
    RefundResultScreen,
    tile,
)
from kiosk_app.features.refund.service import RefundService
from kiosk_app.features.refund.tour import tour

FEATURE = Feature(
    name="refund",
    flow=RefundFlow,
    service=RefundService,
    screens={
        LIST: RefundListScreen,
        CONFIRM: RefundConfirmScreen,
        REFUNDING: RefundingScreen,
        DONE: RefundResultScreen,
    },
    tile=tile,
    order=50,
    tour=tour,
)
