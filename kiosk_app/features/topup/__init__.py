"""预交金充值: a patient sees the prepaid balance and tops it up with a phone payment code."""

from __future__ import annotations

from kiosk_app.features.base import Feature
from kiosk_app.features.topup.flow import AMOUNT, BALANCE, DONE, PAY, PAYING, TopUpFlow
from kiosk_app.features.topup.screens import (
    TopUpAmountScreen,
    TopUpBalanceScreen,
    TopUpPayScreen,
    TopUpResultScreen,
    tile,
)
from kiosk_app.features.topup.service import TopUpService
from kiosk_app.features.topup.tour import tour

FEATURE = Feature(
    name="topup",
    flow=TopUpFlow,
    service=TopUpService,
    screens={
        BALANCE: TopUpBalanceScreen,
        AMOUNT: TopUpAmountScreen,
        PAY: TopUpPayScreen,
        PAYING: TopUpPayScreen,
        DONE: TopUpResultScreen,
    },
    tile=tile,
    order=40,
    tour=tour,
)
