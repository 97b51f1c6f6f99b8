"""Application factory: wires the store, the payment provider, the sandbox and the routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel

from server import audit, catalog, filing, find_patient, fleet, patients, registrations, sync_ops
from server.accounts import api as accounts_api
from server.accounts.service import AccountService
from server.appointments import api as appointments_api
from server.auth import kiosks as kiosk_auth
from server.auth import staff
from server.bills import api as bills_api
from server.bills.insurance import DemoInsurance
from server.bills.service import BillService
from server.cashier import api as cashier_api
from server.cashier.demo import ensure_demo_cashiers
from server.crypto import FieldCipher, load_or_create_key
from server.dashboard.routes import router as dashboard_router
from server.dashboard.tables import add_work_item
from server.db import open_database
from server.errors import install_error_handlers
from server.find_patient import EVoucherSandbox
from server.payments import api as payments_api
from server.payments import qr_api
from server.payments.wiring import build_payments
from server.reconcile import api as reconcile_api
from server.reconcile.job import Reconciler
from server.refunds import api as refunds_api
from server.refunds.registration import RegistrationRefunds
from server.reports import api as reports_api
from server.schemas import document_error_body
from server.seed import extend_schedules, seed_demo_patients, seed_if_empty
from server.settings import ServerSettings

logger = logging.getLogger(__name__)


class Health(BaseModel):
    status: str
    time: str


def create_app(settings: ServerSettings) -> FastAPI:
    """Build the app. The database is created (and seeded when empty) here, before serving."""
    # Loaded once: the key stays in this process's memory, never in the database or the logs.
    cipher = FieldCipher(load_or_create_key(settings.resolved_key_path))
    db = open_database(settings.database_url or settings.db_path)
    db.init(cipher)
    if settings.seed_demo:
        with db.connection() as conn:
            if not seed_if_empty(conn, settings.seed_today):
                extend_schedules(conn, settings.seed_today)
    if settings.seed_demo and settings.seed_demo_patients:
        with db.connection() as conn:
            seed_demo_patients(conn, cipher, settings)
    if settings.demo_admin_password:
        with db.connection() as conn:
            if staff.ensure_staff(conn, "admin", settings.demo_admin_password, "admin"):
                logger.warning("demo: created the staff account 'admin' (demo only; never in production)")
            ensure_demo_cashiers(conn, cipher)  # the cashier window's demo staff (server/cashier/demo.py)
    if not settings.require_signed_requests:
        logger.warning("require_signed_requests is off: kiosk endpoints accept unsigned requests")

    bills = BillService(db, DemoInsurance(), settings.bill_lock_ttl_s)
    stack = build_payments(settings, db, bills)
    payments = stack.service

    anchor = audit.Anchor(settings.resolved_audit_anchor_path)
    with db.connection() as conn:
        if not anchor.check(conn):  # started on a restored or cut-off database: say so loudly, keep serving
            logger.error("the audit log is missing entries recorded in %s", anchor.path)
    anchor_keeper = audit.AnchorKeeper(anchor, db)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        payments.resume_pending()
        _app.state.refunds.resume_pending()
        anchor_keeper.start()
        yield
        anchor_keeper.stop()
        stack.close()
        db.close()

    app = FastAPI(title="Hospital kiosk server", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.db = db
    app.state.cipher = cipher
    app.state.payments = payments
    app.state.payment_stack = stack
    app.state.sandbox = stack.wechat_sandbox
    app.state.alipay_sandbox = stack.alipay_sandbox
    app.state.bills = bills
    app.state.qr_payments = stack.qr  # kiosk-shown QR payments (server/payments/qr.py)
    app.state.refunds = stack.refunds  # refunds and 退号 (server/refunds/)
    app.state.registration_refunds = RegistrationRefunds(stack.refunds) if stack.refunds is not None else None
    app.state.accounts = AccountService(db, payments, bills, settings)
    app.state.audit_anchor = anchor
    app.state.reconciler = Reconciler(db, stack.wechat, stack.alipay, add_work_item)
    # The insurance platform's e-voucher query; the sandbox stands in for it (demo, tests).
    app.state.evoucher = EVoucherSandbox() if settings.sandbox_enabled else None
    install_error_handlers(app)
    document_error_body(app)

    @app.get("/health", response_model=Health)
    def health() -> dict[str, Any]:
        return {"status": "ok", "time": datetime.now().astimezone().isoformat(timespec="seconds")}

    # Kiosk-facing: every request signed by an enrolled kiosk (server/auth/kiosks.py).
    signed = [Depends(kiosk_auth.require_kiosk)]
    kiosk_routers = (
        catalog.router,
        patients.router,
        filing.router,
        find_patient.router,
        registrations.router,
        sync_ops.router,
        qr_api.router,  # before payments_api: POST /payments/qr is not a payment key
        payments_api.router,
        bills_api.router,
        refunds_api.router,
        appointments_api.router,
        reports_api.router,
        accounts_api.router,
        cashier_api.router,  # the cashier window (server/cashier/)
    )
    for kiosk_router in (*kiosk_routers, fleet.router):
        app.include_router(kiosk_router, dependencies=signed, responses=kiosk_auth.KIOSK_ERRORS)
    # Operators: staff sessions with a role (server/auth/staff.py).
    app.include_router(
        fleet.operator_router,
        dependencies=[Depends(staff.require_staff("admin", "technician"))],
        responses=staff.STAFF_ERRORS,
    )
    admin_only = [Depends(staff.require_staff("admin"))]
    app.include_router(audit.router, dependencies=admin_only, responses=staff.STAFF_ERRORS)
    app.include_router(reconcile_api.router, dependencies=admin_only, responses=staff.STAFF_ERRORS)
    # Enrollment (open: a kiosk has no credential yet), kiosk administration, staff sign-in.
    app.include_router(kiosk_auth.router)
    app.include_router(kiosk_auth.admin_router)
    app.include_router(staff.router)
    app.include_router(dashboard_router)  # the admin web pages (server/dashboard/)
    for sandbox_router in stack.routers:  # the providers' sandboxes, when enabled
        app.include_router(sandbox_router)
    if settings.sandbox_enabled:
        app.include_router(find_patient.sandbox_router)
    return app
