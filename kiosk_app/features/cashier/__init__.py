"""The cashier window mode (``python main.py --role cashier``): staff sign in, settle patients' bills
and registrations by payment code, cash or bank card, refund with a supervisor's PIN, and close
the shift with a report reconciled against the server (server/cashier/)."""

from __future__ import annotations

from kiosk_app.features.base import Feature
from kiosk_app.features.cashier.commands import (
    APPROVE,
    CARD,
    CASH,
    CLOSED,
    CLOSING,
    CODE,
    IDENTIFY,
    ITEMS,
    PAID,
    PAYING,
    REFUND,
    REFUNDED,
    REFUNDING,
    REPORT,
    SIGNIN,
    TAKE,
)
from kiosk_app.features.cashier.flow import CashierFlow
from kiosk_app.features.cashier.screens_patient import (
    CardScreen,
    CashierIdentifyScreen,
    CashScreen,
    CodeScreen,
    ItemsScreen,
    PaidScreen,
    PayingScreen,
    TakeScreen,
)
from kiosk_app.features.cashier.screens_refund import ApproveScreen, RefundedScreen, RefundingScreen, RefundScreen
from kiosk_app.features.cashier.screens_staff import ClosedScreen, ReportScreen, SignInScreen, tile
from kiosk_app.features.cashier.service import CashierService
from kiosk_app.features.cashier.tour import tour

FEATURE = Feature(
    name="cashier",
    flow=CashierFlow,
    service=CashierService,
    screens={
        SIGNIN: SignInScreen,
        IDENTIFY: CashierIdentifyScreen,  # replaces the patients' identify screen: staff type numbers
        ITEMS: ItemsScreen,
        TAKE: TakeScreen,
        CODE: CodeScreen,
        CASH: CashScreen,
        CARD: CardScreen,
        PAYING: PayingScreen,
        PAID: PaidScreen,
        REFUND: RefundScreen,
        APPROVE: ApproveScreen,
        REFUNDING: RefundingScreen,
        REFUNDED: RefundedScreen,
        REPORT: ReportScreen,
        CLOSING: ReportScreen,
        CLOSED: ClosedScreen,
    },
    tile=tile,
    order=900,
    tour=tour,
    on_home=False,  # a mode of its own (--role cashier), never a tile patients can touch
)
