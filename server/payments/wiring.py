"""Builds the payment service with one provider per channel, and the sandboxes that stand in for them.

Which provider is real is configuration only (server/settings.py): with no base URL the adapter
talks to the sandbox mounted in this same server; with one, to the provider. Merchant keys are
read here, on the server, and never sent to kiosks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter

from server.bills.service import BillService
from server.dashboard.tables import add_work_item
from server.db import Store
from server.payments.alipay import AlipayClient
from server.payments.alipay_provider import AlipayMicropay
from server.payments.alipay_sandbox import AlipaySandboxStore, make_alipay_sandbox_router
from server.payments.qr import QrPayments
from server.payments.qr_providers import AlipayQr, QrProvider, WeChatNative
from server.payments.sandbox import SandboxStore, make_sandbox_router
from server.payments.sandbox_native import NativeSandbox, make_native_sandbox_router
from server.payments.service import PaymentService, PayProvider
from server.payments.wechat import WeChatPayClient
from server.refunds.providers import AlipayRefunds, RefundProvider, WeChatRefunds
from server.refunds.service import RefundService
from server.settings import ServerSettings

logger = logging.getLogger(__name__)


@dataclass
class PaymentStack:
    service: PaymentService
    providers: dict[str, PayProvider]
    wechat: WeChatPayClient
    alipay: AlipayClient
    wechat_sandbox: SandboxStore
    alipay_sandbox: AlipaySandboxStore | None = None
    routers: list[APIRouter] = field(default_factory=list)
    qr: QrPayments | None = None  # kiosk-shown QR payments (WeChat Native, Alipay precreate)
    wechat_native_sandbox: NativeSandbox | None = None  # the WeChat sandbox's Native orders (the payer's phone)
    refunds: RefundService | None = None  # refunds of these payments, through the same provider clients

    def stop_sandboxes(self) -> None:
        """Release withheld sandbox answers, so a shutdown never waits for them."""
        self.wechat_sandbox.stop()
        if self.alipay_sandbox is not None:
            self.alipay_sandbox.stop()

    def close(self) -> None:
        self.stop_sandboxes()
        self.service.shutdown()
        if self.refunds is not None:
            self.refunds.shutdown()
        for provider in self.providers.values():
            provider.close()


def _new_key_pem() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = serialization.Encoding.PEM
    private = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = key.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def _alipay(settings: ServerSettings) -> tuple[AlipayClient, AlipaySandboxStore | None]:
    if settings.alipay_gateway_url:
        if settings.alipay_private_key_path is None or settings.alipay_public_key_path is None:
            raise RuntimeError("alipay_gateway_url needs alipay_private_key_path and alipay_public_key_path")
        client = AlipayClient(
            settings.alipay_gateway_url,
            app_id=settings.alipay_app_id,
            private_key_pem=settings.alipay_private_key_path.read_bytes(),
            alipay_public_key_pem=settings.alipay_public_key_path.read_bytes(),
            connect_timeout=settings.provider_connect_timeout_s,
            read_timeout=settings.provider_read_timeout_s,
        )
        return client, None
    # Sandbox: fresh key pairs per start, held in memory only (nothing real to protect).
    merchant_private, merchant_public = _new_key_pem()
    sandbox = AlipaySandboxStore(
        app_id=settings.alipay_app_id,
        merchant_public_key_pem=merchant_public,
        waiting_s=settings.sandbox_userpaying_s,
        lost_response_s=settings.lost_response_s,
    )
    client = AlipayClient(
        f"{settings.base_url}/sandbox/alipay/gateway.do",
        app_id=settings.alipay_app_id,
        private_key_pem=merchant_private,
        alipay_public_key_pem=sandbox.public_key_pem,
        connect_timeout=settings.provider_connect_timeout_s,
        read_timeout=settings.provider_read_timeout_s,
    )
    return client, sandbox


def build_payments(settings: ServerSettings, db: Store, bills: BillService | None) -> PaymentStack:
    wechat = WeChatPayClient(
        settings.provider_base_url,
        appid=settings.pay_appid,
        mch_id=settings.pay_mch_id,
        key=settings.merchant_key,
        connect_timeout=settings.provider_connect_timeout_s,
        read_timeout=settings.provider_read_timeout_s,
        client_cert=settings.pay_client_cert,
    )
    wechat_sandbox = SandboxStore(
        key=settings.merchant_key,
        appid=settings.pay_appid,
        mch_id=settings.pay_mch_id,
        userpaying_s=settings.sandbox_userpaying_s,
        lost_response_s=settings.lost_response_s,
    )
    alipay_client, alipay_sandbox = _alipay(settings)
    providers: dict[str, PayProvider] = {"wechat": wechat, "alipay": AlipayMicropay(alipay_client)}
    service = PaymentService(db, providers, settings, bills)
    stack = PaymentStack(service, providers, wechat, alipay_client, wechat_sandbox, alipay_sandbox)
    refund_providers: dict[str, RefundProvider] = {
        "wechat": WeChatRefunds(wechat),
        "alipay": AlipayRefunds(alipay_client),
    }
    stack.refunds = RefundService(db, refund_providers, settings, add_work_item)
    # WeChat requires a notify_url; the server does not rely on notifications but polls orderquery.
    notify_url = f"{settings.base_url}/api/v1/payments/notify/wechat"
    qr_providers: dict[str, QrProvider] = {
        "wechat": WeChatNative(wechat, notify_url=notify_url),
        "alipay": AlipayQr(alipay_client),
    }
    stack.qr = QrPayments(db, service, qr_providers, settings)
    stack.wechat_native_sandbox = NativeSandbox(wechat_sandbox)
    if settings.sandbox_enabled:
        stack.routers.append(make_sandbox_router(wechat_sandbox))
        stack.routers.append(make_native_sandbox_router(stack.wechat_native_sandbox))
        if alipay_sandbox is not None:
            stack.routers.append(make_alipay_sandbox_router(alipay_sandbox))
    return stack
