"""HTTP surface of the payment service: POST a payment, GET its state by idempotency key."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from server.deps import PaymentsDep
from server.errors import ApiError
from server.payments.service import PaymentRequest
from server.registrations import IDEMPOTENCY_KEY_PATTERN
from server.schemas import error_responses

router = APIRouter(prefix="/api/v1", tags=["payments"])

# A key the POST would refuse can never name a payment; checking it also keeps junk out of queries.
IdempotencyKeyPath = Annotated[str, Path(pattern=IDEMPOTENCY_KEY_PATTERN)]


class PaymentView(BaseModel):
    idempotency_key: str
    status: Literal["PENDING", "SUCCESS", "FAILED", "REVERSED"]
    error_code: str | None
    message: str
    registration_status: Literal["unpaid", "paid", "cancelled"] | None
    registration_id: int | None
    bill_id: int | None
    bill_status: Literal["unpaid", "locked", "paid", "cancelled"] | None
    top_up_patient_id: int | None = None  # a top-up of this patient's prepaid account (server/accounts/)
    channel: str
    amount_cents: int
    # A kiosk-shown QR payment (POST /payments/qr); None for a scanned payment code. While PENDING:
    # awaiting_scan, scanned (the payer is confirming on the phone) or closing (a cancel is under way).
    qr_state: Literal["awaiting_scan", "scanned", "closing"] | None = None
    code_url: str | None = None
    expires_at: str | None = None


@router.post(
    "/payments",
    status_code=201,
    response_model=PaymentView,
    responses={
        200: {"model": PaymentView, "description": "A retry with the same key: the payment's current state"},
        **error_responses(400, 404, 409, 422),
    },
)
def create_payment(req: PaymentRequest, payments: PaymentsDep) -> JSONResponse:
    """Answers after the first micropay reply (or its timeout); PENDING is resolved in the background."""
    status, body = payments.create(req)
    headers = {"Idempotent-Replayed": "true"} if status == 200 else {}
    return JSONResponse(status_code=status, content=body, headers=headers)


@router.get("/payments/{idempotency_key}", response_model=PaymentView, responses=error_responses(404, 422))
def get_payment(idempotency_key: IdempotencyKeyPath, payments: PaymentsDep) -> dict[str, Any]:
    """404 ``not_found`` means the server never saw this key: a timed-out POST never arrived."""
    body = payments.get(idempotency_key)
    if body is None:
        raise ApiError(404, "not_found", "no payment with this idempotency_key")
    return body
