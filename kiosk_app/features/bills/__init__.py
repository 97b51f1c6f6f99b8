"""Bill payment (缴费): unpaid prescriptions and tests, insurance pre-settlement, pay by code, QR or account."""

from __future__ import annotations

from kiosk_app.features.base import Feature
from kiosk_app.features.bills.flow import ACCOUNT, LIST, PAY, PAYING, PRESETTLE, QR, RESULT, BillsFlow
from kiosk_app.features.bills.screens import (
    AccountScreen,
    BillListScreen,
    BillResultScreen,
    PayCodeScreen,
    PresettleScreen,
    QrScreen,
    tile,
)
from kiosk_app.features.bills.service import BillsService
from kiosk_app.features.bills.tour import tour

FEATURE = Feature(
    name="bills",
    flow=BillsFlow,
    service=BillsService,
    screens={
        LIST: BillListScreen,
        PRESETTLE: PresettleScreen,
        PAY: PayCodeScreen,
        PAYING: PayCodeScreen,
        QR: QrScreen,
        ACCOUNT: AccountScreen,
        RESULT: BillResultScreen,
    },
    tile=tile,
    order=20,
    tour=tour,
)
