"""Application factory: wires the store, the payment provider, the sandbox and the routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from server import audit, catalog, fleet, patients, registrations
from server.crypto import FieldCipher, load_or_create_key
from server.db import open_database
from server.errors import install_error_handlers
from server.payments import api as payments_api
from server.payments.sandbox import SandboxStore, make_sandbox_router
from server.payments.service import PaymentService
from server.payments.wechat import WeChatPayClient
from server.schemas import document_error_body
from server.seed import extend_schedules, seed_if_empty
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

    provider = WeChatPayClient(
        settings.provider_base_url,
        appid=settings.pay_appid,
        mch_id=settings.pay_mch_id,
        key=settings.merchant_key,
        connect_timeout=settings.provider_connect_timeout_s,
        read_timeout=settings.provider_read_timeout_s,
        client_cert=settings.pay_client_cert,
    )
    payments = PaymentService(db, provider, settings)
    sandbox = SandboxStore(
        key=settings.merchant_key,
        appid=settings.pay_appid,
        mch_id=settings.pay_mch_id,
        userpaying_s=settings.sandbox_userpaying_s,
        lost_response_s=settings.lost_response_s,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        payments.resume_pending()
        yield
        sandbox.stop()
        payments.shutdown()
        provider.close()
        db.close()

    app = FastAPI(title="Hospital kiosk server", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.db = db
    app.state.cipher = cipher
    app.state.payments = payments
    app.state.sandbox = sandbox
    install_error_handlers(app)
    document_error_body(app)

    @app.get("/health", response_model=Health)
    def health() -> dict[str, Any]:
        return {"status": "ok", "time": datetime.now().astimezone().isoformat(timespec="seconds")}

    app.include_router(catalog.router)
    app.include_router(patients.router)
    app.include_router(registrations.router)
    app.include_router(payments_api.router)
    app.include_router(fleet.router)
    app.include_router(audit.router)
    if settings.sandbox_enabled:
        app.include_router(make_sandbox_router(sandbox))
    return app
