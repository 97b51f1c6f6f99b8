"""HTTP surface of kiosk-shown QR payments: create one, cancel one. Its state: ``GET /payments/{key}``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from server.payments.api import IdempotencyKeyPath, PaymentView
from server.payments.qr import QrPaymentRequest
from server.schemas import error_responses

if TYPE_CHECKING:
    from server.payments.qr import QrPayments

router = APIRouter(prefix="/api/v1", tags=["payments"])


def get_qr(request: Request) -> QrPayments:
    return cast("QrPayments", request.app.state.qr_payments)


QrDep = Annotated["QrPayments", Depends(get_qr)]


@router.post(
    "/payments/qr",
    status_code=201,
    response_model=PaymentView,
    responses={
        200: {"model": PaymentView, "description": "A retry with the same key: the payment's current state"},
        **error_responses(404, 409, 422),
    },
)
def create_qr_payment(req: QrPaymentRequest, qr: QrDep) -> JSONResponse:
    """Make a provider order and answer its ``code_url`` (render it as a QR code) and ``expires_at``.

    ``status`` PENDING with ``qr_state`` ``awaiting_scan``: show the code and poll ``GET
    /payments/{key}``. FAILED: no code could be made (``error_code`` says why); nothing can be paid.
    """
    status, body = qr.create(req)
    headers = {"Idempotent-Replayed": "true"} if status == 200 else {}
    return JSONResponse(status_code=status, content=body, headers=headers)


@router.post(
    "/payments/{idempotency_key}/cancel",
    response_model=PaymentView,
    responses=error_responses(404, 409, 422),
)
def cancel_payment(idempotency_key: IdempotencyKeyPath, qr: QrDep) -> dict[str, Any]:
    """Close a QR payment's provider order. If it was paid meanwhile the answer is SUCCESS, never
    cancelled. PENDING (``qr_state`` closing) when the provider gave no definitive answer yet: poll.
    409 ``not_cancellable`` for a scanned-code payment (the server settles those itself)."""
    return qr.cancel(idempotency_key)
