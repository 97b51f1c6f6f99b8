"""Appointment check-in (预约取号): today's bookings, check in, pay the fee, the slip with the queue number."""

from __future__ import annotations

from kiosk_app.features.base import Feature
from kiosk_app.features.checkin.flow import CHECKING_IN, CONFIRM, DONE, LIST, PAY, PAYING, CheckinFlow
from kiosk_app.features.checkin.screens import (
    CheckinConfirmScreen,
    CheckinDoneScreen,
    CheckinListScreen,
    CheckinPayScreen,
    tile,
)
from kiosk_app.features.checkin.service import CheckinService
from kiosk_app.features.checkin.tour import tour

FEATURE = Feature(
    name="checkin",
    flow=CheckinFlow,
    service=CheckinService,
    screens={
        LIST: CheckinListScreen,
        CONFIRM: CheckinConfirmScreen,
        CHECKING_IN: CheckinConfirmScreen,
        PAY: CheckinPayScreen,
        PAYING: CheckinPayScreen,
        DONE: CheckinDoneScreen,
    },
    tile=tile,
    order=10,
    tour=tour,
)
