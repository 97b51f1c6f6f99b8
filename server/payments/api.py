"""HTTP surface of the payment service: POST a payment, GET its state by idempotency key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from server.deps import PaymentsDep
from server.errors import ApiError
from server.payments.service import PaymentRequest

router = APIRouter(prefix="/api/v1", tags=["payments"])


@router.post("/payments", status_code=201)
def create_payment(req: PaymentRequest, payments: PaymentsDep) -> JSONResponse:
    """Answers after the first micropay reply (or its timeout); PENDING is resolved in the background."""
    status, body = payments.create(req)
    headers = {"Idempotent-Replayed": "true"} if status == 200 else {}
    return JSONResponse(status_code=status, content=body, headers=headers)


@router.get("/payments/{idempotency_key}")
def get_payment(idempotency_key: str, payments: PaymentsDep) -> dict[str, Any]:
    """404 ``not_found`` means the server never saw this key: a timed-out POST never arrived."""
    body = payments.get(idempotency_key)
    if body is None:
        raise ApiError(404, "not_found", "no payment with this idempotency_key")
    return body
